import { lsnField, timeField, unusedFlags, xidField } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Commit Prepared (Byte1('K')):
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The LSN of the commit of the prepared transaction.
 *   Int64 (XLogRecPtr) — The end LSN of the commit of the prepared transaction.
 *   Int64 (TimestampTz) — Commit timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   String — The user defined GID of the prepared transaction.
 */
export const commitPrepared: PgoutputDecoder = {
  name: 'Commit Prepared',
  sub: 'CommitPrepared',
  decode(r) {
    unusedFlags(r, 'Commit Prepared');
    lsnField(r, 'commit LSN', 'LSN of the commit of the prepared transaction');
    lsnField(r, 'end LSN', 'end LSN of the commit of the prepared transaction');
    timeField(r, 'commit timestamp');
    xidField(r);
    r.cstring('GID', 'GID of the prepared transaction');
  },
};
