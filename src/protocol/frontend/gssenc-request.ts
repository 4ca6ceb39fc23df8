import type { MessageDecoder } from '../decoder.js';

/**
 * GSSENCRequest (F): Int32(8) length (read by decodeFrame), then Int32(80877104) — "The
 * GSSAPI Encryption request code. The value is chosen to contain 1234 in the most
 * significant 16 bits, and 5680 in the least significant 16 bits." The server answers
 * with one byte, 'G' or 'N'.
 */
export const gssencRequest: MessageDecoder = {
  name: 'GSSENCRequest',
  decode(r) {
    r.int32('GSSAPI encryption request code', 'GSSAPI encryption request code (1234/5680): the client asks for GSSAPI encryption');
  },
};
