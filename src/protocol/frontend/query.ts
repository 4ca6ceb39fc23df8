import type { MessageDecoder } from '../decoder.js';

/**
 * Query (F, 'Q'): String — "The query string itself." The span is named `query`: the
 * context tracker reads it to notice START_REPLICATION.
 */
export const query: MessageDecoder = {
  name: 'Query',
  decode(r) {
    r.cstring('query');
  },
};
