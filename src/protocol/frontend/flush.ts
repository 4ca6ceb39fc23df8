import type { MessageDecoder } from '../decoder.js';

/** Flush (F, 'H'): no body — asks the server to deliver any pending output now. */
export const flush: MessageDecoder = {
  name: 'Flush',
  decode() {},
};
