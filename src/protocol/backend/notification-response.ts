import type { MessageCodec } from '../decoder.js';
import { isMessage, num, span, text, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';

export interface NotificationResponse {
  /** "The process ID of the notifying backend process." */
  processId: number;
  /** "The name of the channel that the notify has been raised on." */
  channel: string;
  /** "The "payload" string passed from the notifying process." */
  payload: string;
}

/**
 * NotificationResponse (B, 'A'): a NOTIFY on a channel this session LISTENs on.
 *   Int32 — "The process ID of the notifying backend process."
 *   String — "The name of the channel that the notify has been raised on."
 *   String — "The "payload" string passed from the notifying process."
 */
export const notificationResponse: MessageCodec<NotificationResponse> = {
  name: 'NotificationResponse',
  readsContext: false,
  decode(r) {
    r.int32('process ID', (pid) => `notifying backend process ${pid}`);
    r.cstring('channel', 'channel name');
    r.cstring('payload', (p) => (p === '' ? 'empty payload' : 'payload'));
  },
  fields(m) {
    const spans = wholeSpans(m, 'NotificationResponse', isMessage(m, 'backend', 'A'));
    return { processId: num(m, span(m, spans, 'process ID')), channel: text(m, span(m, spans, 'channel')), payload: text(m, span(m, spans, 'payload')) };
  },
  encode(f) {
    return writeMessage('A', 'NotificationResponse', (w) => {
      w.int32(f.processId, 'process ID');
      w.cstring(f.channel, 'channel');
      w.cstring(f.payload, 'payload');
    });
  },
};
