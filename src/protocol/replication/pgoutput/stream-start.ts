import { num, span } from '../../spans.js';
import { booleanByte, xidField } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

export interface StreamStart {
  /** Xid of the transaction. */
  xid: number;
  /** This is the first stream segment for this XID. */
  firstSegment: boolean;
}

/**
 * Stream Start (Byte1('S')), protocol version 2+ with streaming on: the changes of an
 * in-progress transaction follow, each carrying its xid, until Stream Stop.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   Int8 — A value of 1 indicates this is the first stream segment for this XID, 0 for
 *     any other stream segment.
 */
export const streamStart: PgoutputCodec<StreamStart> = {
  name: 'Stream Start',
  sub: 'StreamStart',
  type: 'S',
  readsContext: false,
  decode(r) {
    xidField(r);
    booleanByte(r, 'first segment', 'first stream segment for this xid', 'not the first stream segment for this xid');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, streamStart);
    return { xid: num(m, span(m, s, 'xid')), firstSegment: num(m, span(m, s, 'first segment')) === 1 };
  },
  encode(f) {
    return writePgoutput(streamStart, (w) => {
      w.uint32(f.xid, 'xid');
      w.uint8(f.firstSegment ? 1 : 0, 'first segment');
    });
  },
};
