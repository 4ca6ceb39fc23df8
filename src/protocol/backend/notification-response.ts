import type { MessageDecoder } from '../decoder.js';

/**
 * NotificationResponse (B, 'A'): a NOTIFY on a channel this session LISTENs on.
 *   Int32 — "The process ID of the notifying backend process."
 *   String — "The name of the channel that the notify has been raised on."
 *   String — "The "payload" string passed from the notifying process."
 */
export const notificationResponse: MessageDecoder = {
  name: 'NotificationResponse',
  decode(r) {
    r.int32('process ID', (pid) => `notifying backend process ${pid}`);
    r.cstring('channel', 'channel name');
    r.cstring('payload', (p) => (p === '' ? 'empty payload' : 'payload'));
  },
};
