import type { DecodeContext } from '../context.js';
import type { MessageCodec } from '../decoder.js';
import { bytesOf, isMessage, num, span, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';
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
export interface BackendKeyData {
  /** "The process ID of this backend." */
  processId: number;
  /** "The secret key of this backend": 4 bytes before protocol 3.2, up to 256 since. */
  secretKey: Buffer;
}

export const backendKeyData: MessageCodec<BackendKeyData> = {
  name: 'BackendKeyData',
  // The key's meaning depends on the protocol version the conversation agreed on.
  readsContext: true,
  decode(r, ctx) {
    r.int32('process ID');
    const n = r.remaining;
    if (n > MAX_KEY) r.fail('bad-value', `a secret key of at most ${MAX_KEY} bytes, got ${n}`);
    r.rest('secret key', keyMeaning(n, ctx), { secret: true });
  },
  fields(m) {
    const spans = wholeSpans(m, 'BackendKeyData', isMessage(m, 'backend', 'K'));
    return { processId: num(m, span(m, spans, 'process ID')), secretKey: bytesOf(m, span(m, spans, 'secret key')) };
  },
  encode(f) {
    return writeMessage('K', 'BackendKeyData', (w) => {
      w.int32(f.processId, 'process ID');
      if (f.secretKey.length > MAX_KEY) w.fail('secret key', `at most ${MAX_KEY} bytes, got ${f.secretKey.length}`);
      w.bytes(f.secretKey, 'secret key');
    });
  },
};
