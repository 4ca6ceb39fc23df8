import type { MessageDecoder } from '../decoder.js';

/**
 * CopyFail (F, 'f'): String — "An error message to report as the cause of failure." The
 * server ends the COPY FROM STDIN with an ErrorResponse quoting it.
 */
export const copyFail: MessageDecoder = {
  name: 'CopyFail',
  decode(r) {
    r.cstring('error message', 'error message: the cause of the COPY failure');
  },
};
