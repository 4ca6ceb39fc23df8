import { describeTypeOid } from '../../type-names.js';
import { streamedXid } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Type (Byte1('Y')), sent before the first Relation that uses a non-built-in type:
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int32 (Oid) — OID of the data type.
 *   String — Namespace (empty string for pg_catalog).
 *   String — Name of the data type.
 */
export const type: PgoutputDecoder = {
  name: 'Type',
  sub: 'Type',
  decode(r, state) {
    streamedXid(r, state);
    r.uint32('type OID', describeTypeOid);
    r.cstring('namespace', (ns) => (ns === '' ? 'namespace: pg_catalog (empty string)' : undefined));
    r.cstring('type name', 'data type name');
  },
};
