import type { MessageDecoder } from '../decoder.js';
import { renameMessage } from './fields.js';

/**
 * GSSResponse (F, 'p'), answering AuthenticationGSS (7), AuthenticationGSSContinue (8) or
 * AuthenticationSSPI (9): Byten — "GSSAPI/SSPI specific message data." Marked secret: an
 * SSPI exchange may carry an NTLM response, which can be attacked offline.
 */
export const gssResponse: MessageDecoder = {
  name: 'GSSResponse',
  decode(r) {
    renameMessage(r, 'GSSResponse');
    r.rest('data', 'GSSAPI/SSPI specific message data', { secret: true });
  },
};
