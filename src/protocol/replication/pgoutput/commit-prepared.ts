import { int64At, num, span, text, uint64At } from '../../spans.js';
import { lsnField, timeField, unusedFlags, xidField } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

/** Commit Prepared (its Int8 flags are "currently unused": always 0). */
export interface CommitPrepared {
  /** The LSN of the commit of the prepared transaction. */
  commitLsn: bigint;
  /** The end LSN of the commit of the prepared transaction. */
  endLsn: bigint;
  /** Commit timestamp of the transaction: microseconds since 2000-01-01. */
  commitTimestamp: bigint;
  /** Xid of the transaction. */
  xid: number;
  /** The user defined GID of the prepared transaction. */
  gid: string;
}

/**
 * Commit Prepared (Byte1('K')):
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The LSN of the commit of the prepared transaction.
 *   Int64 (XLogRecPtr) — The end LSN of the commit of the prepared transaction.
 *   Int64 (TimestampTz) — Commit timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   String — The user defined GID of the prepared transaction.
 */
export const commitPrepared: PgoutputCodec<CommitPrepared> = {
  name: 'Commit Prepared',
  sub: 'CommitPrepared',
  type: 'K',
  readsContext: false,
  decode(r) {
    unusedFlags(r, 'Commit Prepared');
    lsnField(r, 'commit LSN', 'LSN of the commit of the prepared transaction');
    lsnField(r, 'end LSN', 'end LSN of the commit of the prepared transaction');
    timeField(r, 'commit timestamp');
    xidField(r);
    r.cstring('GID', 'GID of the prepared transaction');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, commitPrepared);
    return {
      commitLsn: uint64At(m, span(m, s, 'commit LSN')),
      endLsn: uint64At(m, span(m, s, 'end LSN')),
      commitTimestamp: int64At(m, span(m, s, 'commit timestamp')),
      xid: num(m, span(m, s, 'xid')),
      gid: text(m, span(m, s, 'GID')),
    };
  },
  encode(f) {
    return writePgoutput(commitPrepared, (w) => {
      w.uint8(0, 'flags');
      w.uint64(f.commitLsn, 'commit LSN');
      w.uint64(f.endLsn, 'end LSN');
      w.int64(f.commitTimestamp, 'commit timestamp');
      w.uint32(f.xid, 'xid');
      w.cstring(f.gid, 'GID');
    });
  },
};
