import { streamedXid } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';
import { tupleData } from './tuple-data.js';

/**
 * Insert (Byte1('I')):
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int32 (Oid) — OID of the relation corresponding to the OID in the relation message.
 *   Byte1('N') — Identifies the following TupleData message as a new tuple.
 *   TupleData — TupleData message part representing the contents of new tuple.
 */
export const insert: PgoutputDecoder = {
  name: 'Insert',
  sub: 'Insert',
  decode(r, state) {
    streamedXid(r, state);
    r.uint32('relation OID');
    r.group(
      'new tuple',
      () => {
        const n = r.char('tuple kind', (c) => (c === 'N' ? 'new tuple follows' : 'not a new tuple marker'));
        if (n !== 'N') r.fail('bad-value', `Insert: 'N' (new tuple), got ${JSON.stringify(n)}`, r.pos - 1);
        tupleData(r, 'Insert new tuple');
      },
      'new tuple',
    );
  },
};
