import { hasSecret } from '../protocol/inspect.js';
import type { DecodedMessage } from '../protocol/types.js';
import { quoteBounded } from './escape.js';

export interface RawOptions {
  /** Most bytes shown of one message before it is cut with a note (default 4096). */
  maxBytes?: number;
  /** Redact password messages ('p' from the client) whole. */
  redact?: boolean;
}

/** The message's bytes as one escaped string, as Elephantshark's `raw` mode shows them. */
export function rawMessage(msg: DecodedMessage, opts: RawOptions = {}): string {
  const f = msg.frame;
  if (opts.redact && f.direction === 'frontend' && f.type === 'p') {
    return `"p" + <redacted ${f.size - 1} bytes>`;
  }
  // Any other message holding a secret (a cancel key, SQL carrying a password): the type
  // byte stays, the rest goes, since raw bytes cannot hide one field.
  if (opts.redact && hasSecret(msg.spans)) {
    return f.type ? `${JSON.stringify(f.type)} + <redacted ${f.size - 1} bytes>` : `<redacted ${f.size} bytes>`;
  }
  return quoteBounded(f.bytes, opts.maxBytes ?? 4096, f.size);
}

