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
const CONTEXT_FREE: Record<Direction, ReadonlySet<string>> = {
  // Execute, Sync, Flush, Describe, Close, CopyDone.
  frontend: new Set(['E', 'S', 'H', 'D', 'C', 'c']),
  // ParseComplete, BindComplete, CloseComplete, CommandComplete, ReadyForQuery,
  // RowDescription, NoData, PortalSuspended, ParameterDescription, EmptyQueryResponse,
  // ParameterStatus, CopyDone.
  backend: new Set(['1', '2', '3', 'C', 'Z', 'T', 'n', 's', 't', 'I', 'S', 'c']),
};

/** Longest frame remembered: the small, repeated messages of every statement. */
const MAX_FRAME_BYTES = 256;
/** Distinct frames remembered per direction; all are forgotten at once when it is reached. */
const MAX_ENTRIES = 1024;

interface Memo {
  name: string;
  sub: string[];
  spans: Span[];
}

const memos: Record<Direction, Map<string, Memo>> = { frontend: new Map(), backend: new Map() };
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
 * the same bytes thousands of times. Equal bytes of a CONTEXT_FREE type get the spans
 * decoded the first time, frozen (see isShared), so that outputs can also keep what
 * they made of them (keyed by the spans array). A malformed message is never remembered:
 * its error names an absolute offset.
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
  if (map.size >= MAX_ENTRIES) map.clear();
  freezeSpans(msg.spans);
  Object.freeze(msg.sub);
  map.set(key, { name: msg.name, sub: msg.sub, spans: msg.spans });
  shared.add(msg.spans);
  return msg;
}

/** Spans shared between messages must not change: writing to one throws (strict mode). */
function freezeSpans(spans: Span[]): void {
  for (const s of spans) {
    if (s.children) freezeSpans(s.children);
    Object.freeze(s);
  }
  Object.freeze(spans);
}
