import { streamedXid } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';
import { tupleData } from './tuple-data.js';

/**
 * Update (Byte1('U')):
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int32 (Oid) — OID of the relation corresponding to the OID in the relation message.
 *   Byte1('K') — Identifies the following TupleData submessage as a key. This field is
 *     optional and is only present if the update changed data in any of the column(s)
 *     that are part of the REPLICA IDENTITY index.
 *   Byte1('O') — Identifies the following TupleData submessage as an old tuple. This field
 *     is optional and is only present if table in which the update happened has REPLICA
 *     IDENTITY set to FULL.
 *   TupleData — TupleData message part representing the contents of the old tuple or
 *     primary key. Only present if the previous 'O' or 'K' part is present.
 *   Byte1('N') — Identifies the following TupleData message as a new tuple.
 *   TupleData — TupleData message part representing the contents of a new tuple.
 */
export const update: PgoutputDecoder = {
  name: 'Update',
  sub: 'Update',
  decode(r, state) {
    streamedXid(r, state);
    r.uint32('relation OID');
    const next = r.peekByte();
    if (next === 0x4b /* K */ || next === 0x4f /* O */) {
      const old = next === 0x4b ? 'old key' : 'old tuple';
      r.group(
        old,
        () => {
          r.char('tuple kind', (c) => (c === 'K' ? 'old key follows' : 'old tuple follows'));
          tupleData(r, `Update ${old}`);
        },
        old,
      );
    }
    r.group(
      'new tuple',
      () => {
        const n = r.char('tuple kind', (c) => (c === 'N' ? 'new tuple follows' : 'not a tuple marker'));
        if (n !== 'N') r.fail('bad-value', `Update: 'K' (old key), 'O' (old tuple) or 'N' (new tuple), got ${JSON.stringify(n)}`, r.pos - 1);
        tupleData(r, 'Update new tuple');
      },
      'new tuple',
    );
  },
};
