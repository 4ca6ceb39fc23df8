import type { Reader } from '../reader.js';
import { booleanByte, lsnField, timeField } from './fields.js';

/**
 * Standby status update (F, Byte1('r')):
 *   Int64 — The location of the last WAL byte + 1 received and written to disk in the
 *     standby.
 *   Int64 — The location of the last WAL byte + 1 flushed to disk in the standby.
 *   Int64 — The location of the last WAL byte + 1 applied in the standby.
 *   Int64 — The client's system clock at the time of transmission, as microseconds since
 *     midnight on 2000-01-01.
 *   Byte1 — If 1, the client requests the server to reply to this message immediately.
 *     This can be used to ping the server, to test if the connection is still healthy.
 */
export function standbyStatusUpdate(r: Reader): void {
  lsnField(r, 'written LSN', 'written to disk up to');
  lsnField(r, 'flushed LSN', 'flushed to disk up to');
  lsnField(r, 'applied LSN', 'applied up to');
  timeField(r, 'send time', 'client clock at transmission');
  booleanByte(r, 'reply requested', 'reply requested: the server should reply immediately', 'no reply requested');
}
