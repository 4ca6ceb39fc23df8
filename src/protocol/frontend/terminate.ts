import type { MessageDecoder } from '../decoder.js';

/** Terminate (F, 'X'): no body — the client is closing the connection. */
export const terminate: MessageDecoder = {
  name: 'Terminate',
  decode() {},
};
