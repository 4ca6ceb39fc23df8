import type { MessageCodec } from '../decoder.js';
import { FieldsError } from '../errors.js';
import { chr, span, wholeSpans } from '../spans.js';
import { writePayload } from '../writer.js';

const ANSWERS: Record<string, string> = {
  S: 'willing to perform SSL',
  N: 'unwilling to perform encryption; continue unencrypted',
  G: 'willing to perform GSSAPI encryption',
};

/** The server's one-byte answer to SSLRequest: 'S' (go ahead with TLS) or 'N'. */
export interface SSLResponse {
  answer: 'S' | 'N';
}

/** The server's one-byte answer to GSSENCRequest: 'G' (go ahead with GSSAPI encryption) or 'N'. */
export interface GSSENCResponse {
  answer: 'G' | 'N';
}

/**
 * The single byte that answers SSLRequest or GSSENCRequest (no type byte, no length).
 * decodeFrame chooses which of the two it is from the request the client sent.
 */
function answerCodec<F extends { answer: string }>(name: string, yes: string): MessageCodec<F> {
  return {
    name,
    readsContext: false,
    decode(r) {
      r.char('answer', (c) => ANSWERS[c]);
    },
    fields(m) {
      const spans = wholeSpans(m, name, m.frame.kind === 'answer' && m.name === name);
      const answer = chr(m, span(m, spans, 'answer'));
      if (answer !== yes && answer !== 'N') throw new FieldsError('malformed', name, m.frame.offset, `an answer of '${yes}' or 'N', got ${JSON.stringify(answer)}`);
      return { answer } as F;
    },
    encode(f) {
      return writePayload(name, (w) => {
        if (f.answer !== yes && f.answer !== 'N') w.fail('answer', `'${yes}' or 'N', got ${JSON.stringify(f.answer)}`);
        w.char(f.answer, 'answer');
      }, 1);
    },
  };
}

export const sslResponse = answerCodec<SSLResponse>('SSLResponse', 'S');
export const gssencResponse = answerCodec<GSSENCResponse>('GSSENCResponse', 'G');
