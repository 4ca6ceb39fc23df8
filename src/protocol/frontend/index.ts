import type { MessageDecoder } from '../decoder.js';
import { copyData } from '../copy-data.js';
import { query } from './query.js';
import { startupMessage } from './startup-message.js';

/** Normal-phase client messages by type byte. */
export const frontendDecoders: Record<string, MessageDecoder> = {
  Q: query,
  d: copyData,
};

/** Startup-phase packets by code; 'startup' is any protocol version 3.x. */
export const startupDecoders: Record<string | number, MessageDecoder> = {
  startup: startupMessage,
};

/** A startup packet whose code is neither a known request nor protocol 3.x. */
export const unknownStartupDecoder: MessageDecoder = {
  name: 'unknown startup packet',
  decode(r) {
    const code = r.int32('code', (c) => `unknown code (major ${c >>> 16}, minor ${c & 0xffff})`);
    r.fail('bad-value', `a protocol 3.x version, SSLRequest, GSSENCRequest or CancelRequest code, got ${code}`);
  },
};
