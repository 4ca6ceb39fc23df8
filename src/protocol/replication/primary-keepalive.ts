import type { Reader } from '../reader.js';
import { booleanByte, lsnField, timeField } from './fields.js';

/**
 * Primary keepalive message (B, Byte1('k')):
 *   Int64 — The current end of WAL on the server.
 *   Int64 — The server's system clock at the time of transmission, as microseconds since
 *     midnight on 2000-01-01.
 *   Byte1 — 1 means that the client should reply to this message as soon as possible, to
 *     avoid a timeout disconnect. 0 otherwise.
 */
export function primaryKeepalive(r: Reader): void {
  lsnField(r, 'WAL end', 'current end of WAL on the server');
  timeField(r, 'send time', 'server clock at transmission');
  booleanByte(r, 'reply requested', 'reply requested: the client should reply as soon as possible', 'no reply requested');
}
