import type { MessageDecoder } from '../decoder.js';
import { readNullableValue } from './nullable-value.js';

/**
 * FunctionCallResponse (B, 'V'): the result of a FunctionCall.
 *   Int32 — "The length of the function result value, in bytes (this count does not
 *           include itself). Can be zero. As a special case, -1 indicates a NULL function
 *           result. No value bytes follow in the NULL case."
 *   Byten — "The value of the function result, in the format indicated by the associated
 *           format code."
 */
export const functionCallResponse: MessageDecoder = {
  name: 'FunctionCallResponse',
  decode(r) {
    readNullableValue(r, 'result length', 'result value');
  },
};
