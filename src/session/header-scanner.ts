import type { Framer } from '../protocol/framer.js';
import type { Direction } from '../protocol/types.js';
import type { MessageHook } from './message-hook.js';

/** Each type byte as its one-character string. */
const TYPE_CHARS: readonly string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));

/**
 * Whether a chunk about to be framed holds the start of a message the hook wants, read
 * from the message headers alone (Byte1 type, Int32 length), picking up where the framer
 * stands; `headerCut` when the chunk ends inside a header (its type may not be known yet).
 * Cheap: a hop from header to header, no copy, no decoding. Only in the normal phase:
 * anything else (a broken or opaque stream) is for the framer to report.
 */
export function chunkWanted(bytes: Buffer, framer: Framer, hook: MessageHook, direction: Direction): { wanted: boolean; headerCut: boolean } {
  if (framer.mode !== 'normal') return { wanted: false, headerCut: false };
  let pos = 0;
  const p = framer.partial;
  if (p) {
    if (p.size === null) return { wanted: true, headerCut: true };
    pos = p.size - p.seen;
  }
  const n = bytes.length;
  while (pos < n) {
    if (pos + 5 > n) return { wanted: hook.wants(direction, TYPE_CHARS[bytes[pos]!]!), headerCut: true };
    if (hook.wants(direction, TYPE_CHARS[bytes[pos]!]!)) return { wanted: true, headerCut: false };
    const length = bytes.readInt32BE(pos + 1);
    // A bad length is a framing error: the framer reports it, and decides.
    if (length < 4) return { wanted: true, headerCut: false };
    pos += 1 + length;
  }
  return { wanted: false, headerCut: false };
}
