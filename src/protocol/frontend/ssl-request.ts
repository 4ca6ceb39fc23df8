import type { MessageCodec } from '../decoder.js';
import { SSL_REQUEST_CODE } from '../framer.js';
import { wholeSpans } from '../spans.js';
import { writeStartupPacket } from '../writer.js';

/** SSLRequest has no fields (its code is fixed). */
export type SSLRequest = Record<string, never>;

/**
 * SSLRequest (F): Int32(8) length (read by decodeFrame), then Int32(80877103) — "The SSL
 * request code. The value is chosen to contain 1234 in the most significant 16 bits, and
 * 5679 in the least significant 16 bits." The server answers with one byte, 'S' or 'N'.
 */
export const sslRequest: MessageCodec<SSLRequest> = {
  name: 'SSLRequest',
  readsContext: false,
  decode(r) {
    r.int32('SSL request code', 'SSL request code (1234/5679): asks the server to switch to TLS');
  },
  fields(m) {
    wholeSpans(m, 'SSLRequest', m.frame.kind === 'startup' && m.name === 'SSLRequest');
    return {};
  },
  encode() {
    return writeStartupPacket('SSLRequest', (w) => w.int32(SSL_REQUEST_CODE, 'SSL request code'), 8);
  },
};
