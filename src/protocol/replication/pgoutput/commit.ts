import { int64At, span, uint64At } from '../../spans.js';
import { lsnField, timeField, unusedFlags } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

/** Commit (its Int8 flags are "currently unused": always 0). */
export interface Commit {
  /** The LSN of the commit. */
  commitLsn: bigint;
  /** The end LSN of the transaction. */
  endLsn: bigint;
  /** Commit timestamp of the transaction: microseconds since 2000-01-01. */
  commitTimestamp: bigint;
}

/**
 * Commit (Byte1('C')):
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The LSN of the commit.
 *   Int64 (XLogRecPtr) — The end LSN of the transaction.
 *   Int64 (TimestampTz) — Commit timestamp of the transaction.
 */
export const commit: PgoutputCodec<Commit> = {
  name: 'Commit',
  sub: 'Commit',
  type: 'C',
  readsContext: false,
  decode(r) {
    unusedFlags(r, 'Commit');
    lsnField(r, 'commit LSN', 'LSN of the commit');
    lsnField(r, 'end LSN', 'end LSN of the transaction');
    timeField(r, 'commit timestamp');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, commit);
    return { commitLsn: uint64At(m, span(m, s, 'commit LSN')), endLsn: uint64At(m, span(m, s, 'end LSN')), commitTimestamp: int64At(m, span(m, s, 'commit timestamp')) };
  },
  encode(f) {
    return writePgoutput(commit, (w) => {
      w.uint8(0, 'flags');
      w.uint64(f.commitLsn, 'commit LSN');
      w.uint64(f.endLsn, 'end LSN');
      w.int64(f.commitTimestamp, 'commit timestamp');
    });
  },
};
