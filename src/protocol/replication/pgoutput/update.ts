import { childrenOf, chr, maybeSpan, num, span } from '../../spans.js';
import { streamedXid } from '../fields.js';
import { pgoutputFieldSpans, streamedXidOf, writePgoutput, writeStreamedXid, type PgoutputCodec } from './decoder.js';
import { tupleColumnsOf, tupleData, writeTuple, type TupleColumn } from './tuple-data.js';

/** The old values an Update or Delete carries: the key ('K', replica identity index) or the whole old tuple ('O', full). */
export interface OldTuple {
  kind: 'K' | 'O';
  tuple: TupleColumn[];
}

export interface Update {
  /** Xid of the transaction: only in a streamed transaction (protocol 2+). */
  xid?: number;
  /** OID of the relation corresponding to the OID in the relation message. */
  relationOid: number;
  /** The old key or tuple, when the update changed the key (K) or the replica identity is full (O). */
  old?: OldTuple;
  /** The contents of the new tuple. */
  newTuple: TupleColumn[];
}

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
export const update: PgoutputCodec<Update> = {
  name: 'Update',
  sub: 'Update',
  type: 'U',
  readsContext: true,
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
  fields(m) {
    const s = pgoutputFieldSpans(m, update);
    const f: Update = { ...streamedXidOf(m, s), relationOid: num(m, span(m, s, 'relation OID')), newTuple: tupleColumnsOf(m, childrenOf(m, span(m, s, 'new tuple'))) };
    const old = maybeSpan(s, 'old key') ?? maybeSpan(s, 'old tuple');
    if (old) {
      const c = childrenOf(m, old);
      f.old = { kind: chr(m, span(m, c, 'tuple kind')) as 'K' | 'O', tuple: tupleColumnsOf(m, c) };
    }
    return f;
  },
  encode(f) {
    return writePgoutput(update, (w) => {
      writeStreamedXid(w, f.xid);
      w.uint32(f.relationOid, 'relation OID');
      if (f.old) {
        if (f.old.kind !== 'K' && f.old.kind !== 'O') w.fail('tuple kind', `'K' (old key) or 'O' (old tuple), got ${JSON.stringify(f.old.kind)}`);
        writeTuple(w, f.old.kind, f.old.tuple);
      }
      writeTuple(w, 'N', f.newTuple);
    });
  },
};
