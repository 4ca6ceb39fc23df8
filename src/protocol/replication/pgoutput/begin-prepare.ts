import { int64At, num, span, text, uint64At } from '../../spans.js';
import { lsnField, timeField, xidField } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

export interface BeginPrepare {
  /** The LSN of the prepare. */
  prepareLsn: bigint;
  /** The end LSN of the prepared transaction. */
  endLsn: bigint;
  /** Prepare timestamp of the transaction: microseconds since 2000-01-01. */
  prepareTimestamp: bigint;
  /** Xid of the transaction. */
  xid: number;
  /** The user defined GID of the prepared transaction. */
  gid: string;
}

/**
 * Begin Prepare (Byte1('b')), protocol version 3+ with two_phase on:
 *   Int64 (XLogRecPtr) — The LSN of the prepare.
 *   Int64 (XLogRecPtr) — The end LSN of the prepared transaction.
 *   Int64 (TimestampTz) — Prepare timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   String — The user defined GID of the prepared transaction.
 */
export const beginPrepare: PgoutputCodec<BeginPrepare> = {
  name: 'Begin Prepare',
  sub: 'BeginPrepare',
  type: 'b',
  readsContext: false,
  decode(r) {
    lsnField(r, 'prepare LSN', 'LSN of the prepare');
    lsnField(r, 'end LSN', 'end LSN of the prepared transaction');
    timeField(r, 'prepare timestamp');
    xidField(r);
    r.cstring('GID', 'GID of the prepared transaction');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, beginPrepare);
    return {
      prepareLsn: uint64At(m, span(m, s, 'prepare LSN')),
      endLsn: uint64At(m, span(m, s, 'end LSN')),
      prepareTimestamp: int64At(m, span(m, s, 'prepare timestamp')),
      xid: num(m, span(m, s, 'xid')),
      gid: text(m, span(m, s, 'GID')),
    };
  },
  encode(f) {
    return writePgoutput(beginPrepare, (w) => {
      w.uint64(f.prepareLsn, 'prepare LSN');
      w.uint64(f.endLsn, 'end LSN');
      w.int64(f.prepareTimestamp, 'prepare timestamp');
      w.uint32(f.xid, 'xid');
      w.cstring(f.gid, 'GID');
    });
  },
};
