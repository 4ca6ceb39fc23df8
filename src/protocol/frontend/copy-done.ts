import type { MessageDecoder } from '../decoder.js';

/** CopyDone (F & B, 'c'): no body — "Identifies the message as a COPY-complete indicator." */
export const copyDone: MessageDecoder = {
  name: 'CopyDone',
  decode() {},
};
