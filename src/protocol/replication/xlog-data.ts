import type { ReplicationState } from '../context.js';
import type { Reader } from '../reader.js';
import { bytesOf, int64At, span, uint64At } from '../spans.js';
import { plural } from '../values.js';
import { writePayload } from '../writer.js';
import { replicationSpans, type ReplicationCodec } from './codec.js';
import { WAL_DATA, lsnField, timeField } from './fields.js';
import { decodePgoutput } from './pgoutput/index.js';

export interface XLogData {
  /** The starting point of the WAL data in this message. */
  walStart: bigint;
  /** The current end of WAL on the server. */
  walEnd: bigint;
  /** The server's system clock at the time of transmission: microseconds since 2000-01-01. */
  sendTime: bigint;
  /** "A section of the WAL data stream": raw WAL, or the output plugin's message (pgoutput's own codecs read it). */
  data: Buffer;
}

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
function decodeXLogData(r: Reader, state: ReplicationState): string[] {
  lsnField(r, 'WAL start', 'start of WAL data');
  lsnField(r, 'WAL end', 'current end of WAL on the server');
  timeField(r, 'send time', 'server clock at transmission');
  if (state.kind === 'physical') {
    const n = r.remaining;
    r.rest(WAL_DATA, `WAL data (${plural(n, 'byte')} of raw WAL, not decoded)`);
    return [];
  }
  if (!state.pgoutput) {
    r.rest(WAL_DATA, 'logical decoding output (text)');
    return [];
  }
  const n = r.remaining;
  const sub = r.group(WAL_DATA, () => r.within(n, 'pgoutput message', () => decodePgoutput(r, state)), 'pgoutput message');
  return [sub];
}

export const xlogData: ReplicationCodec<XLogData> = {
  name: 'XLogData',
  type: 'w',
  sub: 'XLogData',
  direction: 'backend',
  // Physical WAL, plugin text or a pgoutput message (whose fields depend on the stream state).
  readsContext: true,
  decode: decodeXLogData,
  fields(m) {
    const spans = replicationSpans(m, xlogData);
    return {
      walStart: uint64At(m, span(m, spans, 'WAL start')),
      walEnd: uint64At(m, span(m, spans, 'WAL end')),
      sendTime: int64At(m, span(m, spans, 'send time')),
      data: bytesOf(m, span(m, spans, WAL_DATA)),
    };
  },
  encode(f) {
    return writePayload('XLogData', (w) => {
      w.char('w', 'type');
      w.uint64(f.walStart, 'WAL start');
      w.uint64(f.walEnd, 'WAL end');
      w.int64(f.sendTime, 'send time');
      w.bytes(f.data, 'WAL data');
    }, 25 + f.data.length);
  },
};
