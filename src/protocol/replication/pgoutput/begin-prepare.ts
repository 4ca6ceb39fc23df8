import { lsnField, timeField, xidField } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Begin Prepare (Byte1('b')), protocol version 3+ with two_phase on:
 *   Int64 (XLogRecPtr) — The LSN of the prepare.
 *   Int64 (XLogRecPtr) — The end LSN of the prepared transaction.
 *   Int64 (TimestampTz) — Prepare timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   String — The user defined GID of the prepared transaction.
 */
export const beginPrepare: PgoutputDecoder = {
  name: 'Begin Prepare',
  sub: 'BeginPrepare',
  decode(r) {
    lsnField(r, 'prepare LSN', 'LSN of the prepare');
    lsnField(r, 'end LSN', 'end LSN of the prepared transaction');
    timeField(r, 'prepare timestamp');
    xidField(r);
    r.cstring('GID', 'GID of the prepared transaction');
  },
};
