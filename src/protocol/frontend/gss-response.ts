import type { MessageCodec } from '../decoder.js';
import { bodyOf, isMessage, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';
import { renameMessage } from './fields.js';

export interface GSSResponse {
  /** "GSSAPI/SSPI specific message data." */
  data: Buffer;
}

/**
 * GSSResponse (F, 'p'), answering AuthenticationGSS (7), AuthenticationGSSContinue (8) or
 * AuthenticationSSPI (9): Byten — "GSSAPI/SSPI specific message data." Marked secret: an
 * SSPI exchange may carry an NTLM response, which can be attacked offline.
 */
export const gssResponse: MessageCodec<GSSResponse> = {
  name: 'GSSResponse',
  readsContext: false,
  decode(r) {
    renameMessage(r, 'GSSResponse');
    r.rest('data', 'GSSAPI/SSPI specific message data', { secret: true });
  },
  fields(m) {
    wholeSpans(m, 'GSSResponse', isMessage(m, 'frontend', 'p') && m.name === 'GSSResponse');
    return { data: bodyOf(m) };
  },
  encode(f) {
    return writeMessage('p', 'GSSResponse', (w) => w.bytes(f.data, 'data'), 5 + f.data.length);
  },
};
