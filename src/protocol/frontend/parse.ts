import type { MessageDecoder } from '../decoder.js';
import { describeTypeOid } from '../type-names.js';
import { readCount, readObjectName } from './fields.js';

/**
 * Parse (F, 'P'):
 *   String — "The name of the destination prepared statement (an empty string selects the
 *            unnamed prepared statement)."
 *   String — "The query string to be parsed."
 *   Int16  — "The number of parameter data types specified (can be zero). Note that this is
 *            not an indication of the number of parameters that might appear in the query
 *            string, only the number that the frontend wants to prespecify types for."
 *   Int32[] — "Specifies the object ID of the parameter data type. Placing a zero here is
 *            equivalent to leaving the type unspecified."
 */
export const parse: MessageDecoder = {
  name: 'Parse',
  decode(r) {
    readObjectName(r, 'destination prepared statement', 'prepared statement', 'destination');
    r.cstring('query string', 'query string to be parsed');
    r.group('parameter types', () => {
      const n = readCount(r, 'number of parameter data types', 4, (c) =>
        c === 0 ? 'no parameter data types specified' : c === 1 ? '1 parameter data type specified' : `${c} parameter data types specified`,
      );
      const oids: number[] = [];
      // OIDs are unsigned 32-bit.
      for (let i = 0; i < n; i++) oids.push(r.uint32('parameter type OID', (oid) => `$${i + 1}: ${describeTypeOid(oid)}`));
      return oids;
    });
  },
};
