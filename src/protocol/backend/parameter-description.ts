import type { MessageDecoder } from '../decoder.js';
import { describeTypeOid } from '../type-names.js';
import { readCount } from './counts.js';

/**
 * ParameterDescription (B, 't'): the answer to Describe of a prepared statement.
 *   Int16 — "The number of parameters used by the statement (can be zero)."
 *   then for each: Int32 — "Specifies the object ID of the parameter data type."
 * The count is read unsigned: a statement may have up to 65535 parameters, which the
 * server writes into these 16 bits as is (libpq reads them unsigned too). OIDs are
 * unsigned 32-bit numbers.
 */
export const parameterDescription: MessageDecoder = {
  name: 'ParameterDescription',
  decode(r) {
    const n = readCount(r, 'uint16', 'number of parameters', 'parameter type', 4);
    for (let i = 1; i <= n; i++) {
      r.uint32('parameter type OID', (oid) => `parameter $${i}: ${describeTypeOid(oid)}`);
    }
  },
};
