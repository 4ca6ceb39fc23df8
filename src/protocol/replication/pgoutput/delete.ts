import { streamedXid } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';
import { tupleData } from './tuple-data.js';

/**
 * Delete (Byte1('D')):
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int32 (Oid) — OID of the relation corresponding to the OID in the relation message.
 *   Byte1('K') — Identifies the following TupleData submessage as a key. This field is
 *     present if the table in which the delete has happened uses an index as REPLICA
 *     IDENTITY.
 *   Byte1('O') — Identifies the following TupleData message as an old tuple. This field is
 *     present if the table in which the delete happened has REPLICA IDENTITY set to FULL.
 *   TupleData — TupleData message part representing the contents of the old tuple or
 *     primary key, depending on the previous field.
 */
export const del: PgoutputDecoder = {
  name: 'Delete',
  sub: 'Delete',
  decode(r, state) {
    streamedXid(r, state);
    r.uint32('relation OID');
    const next = r.peekByte();
    const old = next === 0x4f /* O */ ? 'old tuple' : 'old key';
    r.group(
      old,
      () => {
        const k = r.char('tuple kind', (c) => (c === 'K' ? 'old key follows' : c === 'O' ? 'old tuple follows' : 'not a tuple marker'));
        if (k !== 'K' && k !== 'O') r.fail('bad-value', `Delete: 'K' (old key) or 'O' (old tuple), got ${JSON.stringify(k)}`, r.pos - 1);
        tupleData(r, `Delete ${old}`);
      },
      old,
    );
  },
};
