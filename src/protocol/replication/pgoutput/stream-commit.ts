import { lsnField, timeField, unusedFlags, xidField } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Stream Commit (Byte1('c')):
 *   Int32 (TransactionId) — Xid of the transaction.
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The LSN of the commit.
 *   Int64 (XLogRecPtr) — The end LSN of the transaction.
 *   Int64 (TimestampTz) — Commit timestamp of the transaction.
 */
export const streamCommit: PgoutputDecoder = {
  name: 'Stream Commit',
  sub: 'StreamCommit',
  decode(r) {
    xidField(r);
    unusedFlags(r, 'Stream Commit');
    lsnField(r, 'commit LSN', 'LSN of the commit');
    lsnField(r, 'end LSN', 'end LSN of the transaction');
    timeField(r, 'commit timestamp');
  },
};
