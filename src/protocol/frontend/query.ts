import type { MessageCodec } from '../decoder.js';
import { isMessage, maybeSpan, span, text, wholeSpans } from '../spans.js';
import type { DecodedMessage, Span } from '../types.js';
import { writeMessage } from '../writer.js';

export interface Query {
  /** "The query string itself." */
  query: string;
}

/**
 * Query (F, 'Q'): String — "The query string itself." The context tracker reads it (with
 * queryText) to notice START_REPLICATION. With a statement context that redacts
 * (--redact-passwords), SQL that carries a password is marked `secret`.
 */
export const query: MessageCodec<Query> = {
  name: 'Query',
  readsContext: true,
  decode(r, ctx) {
    const sql = r.cstring('query');
    if (ctx.statements?.sqlIsSecret(sql)) r.last!.secret = true;
  },
  fields(m) {
    const spans = wholeSpans(m, 'Query', isMessage(m, 'frontend', 'Q'));
    return { query: text(m, span(m, spans, 'query')) };
  },
  encode(f) {
    return writeMessage('Q', 'Query', (w) => w.cstring(f.query, 'query'), 6 + Buffer.byteLength(f.query));
  },
};

/** The span of a Query's query string, if it was read. */
export function querySpan(m: DecodedMessage): Span | undefined {
  return maybeSpan(m.spans, 'query');
}

/**
 * A Query's SQL as decoded (undefined when it was not read: a huge query not kept whole),
 * even from a message with trailing bytes; not checked for UTF-8 (fields() is).
 */
export function queryText(m: DecodedMessage): string | undefined {
  const v = querySpan(m)?.value;
  return typeof v === 'string' ? v : undefined;
}
