import { int64At, num, span, text, uint64At } from '../../spans.js';
import { lsnField, timeField, unusedFlags, xidField } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

/** Rollback Prepared (its Int8 flags are "currently unused": always 0). */
export interface RollbackPrepared {
  /** The end LSN of the prepared transaction. */
  prepareEndLsn: bigint;
  /** The end LSN of the rollback of the prepared transaction. */
  rollbackEndLsn: bigint;
  /** Prepare timestamp of the transaction: microseconds since 2000-01-01. */
  prepareTimestamp: bigint;
  /** Rollback timestamp of the transaction: microseconds since 2000-01-01. */
  rollbackTimestamp: bigint;
  /** Xid of the transaction. */
  xid: number;
  /** The user defined GID of the prepared transaction. */
  gid: string;
}

/**
 * Rollback Prepared (Byte1('r')):
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The end LSN of the prepared transaction.
 *   Int64 (XLogRecPtr) — The end LSN of the rollback of the prepared transaction.
 *   Int64 (TimestampTz) — Prepare timestamp of the transaction.
 *   Int64 (TimestampTz) — Rollback timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   String — The user defined GID of the prepared transaction.
 */
export const rollbackPrepared: PgoutputCodec<RollbackPrepared> = {
  name: 'Rollback Prepared',
  sub: 'RollbackPrepared',
  type: 'r',
  readsContext: false,
  decode(r) {
    unusedFlags(r, 'Rollback Prepared');
    lsnField(r, 'prepare end LSN', 'end LSN of the prepared transaction');
    lsnField(r, 'rollback end LSN', 'end LSN of the rollback of the prepared transaction');
    timeField(r, 'prepare timestamp');
    timeField(r, 'rollback timestamp');
    xidField(r);
    r.cstring('GID', 'GID of the prepared transaction');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, rollbackPrepared);
    return {
      prepareEndLsn: uint64At(m, span(m, s, 'prepare end LSN')),
      rollbackEndLsn: uint64At(m, span(m, s, 'rollback end LSN')),
      prepareTimestamp: int64At(m, span(m, s, 'prepare timestamp')),
      rollbackTimestamp: int64At(m, span(m, s, 'rollback timestamp')),
      xid: num(m, span(m, s, 'xid')),
      gid: text(m, span(m, s, 'GID')),
    };
  },
  encode(f) {
    return writePgoutput(rollbackPrepared, (w) => {
      w.uint8(0, 'flags');
      w.uint64(f.prepareEndLsn, 'prepare end LSN');
      w.uint64(f.rollbackEndLsn, 'rollback end LSN');
      w.int64(f.prepareTimestamp, 'prepare timestamp');
      w.int64(f.rollbackTimestamp, 'rollback timestamp');
      w.uint32(f.xid, 'xid');
      w.cstring(f.gid, 'GID');
    });
  },
};
