import type { MessageCodec, MessageDecoder } from '../decoder.js';
import { copyData } from '../copy-data.js';
import { authenticationResponse } from './authentication-response.js';
import { bind } from './bind.js';
import { cancelRequest } from './cancel-request.js';
import { close } from './close.js';
import { copyDone } from './copy-done.js';
import { copyFail } from './copy-fail.js';
import { describe } from './describe.js';
import { execute } from './execute.js';
import { flush } from './flush.js';
import { functionCall } from './function-call.js';
import { gssencRequest } from './gssenc-request.js';
import { parse } from './parse.js';
import { query } from './query.js';
import { sslRequest } from './ssl-request.js';
import { startupMessage } from './startup-message.js';
import { sync } from './sync.js';
import { terminate } from './terminate.js';

/** Normal-phase client messages by type byte (the documentation's "Message Formats", marked F). */
export const frontendDecoders: Record<string, MessageCodec> = {
  B: bind,
  C: close,
  c: copyDone,
  d: copyData,
  D: describe,
  E: execute,
  f: copyFail,
  F: functionCall,
  H: flush,
  // PasswordMessage, SASLInitialResponse, SASLResponse or GSSResponse, by context.
  p: authenticationResponse,
  P: parse,
  Q: query,
  S: sync,
  X: terminate,
};

/** Startup-phase packets by code; 'startup' is any protocol version 3.x. */
export const startupDecoders: Record<string | number, MessageCodec> = {
  80877103: sslRequest,
  80877104: gssencRequest,
  80877102: cancelRequest,
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
