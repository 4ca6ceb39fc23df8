import type { MessageCodec } from '../decoder.js';
import { CANCEL_REQUEST_CODE } from '../framer.js';
import { bytesOf, num, span, wholeSpans } from '../spans.js';
import { writeStartupPacket } from '../writer.js';
import { plural } from '../values.js';

/** "The maximum key length is 256 bytes"; the minimum is the 4 bytes keys had before 3.2. */
const MIN_KEY = 4;
const MAX_KEY = 256;

/**
 * CancelRequest (F), sent on a new connection instead of a StartupMessage:
 *   Int32(80877102) — "The cancel request code." (1234 / 5678)
 *   Int32 — "The process ID of the target backend."
 *   Byten — "The secret key for the target backend. This field extends to the end of the
 *           message, indicated by the length field. The maximum key length is 256 bytes."
 *           "Before protocol version 3.2, the secret key was always 4 bytes long."
 * The cancelling connection has no protocol version of its own: only the key's length
 * says which protocol the key came from (BackendKeyData on the original connection).
 */
export interface CancelRequest {
  /** "The process ID of the target backend." */
  processId: number;
  /** "The secret key for the target backend": 4 bytes before protocol 3.2, up to 256 since. */
  secretKey: Buffer;
}

export const cancelRequest: MessageCodec<CancelRequest> = {
  name: 'CancelRequest',
  readsContext: false,
  decode(r) {
    r.int32('cancel request code', 'cancel request code (1234/5678): cancel the query running in another session');
    r.int32('process ID');
    const n = r.remaining;
    if (n < MIN_KEY || n > MAX_KEY) {
      r.fail('bad-value', `secret key: ${MIN_KEY} to ${MAX_KEY} bytes, got ${n}`);
    }
    r.rest('secret key', () =>
      n === 4
        ? 'secret key: 4 bytes (the fixed length of protocol 3.0; also allowed in 3.2)'
        : `secret key: ${plural(n, 'byte')} (a variable-length key: protocol 3.2 or later)`,
    );
  },
  fields(m) {
    const spans = wholeSpans(m, 'CancelRequest', m.frame.kind === 'startup' && m.name === 'CancelRequest');
    return { processId: num(m, span(m, spans, 'process ID')), secretKey: bytesOf(m, span(m, spans, 'secret key')) };
  },
  encode(f) {
    return writeStartupPacket(
      'CancelRequest',
      (w) => {
        w.int32(CANCEL_REQUEST_CODE, 'cancel request code');
        w.int32(f.processId, 'process ID');
        const n = f.secretKey.length;
        if (n < MIN_KEY || n > MAX_KEY) w.fail('secret key', `${MIN_KEY} to ${MAX_KEY} bytes, got ${n}`);
        w.bytes(f.secretKey, 'secret key');
      },
      12 + f.secretKey.length,
    );
  },
};
