import type { MessageDecoder } from '../decoder.js';

/** Sync (F, 'S'): no body — ends an extended-query cycle; the server answers ReadyForQuery. */
export const sync: MessageDecoder = {
  name: 'Sync',
  decode() {},
};
