import type { MessageDecoder } from '../decoder.js';
import { readScramAttributes } from '../scram.js';
import { plural } from '../values.js';
import { peekText, renameMessage } from './fields.js';

/**
 * SASLResponse (F, 'p'), answering AuthenticationSASLContinue (11): Byten — "SASL
 * mechanism specific message data." The context does not keep the mechanism, but a SCRAM
 * client-final-message always starts with the channel-binding attribute "c=" (RFC 5802),
 * so that prefix chooses the SCRAM reading: c= (channel binding), r= (nonce), p= (proof).
 * Nonces and proofs are not secrets: a proof is useless without the server's nonce.
 * Other data (another mechanism) is kept as bytes, marked secret as it may be a credential.
 */
export const saslResponse: MessageDecoder = {
  name: 'SASLResponse',
  decode(r) {
    renameMessage(r, 'SASLResponse');
    const n = r.remaining;
    if (peekText(r, 2) === 'c=') {
      readScramAttributes(r, n);
    } else {
      r.rest('data', `SASL mechanism specific message data (${plural(n, 'byte')}, not SCRAM)`, { secret: true });
    }
  },
};
