import type { ReplicationState } from '../context.js';
import type { Reader } from '../reader.js';
import { plural } from '../values.js';
import { lsnField, timeField } from './fields.js';
import { decodePgoutput } from './pgoutput/index.js';

/**
 * XLogData (B, Byte1('w')):
 *   Int64 — The starting point of the WAL data in this message.
 *   Int64 — The current end of WAL on the server.
 *   Int64 — The server's system clock at the time of transmission, as microseconds since
 *     midnight on 2000-01-01.
 *   Byten — A section of the WAL data stream.
 * Physical replication: raw WAL, shown as bytes (never decoded into WAL records). Logical
 * replication: the output plugin's data; with pgoutput one message of the "Logical
 * Replication Message Formats", decoded as a group of child spans.
 * Returns the nested names after 'XLogData' (the pgoutput message's, or none).
 */
export function xlogData(r: Reader, state: ReplicationState): string[] {
  lsnField(r, 'WAL start', 'start of WAL data');
  lsnField(r, 'WAL end', 'current end of WAL on the server');
  timeField(r, 'send time', 'server clock at transmission');
  if (state.kind === 'physical') {
    const n = r.remaining;
    r.rest('WAL data', `WAL data (${plural(n, 'byte')} of raw WAL, not decoded)`);
    return [];
  }
  if (!state.pgoutput) {
    r.rest('WAL data', 'logical decoding output (text)');
    return [];
  }
  const n = r.remaining;
  const sub = r.group('WAL data', () => r.within(n, 'pgoutput message', () => decodePgoutput(r, state)), 'pgoutput message');
  return [sub];
}
