import type { MessageDecoder } from '../decoder.js';

/**
 * SSLRequest (F): Int32(8) length (read by decodeFrame), then Int32(80877103) — "The SSL
 * request code. The value is chosen to contain 1234 in the most significant 16 bits, and
 * 5679 in the least significant 16 bits." The server answers with one byte, 'S' or 'N'.
 */
export const sslRequest: MessageDecoder = {
  name: 'SSLRequest',
  decode(r) {
    r.int32('SSL request code', 'SSL request code (1234/5679): asks the server to switch to TLS');
  },
};
