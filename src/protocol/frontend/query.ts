import type { MessageDecoder } from '../decoder.js';

/** Query (F, 'Q'): String — the query string itself. */
export const query: MessageDecoder = {
  name: 'Query',
  decode(r) {
    r.cstring('query');
  },
};
