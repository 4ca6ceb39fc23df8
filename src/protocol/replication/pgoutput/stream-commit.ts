import { int64At, num, span, uint64At } from '../../spans.js';
import { lsnField, timeField, unusedFlags, xidField } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

/** Stream Commit (its Int8 flags are "currently unused": always 0). */
export interface StreamCommit {
  /** Xid of the transaction. */
  xid: number;
  /** The LSN of the commit. */
  commitLsn: bigint;
  /** The end LSN of the transaction. */
  endLsn: bigint;
  /** Commit timestamp of the transaction: microseconds since 2000-01-01. */
  commitTimestamp: bigint;
}

/**
 * Stream Commit (Byte1('c')):
 *   Int32 (TransactionId) — Xid of the transaction.
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The LSN of the commit.
 *   Int64 (XLogRecPtr) — The end LSN of the transaction.
 *   Int64 (TimestampTz) — Commit timestamp of the transaction.
 */
export const streamCommit: PgoutputCodec<StreamCommit> = {
  name: 'Stream Commit',
  sub: 'StreamCommit',
  type: 'c',
  readsContext: false,
  decode(r) {
    xidField(r);
    unusedFlags(r, 'Stream Commit');
    lsnField(r, 'commit LSN', 'LSN of the commit');
    lsnField(r, 'end LSN', 'end LSN of the transaction');
    timeField(r, 'commit timestamp');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, streamCommit);
    return {
      xid: num(m, span(m, s, 'xid')),
      commitLsn: uint64At(m, span(m, s, 'commit LSN')),
      endLsn: uint64At(m, span(m, s, 'end LSN')),
      commitTimestamp: int64At(m, span(m, s, 'commit timestamp')),
    };
  },
  encode(f) {
    return writePgoutput(streamCommit, (w) => {
      w.uint32(f.xid, 'xid');
      w.uint8(0, 'flags');
      w.uint64(f.commitLsn, 'commit LSN');
      w.uint64(f.endLsn, 'end LSN');
      w.int64(f.commitTimestamp, 'commit timestamp');
    });
  },
};
