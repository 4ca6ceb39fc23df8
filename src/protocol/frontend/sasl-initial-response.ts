import type { MessageCodec } from '../decoder.js';
import { gs2FlagOf, readScramAttributes } from '../scram.js';
import { isMessage, maybeSpan, num, span, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
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
export interface SASLInitialResponse {
  /** "Name of the SASL authentication mechanism that the client selected." */
  mechanism: string;
  /** SASL mechanism specific "Initial Response" (SCRAM's client-first-message); null if there is none (length -1). */
  initialResponse: Buffer | null;
}

export const saslInitialResponse: MessageCodec<SASLInitialResponse> = {
  name: 'SASLInitialResponse',
  readsContext: false,
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
  fields(m) {
    const spans = wholeSpans(m, 'SASLInitialResponse', isMessage(m, 'frontend', 'p') && m.name === 'SASLInitialResponse');
    const length = span(m, spans, 'initial response length');
    const n = num(m, length);
    // The response, whether the decoder split it into SCRAM attributes or not.
    return { mechanism: text(m, span(m, spans, 'mechanism')), initialResponse: n === -1 ? null : m.frame.bytes.subarray(length.end, length.end + n) };
  },
  encode(f) {
    const data = f.initialResponse;
    return writeMessage(
      'p',
      'SASLInitialResponse',
      (w) => {
        w.cstring(f.mechanism, 'mechanism');
        if (data === null) w.int32(-1, 'initial response length');
        else w.int32(data.length, 'initial response length').bytes(data, 'initial response');
      },
      10 + Buffer.byteLength(f.mechanism) + (data ? data.length : 0),
    );
  },
};

/** The mechanism a SASLInitialResponse names, if it was read. */
export function saslMechanism(m: DecodedMessage): string | undefined {
  const v = maybeSpan(m.spans, 'mechanism')?.value;
  return typeof v === 'string' ? v : undefined;
}

/** The GS2 channel-binding flag of a SCRAM SASLInitialResponse ('n', 'y' or 'p=<name>'), if it was read. */
export function saslChannelBindingFlag(m: DecodedMessage): string | undefined {
  return gs2FlagOf(m.spans);
}

function describeMechanism(m: string): string {
  if (m === 'SCRAM-SHA-256') return 'SASL mechanism SCRAM-SHA-256 (no channel binding)';
  if (m === 'SCRAM-SHA-256-PLUS') return 'SASL mechanism SCRAM-SHA-256-PLUS (SCRAM with TLS channel binding)';
  if (m === 'OAUTHBEARER') return 'SASL mechanism OAUTHBEARER (OAuth bearer token, PostgreSQL 18+)';
  return `SASL mechanism ${m}`;
}
