import { backendDecoders } from './backend/index.js';
import type { DecodeContext } from './context.js';
import type { MessageCodec } from './decoder.js';
import { frontendDecoders } from './frontend/index.js';
import { decodeFrame } from './decode.js';
import type { DecodedMessage, Direction, Frame, Span } from './types.js';

/**
 * Types a decode memo must not share although their decoders take no context, and why.
 * Everything else whose codec has `readsContext: false` is shared (CONTEXT_FREE); a
 * decoder that starts to read the context says so with readsContext and leaves on its own
 * (Bind, DataRow, Query and Parse did: their values are typed, and secrets marked, from the
 * statement context while decoding).
 */
export const NOT_SHARED: Record<Direction, Readonly<Record<string, string>>> = {
  frontend: {
    F: 'FunctionCall: its values are Buffers (a Buffer cannot be frozen and would keep the first frame alive)',
    f: 'CopyFail: rarely the same twice',
    X: 'Terminate: once per connection',
  },
  backend: {
    R: 'Authentication: once or twice per connection; its salt and SASL data are Buffers',
    E: 'ErrorResponse: rarely the same twice',
    N: 'NoticeResponse: rarely the same twice',
    A: 'NotificationResponse: rarely the same twice (payloads)',
    V: 'FunctionCallResponse: its value is a Buffer',
    v: 'NegotiateProtocolVersion: once per connection',
    G: 'CopyInResponse: once per COPY',
    H: 'CopyOutResponse: once per COPY',
    W: 'CopyBothResponse: once per replication stream',
  },
};

/**
 * The messages whose decoding depends on their bytes alone (codec.readsContext false) and
 * whose spans nothing changes after decoding (not in NOT_SHARED): frontend Execute, Sync,
 * Flush, Describe, Close, CopyDone; backend ParseComplete, BindComplete, CloseComplete,
 * CommandComplete, ReadyForQuery, RowDescription, NoData, PortalSuspended,
 * ParameterDescription, EmptyQueryResponse, ParameterStatus, CopyDone.
 */
export const CONTEXT_FREE: Record<Direction, ReadonlySet<string>> = {
  frontend: contextFree(frontendDecoders, NOT_SHARED.frontend),
  backend: contextFree(backendDecoders, NOT_SHARED.backend),
};

function contextFree(table: Record<string, MessageCodec>, excluded: Readonly<Record<string, string>>): ReadonlySet<string> {
  return new Set(Object.keys(table).filter((type) => !table[type]!.readsContext && !Object.prototype.hasOwnProperty.call(excluded, type)));
}

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
 * Freeze a decoded message and everything in it but the frame's bytes (a Buffer cannot be
 * frozen): a test mode of Conversation (freezeDecoded), in which anything that writes to a
 * decoded message after decoding throws.
 */
export function freezeDecoded(msg: DecodedMessage): void {
  deepFreeze(msg);
}

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
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
