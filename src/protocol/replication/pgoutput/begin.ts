import { lsnField, timeField, xidField } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Begin (Byte1('B')):
 *   Int64 (XLogRecPtr) — The final LSN of the transaction.
 *   Int64 (TimestampTz) — Commit timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 */
export const begin: PgoutputDecoder = {
  name: 'Begin',
  sub: 'Begin',
  decode(r) {
    lsnField(r, 'final LSN', 'final LSN of the transaction');
    timeField(r, 'commit timestamp');
    xidField(r);
  },
};
