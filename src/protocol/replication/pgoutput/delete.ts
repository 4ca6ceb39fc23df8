import { childrenOf, chr, maybeSpan, num, span } from '../../spans.js';
import { streamedXid } from '../fields.js';
import { pgoutputFieldSpans, streamedXidOf, writePgoutput, writeStreamedXid, type PgoutputCodec } from './decoder.js';
import { tupleColumnsOf, tupleData, writeTuple } from './tuple-data.js';
import type { OldTuple } from './update.js';

export interface Delete {
  /** Xid of the transaction: only in a streamed transaction (protocol 2+). */
  xid?: number;
  /** OID of the relation corresponding to the OID in the relation message. */
  relationOid: number;
  /** The old key ('K', replica identity index) or the whole old tuple ('O', full). */
  old: OldTuple;
}

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
export const del: PgoutputCodec<Delete> = {
  name: 'Delete',
  sub: 'Delete',
  type: 'D',
  readsContext: true,
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
  fields(m) {
    const s = pgoutputFieldSpans(m, del);
    const old = maybeSpan(s, 'old key') ?? span(m, s, 'old tuple');
    const c = childrenOf(m, old);
    return { ...streamedXidOf(m, s), relationOid: num(m, span(m, s, 'relation OID')), old: { kind: chr(m, span(m, c, 'tuple kind')) as 'K' | 'O', tuple: tupleColumnsOf(m, c) } };
  },
  encode(f) {
    return writePgoutput(del, (w) => {
      writeStreamedXid(w, f.xid);
      w.uint32(f.relationOid, 'relation OID');
      if (f.old.kind !== 'K' && f.old.kind !== 'O') w.fail('tuple kind', `'K' (old key) or 'O' (old tuple), got ${JSON.stringify(f.old.kind)}`);
      writeTuple(w, f.old.kind, f.old.tuple);
    });
  },
};
