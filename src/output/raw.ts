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
  return quoteBounded(f.bytes, opts.maxBytes ?? 4096, f.size);
}
