import { lsnField, timeField, unusedFlags, xidField } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

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
export const rollbackPrepared: PgoutputDecoder = {
  name: 'Rollback Prepared',
  sub: 'RollbackPrepared',
  decode(r) {
    unusedFlags(r, 'Rollback Prepared');
    lsnField(r, 'prepare end LSN', 'end LSN of the prepared transaction');
    lsnField(r, 'rollback end LSN', 'end LSN of the rollback of the prepared transaction');
    timeField(r, 'prepare timestamp');
    timeField(r, 'rollback timestamp');
    xidField(r);
    r.cstring('GID', 'GID of the prepared transaction');
  },
};
