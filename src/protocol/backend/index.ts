import type { MessageDecoder } from '../decoder.js';
import { copyData } from '../copy-data.js';
import { readyForQuery } from './ready-for-query.js';

/** Server messages by type byte. */
export const backendDecoders: Record<string, MessageDecoder> = {
  Z: readyForQuery,
  d: copyData,
};
