import type { MessageCodec } from '../decoder.js';
import { isMessage, span, text, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';

export interface CopyFail {
  /** "An error message to report as the cause of failure." */
  message: string;
}

/**
 * CopyFail (F, 'f'): String — "An error message to report as the cause of failure." The
 * server ends the COPY FROM STDIN with an ErrorResponse quoting it.
 */
export const copyFail: MessageCodec<CopyFail> = {
  name: 'CopyFail',
  readsContext: false,
  decode(r) {
    r.cstring('error message', 'error message: the cause of the COPY failure');
  },
  fields(m) {
    const spans = wholeSpans(m, 'CopyFail', isMessage(m, 'frontend', 'f'));
    return { message: text(m, span(m, spans, 'error message')) };
  },
  encode(f) {
    return writeMessage('f', 'CopyFail', (w) => w.cstring(f.message, 'error message'));
  },
};
