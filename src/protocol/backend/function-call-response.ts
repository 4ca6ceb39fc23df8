import type { MessageCodec } from '../decoder.js';
import { bytesOf, isMessage, maybeSpan, num, span, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';
import { readNullableValue, writeNullableValue } from './nullable-value.js';

export interface FunctionCallResponse {
  /** "The value of the function result"; null for a NULL result. */
  result: Buffer | null;
}

/**
 * FunctionCallResponse (B, 'V'): the result of a FunctionCall.
 *   Int32 — "The length of the function result value, in bytes (this count does not
 *           include itself). Can be zero. As a special case, -1 indicates a NULL function
 *           result. No value bytes follow in the NULL case."
 *   Byten — "The value of the function result, in the format indicated by the associated
 *           format code."
 */
export const functionCallResponse: MessageCodec<FunctionCallResponse> = {
  name: 'FunctionCallResponse',
  readsContext: false,
  decode(r) {
    readNullableValue(r, 'result length', 'result value');
  },
  fields(m) {
    const spans = wholeSpans(m, 'FunctionCallResponse', isMessage(m, 'backend', 'V'));
    if (num(m, span(m, spans, 'result length')) === -1) return { result: null };
    const value = maybeSpan(spans, 'result value');
    return { result: value ? bytesOf(m, value) : Buffer.alloc(0) };
  },
  encode(f) {
    return writeMessage('V', 'FunctionCallResponse', (w) => writeNullableValue(w, f.result, 'result length', 'result value'));
  },
};
