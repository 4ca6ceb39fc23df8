import type { MessageCodec } from '../decoder.js';
import { readScramAttributes } from '../scram.js';
import { bodyOf, isMessage, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';
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
export interface SASLResponse {
  /** "SASL mechanism specific message data" (SCRAM's client-final-message). */
  data: Buffer;
}

export const saslResponse: MessageCodec<SASLResponse> = {
  name: 'SASLResponse',
  readsContext: false,
  decode(r) {
    renameMessage(r, 'SASLResponse');
    const n = r.remaining;
    if (peekText(r, 2) === 'c=') {
      readScramAttributes(r, n);
    } else {
      r.rest('data', `SASL mechanism specific message data (${plural(n, 'byte')}, not SCRAM)`, { secret: true });
    }
  },
  fields(m) {
    wholeSpans(m, 'SASLResponse', isMessage(m, 'frontend', 'p') && m.name === 'SASLResponse');
    // The data, whether the decoder split it into SCRAM attributes or not.
    return { data: bodyOf(m) };
  },
  encode(f) {
    return writeMessage('p', 'SASLResponse', (w) => w.bytes(f.data, 'data'), 5 + f.data.length);
  },
};
