import type { MessageDecoder } from '../decoder.js';
import { readScramAttributes } from '../scram.js';
import { plural } from '../values.js';
import { renameMessage } from './fields.js';

/**
 * SASLInitialResponse (F, 'p'), answering AuthenticationSASL (10):
 *   String — "Name of the SASL authentication mechanism that the client selected."
 *   Int32  — "Length of SASL mechanism specific "Initial Client Response" that follows,
 *            or -1 if there is no Initial Response."
 *   Byten  — "SASL mechanism specific "Initial Response"."
 * For SCRAM-SHA-256(-PLUS) the Initial Response is the client-first-message (RFC 5802):
 * a GS2 header, then n= (user name) and r= (client nonce). Other mechanisms' data is kept
 * as bytes and marked secret: OAUTHBEARER's carries a bearer token.
 */
export const saslInitialResponse: MessageDecoder = {
  name: 'SASLInitialResponse',
  decode(r) {
    renameMessage(r, 'SASLInitialResponse');
    const mechanism = r.cstring('mechanism', describeMechanism);
    const at = r.pos;
    const len = r.int32('initial response length', (n) => (n === -1 ? 'length -1: no Initial Response' : `Initial Response: ${plural(n, 'byte')}`));
    if (len === -1) return;
    if (len < 0) r.fail('bad-value', `initial response length: -1 (none) or zero or more, got ${len}`, at);
    if (mechanism.startsWith('SCRAM-')) {
      readScramAttributes(r, len, { gs2Header: true });
    } else {
      r.bytes('initial response', len, `${mechanism} initial response (${plural(len, 'byte')}; may carry credentials)`, { secret: true });
    }
  },
};

function describeMechanism(m: string): string {
  if (m === 'SCRAM-SHA-256') return 'SASL mechanism SCRAM-SHA-256 (no channel binding)';
  if (m === 'SCRAM-SHA-256-PLUS') return 'SASL mechanism SCRAM-SHA-256-PLUS (SCRAM with TLS channel binding)';
  if (m === 'OAUTHBEARER') return 'SASL mechanism OAUTHBEARER (OAuth bearer token, PostgreSQL 18+)';
  return `SASL mechanism ${m}`;
}
