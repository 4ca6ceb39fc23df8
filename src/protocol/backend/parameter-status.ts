import type { MessageCodec } from '../decoder.js';
import { isMessage, span, text, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';

export interface ParameterStatus {
  /** "The name of the run-time parameter being reported." */
  name: string;
  /** "The current value of the parameter." */
  value: string;
}

/**
 * ParameterStatus (B, 'S'): the server reports a run-time parameter's value, at startup
 * and whenever a reported parameter (GUC_REPORT) changes.
 *   String — "The name of the run-time parameter being reported."
 *   String — "The current value of the parameter."
 */
export const parameterStatus: MessageCodec<ParameterStatus> = {
  name: 'ParameterStatus',
  readsContext: false,
  decode(r) {
    const name = r.cstring('name', 'run-time parameter name');
    r.cstring('value', `current value of ${name}`);
  },
  fields(m) {
    const spans = wholeSpans(m, 'ParameterStatus', isMessage(m, 'backend', 'S'));
    return { name: text(m, span(m, spans, 'name')), value: text(m, span(m, spans, 'value')) };
  },
  encode(f) {
    return writeMessage('S', 'ParameterStatus', (w) => {
      w.cstring(f.name, 'name');
      w.cstring(f.value, 'value');
    });
  },
};
