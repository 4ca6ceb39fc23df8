import type { DecodeContext } from './context.js';
import { decodeFrame } from './decode.js';
import type { DecodedMessage, Direction, Frame, Span } from './types.js';

/**
 * The messages whose decoding depends on their bytes alone (no DecodeContext) and whose
 * spans nothing changes after decoding. Left out on purpose: DataRow ('D', backend) and
 * Bind ('B'), which the statement tracker types from RowDescription and Parse; Query and
 * Parse, whose SQL --redact-passwords may mark secret; 'p', 'R', 'K' and CopyData, read
 * by the context; ErrorResponse and NoticeResponse, rarely the same twice.
 */
export const CONTEXT_FREE: Record<Direction, ReadonlySet<string>> = {
  // Execute, Sync, Flush, Describe, Close, CopyDone.
  frontend: new Set(['E', 'S', 'H', 'D', 'C', 'c']),
  // ParseComplete, BindComplete, CloseComplete, CommandComplete, ReadyForQuery,
  // RowDescription, NoData, PortalSuspended, ParameterDescription, EmptyQueryResponse,
  // ParameterStatus, CopyDone.
  backend: new Set(['1', '2', '3', 'C', 'Z', 'T', 'n', 's', 't', 'I', 'S', 'c']),
};

/** Longest frame remembered: the small, repeated messages of every statement. */
const MAX_FRAME_BYTES = 256;
/**
 * Distinct frames remembered per direction (a 256-byte RowDescription's spans take about
 * 15 KB, so at most a few MB in all); all are forgotten at once when it is reached. Only
 * a frame seen twice is remembered: one-off frames (CommandComplete "SELECT 4711",
 * ParameterStatus) fill the `seen` list instead, which is forgotten the same way.
 */
const MAX_ENTRIES = 512;

interface Memo {
  name: string;
  sub: string[];
  spans: Span[];
}

const memos: Record<Direction, Map<string, Memo>> = { frontend: new Map(), backend: new Map() };
/** Frames seen once (not yet remembered), by the same key. */
const seen: Record<Direction, Set<string>> = { frontend: new Set(), backend: new Set() };
/** Every spans array decodeMemoized has handed out more than once, or may. */
const shared = new WeakSet<Span[]>();

/**
 * True when the message's spans are shared with other messages of the same bytes: frozen,
 * and an output may keep what it made of them, keyed by the spans array, for the next
 * message that shares them. (Not a member of the message, so that a remembered decoding
 * equals a fresh one.)
 */
export function isShared(msg: DecodedMessage): boolean {
  return shared.has(msg.spans);
}

/**
 * decodeFrame, remembered: a statement's small messages (BindComplete, CommandComplete
 * "SELECT 1", ReadyForQuery 'I', Execute, Sync, the same RowDescription) come back with
 * the same bytes thousands of times. Equal bytes of a CONTEXT_FREE type, from their
 * second sighting on, get the spans decoded then, frozen (see isShared), so that outputs
 * can also keep what they made of them (keyed by the spans array). A malformed message is
 * never remembered: its error names an absolute offset.
 */
export function decodeMemoized(frame: Frame, ctx: DecodeContext): DecodedMessage {
  if (frame.kind !== 'message' || !frame.complete || frame.size > MAX_FRAME_BYTES || !CONTEXT_FREE[frame.direction].has(frame.type!)) {
    return decodeFrame(frame, ctx);
  }
  const map = memos[frame.direction];
  const key = frame.bytes.toString('latin1');
  const hit = map.get(key);
  if (hit !== undefined) return { frame, name: hit.name, sub: hit.sub, spans: hit.spans };
  const msg = decodeFrame(frame, ctx);
  if (msg.error) return msg;
  const once = seen[frame.direction];
  if (!once.has(key)) {
    if (once.size >= MAX_ENTRIES) once.clear();
    once.add(key);
    return msg;
  }
  once.delete(key);
  if (map.size >= MAX_ENTRIES) map.clear();
  freezeSpans(msg.spans);
  Object.freeze(msg.sub);
  map.set(key, { name: msg.name, sub: msg.sub, spans: msg.spans });
  shared.add(msg.spans);
  return msg;
}

/**
 * Spans shared between messages must not change: writing to one throws (strict mode).
 * The CONTEXT_FREE types' values are primitives or arrays of them (a RowDescription's
 * format codes): arrays are frozen too. A type whose values hold a Buffer must not join
 * CONTEXT_FREE (a Buffer cannot be frozen, and would keep the first frame's memory).
 */
function freezeSpans(spans: Span[]): void {
  for (const s of spans) {
    if (s.children) freezeSpans(s.children);
    if (Array.isArray(s.value)) Object.freeze(s.value);
    Object.freeze(s);
  }
  Object.freeze(spans);
}
