import type { Reader } from '../reader.js';
import { int64At, num, span, uint64At } from '../spans.js';
import { writePayload } from '../writer.js';
import { replicationSpans, type ReplicationCodec } from './codec.js';
import { booleanByte, lsnField, timeField } from './fields.js';

export interface PrimaryKeepalive {
  /** The current end of WAL on the server. */
  walEnd: bigint;
  /** The server's system clock at the time of transmission: microseconds since 2000-01-01. */
  sendTime: bigint;
  /** The client should reply as soon as possible, to avoid a timeout disconnect. */
  replyRequested: boolean;
}

/**
 * Primary keepalive message (B, Byte1('k')):
 *   Int64 — The current end of WAL on the server.
 *   Int64 — The server's system clock at the time of transmission, as microseconds since
 *     midnight on 2000-01-01.
 *   Byte1 — 1 means that the client should reply to this message as soon as possible, to
 *     avoid a timeout disconnect. 0 otherwise.
 */
function decodePrimaryKeepalive(r: Reader): void {
  lsnField(r, 'WAL end', 'current end of WAL on the server');
  timeField(r, 'send time', 'server clock at transmission');
  booleanByte(r, 'reply requested', 'reply requested: the client should reply as soon as possible', 'no reply requested');
}

export const primaryKeepalive: ReplicationCodec<PrimaryKeepalive> = {
  name: 'primary keepalive',
  type: 'k',
  sub: 'PrimaryKeepalive',
  direction: 'backend',
  readsContext: false,
  decode: decodePrimaryKeepalive,
  fields(m) {
    const spans = replicationSpans(m, primaryKeepalive);
    return {
      walEnd: uint64At(m, span(m, spans, 'WAL end')),
      sendTime: int64At(m, span(m, spans, 'send time')),
      replyRequested: num(m, span(m, spans, 'reply requested')) === 1,
    };
  },
  encode(f) {
    return writePayload('primary keepalive', (w) => {
      w.char('k', 'type');
      w.uint64(f.walEnd, 'WAL end');
      w.int64(f.sendTime, 'send time');
      w.uint8(f.replyRequested ? 1 : 0, 'reply requested');
    }, 18);
  },
};
