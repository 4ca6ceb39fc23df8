import type { MessageCodec } from '../decoder.js';
import { GSSENC_REQUEST_CODE } from '../framer.js';
import { wholeSpans } from '../spans.js';
import { writeStartupPacket } from '../writer.js';

/** GSSENCRequest has no fields (its code is fixed). */
export type GSSENCRequest = Record<string, never>;

/**
 * GSSENCRequest (F): Int32(8) length (read by decodeFrame), then Int32(80877104) — "The
 * GSSAPI Encryption request code. The value is chosen to contain 1234 in the most
 * significant 16 bits, and 5680 in the least significant 16 bits." The server answers
 * with one byte, 'G' or 'N'.
 */
export const gssencRequest: MessageCodec<GSSENCRequest> = {
  name: 'GSSENCRequest',
  readsContext: false,
  decode(r) {
    r.int32('GSSAPI encryption request code', 'GSSAPI encryption request code (1234/5680): the client asks for GSSAPI encryption');
  },
  fields(m) {
    wholeSpans(m, 'GSSENCRequest', m.frame.kind === 'startup' && m.name === 'GSSENCRequest');
    return {};
  },
  encode() {
    return writeStartupPacket('GSSENCRequest', (w) => w.int32(GSSENC_REQUEST_CODE, 'GSSAPI encryption request code'), 8);
  },
};
