import { lsnField } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Origin (Byte1('O')), sent when the transaction was replicated from another node:
 *   Int64 (XLogRecPtr) — The LSN of the commit on the origin server.
 *   String — Name of the origin.
 * Note that there can be multiple Origin messages inside a single transaction.
 */
export const origin: PgoutputDecoder = {
  name: 'Origin',
  sub: 'Origin',
  decode(r) {
    lsnField(r, 'origin commit LSN', 'LSN of the commit on the origin server');
    r.cstring('origin name');
  },
};
