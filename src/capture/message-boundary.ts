/**
 * Finding the next message boundary in bytes that do not start at one: after bytes missing
 * from a capture, or when the capture joined a connection mid-message. A position is a
 * boundary when a chain of message headers holds from it: each a type byte PostgreSQL
 * sends in that direction and a sane length (ReadyForQuery: exactly 5 with a known
 * status), up to CHAIN headers or ending exactly where the bytes end. Pure.
 */
import { decoderFor } from '../protocol/registry.js';
import type { Direction } from '../protocol/types.js';

/** Headers that must agree before a position is taken for a boundary. */
const CHAIN = 3;
/** A message longer than this is not believed while searching (a real one is still read once in step). */
const MAX_SEARCH_LENGTH = 16 * 1024 * 1024;
/** Bytes searched before giving up on waiting for more to confirm a boundary. */
export const MAX_SEARCH_BYTES = 4 * 1024 * 1024;

const TYPES: Record<Direction, Uint8Array> = { frontend: typeTable('frontend'), backend: typeTable('backend') };

function typeTable(direction: Direction): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0x20; b < 0x7f; b++) if (decoderFor(direction, String.fromCharCode(b))) t[b] = 1;
  return t;
}

/** How far a message header at `at` holds: the next header's position, 'short' (not enough bytes), or -1 (not a header). */
function headerAt(b: Buffer, at: number, types: Uint8Array): number | 'short' {
  if (at + 5 > b.length) return 'short';
  const type = b[at]!;
  if (types[type] !== 1) return -1;
  const length = b.readUInt32BE(at + 1);
  if (length < 4 || length > MAX_SEARCH_LENGTH) return -1;
  // ReadyForQuery (Z): Int32(5) and a status byte of I, T or E: a strong anchor.
  if (type === 0x5a && (length !== 5 || (at + 5 < b.length && !isStatus(b[at + 5]!)))) return -1;
  return at + 1 + length;
}

const isStatus = (c: number): boolean => c === 0x49 || c === 0x54 || c === 0x45;

/**
 * The first position in `b` where a chain of headers holds: { at } when found; 'more'
 * when a candidate needs bytes not there yet to be confirmed (search again with more);
 * null when no position can start a message (every byte so far can be skipped).
 */
export function findBoundary(b: Buffer, direction: Direction, final = false): { at: number } | 'more' | null {
  const types = TYPES[direction];
  for (let at = 0; at < b.length; at++) {
    if (types[b[at]!] !== 1) continue;
    const verdict = chainFrom(b, at, types);
    // At the end of what there will be, a candidate that cannot be confirmed is none.
    if (verdict === 'yes' || (verdict === 'more' && final && chainFrom(b, at, types, true) === 'yes')) return { at };
    if (verdict === 'more' && !final) return 'more';
  }
  return null;
}

/** Whether a chain of headers holds from `at`; `lenient`: two headers suffice when the bytes run out. */
function chainFrom(b: Buffer, at: number, types: Uint8Array, lenient = false): 'yes' | 'no' | 'more' {
  let p = at;
  let held = 0;
  for (;;) {
    const next = headerAt(b, p, types);
    if (next === -1) return 'no';
    if (next === 'short') return lenient ? (held >= 2 ? 'yes' : 'no') : 'more';
    held++;
    // A message ending exactly where the bytes end (a segment boundary) confirms it too.
    if (held >= CHAIN || next === b.length) return 'yes';
    if (next > b.length) return lenient ? (held >= 2 ? 'yes' : 'no') : 'more';
    p = next;
  }
}
