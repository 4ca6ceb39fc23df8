import type { DecodeContext } from '../context.js';
import type { MessageDecoder } from '../decoder.js';
import { plural } from '../values.js';

/** "The maximum key length is 256 bytes." */
const MAX_KEY = 256;

function keyMeaning(n: number, ctx: DecodeContext): string {
  const size = `${plural(n, 'byte')} secret key`;
  // "Before protocol version 3.2, the secret key was always 4 bytes long."
  if (ctx.protocol && ctx.protocol.major === 3 && ctx.protocol.minor < 2 && n !== 4) {
    return `${size} (protocol 3.${ctx.protocol.minor} keys are always 4 bytes)`;
  }
  return n === 4 ? `${size} (the protocol 3.0 size)` : `${size} (protocol 3.2+: up to ${MAX_KEY} bytes)`;
}

/**
 * BackendKeyData (B, 'K'): cancellation key data the client must keep to issue a
 * CancelRequest later.
 *   Int32 — "The process ID of this backend."
 *   Byten — "The secret key of this backend. This field extends to the end of the
 *            message, indicated by the length field." Up to 256 bytes since protocol 3.2
 *            (PostgreSQL 18 sends 32); 4 bytes before.
 * The key is marked secret: anyone holding it can cancel this backend's queries.
 */
export const backendKeyData: MessageDecoder = {
  name: 'BackendKeyData',
  decode(r, ctx) {
    r.int32('process ID');
    const n = r.remaining;
    if (n > MAX_KEY) r.fail('bad-value', `a secret key of at most ${MAX_KEY} bytes, got ${n}`);
    r.rest('secret key', keyMeaning(n, ctx), { secret: true });
  },
};
