import { int64At, num, span, uint64At } from '../../spans.js';
import { lsnField, timeField, xidField } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

export interface Begin {
  /** The final LSN of the transaction. */
  finalLsn: bigint;
  /** Commit timestamp of the transaction: microseconds since 2000-01-01. */
  commitTimestamp: bigint;
  /** Xid of the transaction. */
  xid: number;
}

/**
 * Begin (Byte1('B')):
 *   Int64 (XLogRecPtr) — The final LSN of the transaction.
 *   Int64 (TimestampTz) — Commit timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 */
export const begin: PgoutputCodec<Begin> = {
  name: 'Begin',
  sub: 'Begin',
  type: 'B',
  readsContext: false,
  decode(r) {
    lsnField(r, 'final LSN', 'final LSN of the transaction');
    timeField(r, 'commit timestamp');
    xidField(r);
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, begin);
    return { finalLsn: uint64At(m, span(m, s, 'final LSN')), commitTimestamp: int64At(m, span(m, s, 'commit timestamp')), xid: num(m, span(m, s, 'xid')) };
  },
  encode(f) {
    return writePgoutput(begin, (w) => {
      w.uint64(f.finalLsn, 'final LSN');
      w.int64(f.commitTimestamp, 'commit timestamp');
      w.uint32(f.xid, 'xid');
    });
  },
};
