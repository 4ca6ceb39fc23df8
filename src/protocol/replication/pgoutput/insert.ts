import { childrenOf, num, span } from '../../spans.js';
import { streamedXid } from '../fields.js';
import { pgoutputFieldSpans, streamedXidOf, writePgoutput, writeStreamedXid, type PgoutputCodec } from './decoder.js';
import { tupleColumnsOf, tupleData, writeTuple, type TupleColumn } from './tuple-data.js';

export interface Insert {
  /** Xid of the transaction: only in a streamed transaction (protocol 2+). */
  xid?: number;
  /** OID of the relation corresponding to the OID in the relation message. */
  relationOid: number;
  /** The contents of the new tuple. */
  newTuple: TupleColumn[];
}

/**
 * Insert (Byte1('I')):
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int32 (Oid) — OID of the relation corresponding to the OID in the relation message.
 *   Byte1('N') — Identifies the following TupleData message as a new tuple.
 *   TupleData — TupleData message part representing the contents of new tuple.
 */
export const insert: PgoutputCodec<Insert> = {
  name: 'Insert',
  sub: 'Insert',
  type: 'I',
  readsContext: true,
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
  fields(m) {
    const s = pgoutputFieldSpans(m, insert);
    return { ...streamedXidOf(m, s), relationOid: num(m, span(m, s, 'relation OID')), newTuple: tupleColumnsOf(m, childrenOf(m, span(m, s, 'new tuple'))) };
  },
  encode(f) {
    return writePgoutput(insert, (w) => {
      writeStreamedXid(w, f.xid);
      w.uint32(f.relationOid, 'relation OID');
      writeTuple(w, 'N', f.newTuple);
    });
  },
};
