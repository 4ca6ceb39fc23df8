import { lsnField, timeField, unusedFlags, xidField } from '../fields.js';
import type { Reader } from '../../reader.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * The fields shared by Prepare and Stream Prepare:
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The LSN of the prepare.
 *   Int64 (XLogRecPtr) — The end LSN of the prepared transaction.
 *   Int64 (TimestampTz) — Prepare timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   String — The user defined GID of the prepared transaction.
 */
export function prepareFields(r: Reader, what: string): void {
  unusedFlags(r, what);
  lsnField(r, 'prepare LSN', 'LSN of the prepare');
  lsnField(r, 'end LSN', 'end LSN of the prepared transaction');
  timeField(r, 'prepare timestamp');
  xidField(r);
  r.cstring('GID', 'GID of the prepared transaction');
}

/** Prepare (Byte1('P')), protocol version 3+ with two_phase on: see prepareFields. */
export const prepare: PgoutputDecoder = {
  name: 'Prepare',
  sub: 'Prepare',
  decode(r) {
    prepareFields(r, 'Prepare');
  },
};
