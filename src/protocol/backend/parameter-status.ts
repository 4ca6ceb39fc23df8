import type { MessageDecoder } from '../decoder.js';

/**
 * ParameterStatus (B, 'S'): the server reports a run-time parameter's value, at startup
 * and whenever a reported parameter (GUC_REPORT) changes.
 *   String — "The name of the run-time parameter being reported."
 *   String — "The current value of the parameter."
 */
export const parameterStatus: MessageDecoder = {
  name: 'ParameterStatus',
  decode(r) {
    const name = r.cstring('name', 'run-time parameter name');
    r.cstring('value', `current value of ${name}`);
  },
};
