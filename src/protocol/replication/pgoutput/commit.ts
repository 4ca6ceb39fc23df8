import { lsnField, timeField, unusedFlags } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Commit (Byte1('C')):
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The LSN of the commit.
 *   Int64 (XLogRecPtr) — The end LSN of the transaction.
 *   Int64 (TimestampTz) — Commit timestamp of the transaction.
 */
export const commit: PgoutputDecoder = {
  name: 'Commit',
  sub: 'Commit',
  decode(r) {
    unusedFlags(r, 'Commit');
    lsnField(r, 'commit LSN', 'LSN of the commit');
    lsnField(r, 'end LSN', 'end LSN of the transaction');
    timeField(r, 'commit timestamp');
  },
};
