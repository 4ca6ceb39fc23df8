/**
 * What crosses from the forwarding thread to the decode thread, and how: the entries of one
 * turn of the event loop in one message, the bytes of every chunk copied into one
 * ArrayBuffer that is transferred (not copied again), the few events the forwarding thread
 * makes itself (status lines, connection facts, a connection's startup) as plain data that
 * the other side makes whole again (Buffers, ProtocolErrors).
 */
import { ProtocolError } from '../protocol/errors.js';
import type { DecodeEntry, HandOver } from '../session/decode-elsewhere.js';
import type { ProxyEvent } from '../session/events.js';

type PackedEntry = { kind: 'event'; event: unknown } | HandOver | { kind: 'chunk'; conn: number; time: number; label: string; direction: string; forwarded: boolean; at: number; length: number };

/** One message to the decode thread. */
export interface Batch {
  entries: PackedEntry[];
  /** The chunks' bytes, one after the other (`at`, `length`), or null when there are none. */
  data: ArrayBuffer | null;
}

/** Entries into one Batch; the ArrayBuffer is the one to transfer. */
export function packBatch(entries: DecodeEntry[]): Batch {
  let total = 0;
  for (const e of entries) if (e.kind === 'chunk') total += e.bytes.length;
  // A fresh ArrayBuffer of its own: a Buffer from Node's pool must never be transferred.
  const data = total > 0 ? new ArrayBuffer(total) : null;
  const into = data ? new Uint8Array(data) : null;
  let at = 0;
  const packed: PackedEntry[] = entries.map((e): PackedEntry => {
    if (e.kind === 'event') return { kind: 'event', event: plain(e.event) };
    if (e.kind === 'hand-over') return e;
    into!.set(e.bytes, at);
    const p = { kind: 'chunk' as const, conn: e.conn, time: e.time, label: e.label, direction: e.direction, forwarded: e.forwarded, at, length: e.bytes.length };
    at += e.bytes.length;
    return p;
  });
  return { entries: packed, data };
}

/** A Batch as it arrived, into the entries it was made of. */
export function unpackBatch(batch: Batch): DecodeEntry[] {
  return batch.entries.map((e): DecodeEntry => {
    if (e.kind === 'event') return { kind: 'event', event: revive(e.event) as ProxyEvent };
    if (e.kind === 'hand-over') return e;
    return { kind: 'chunk', conn: e.conn, time: e.time, label: e.label as never, direction: e.direction as never, forwarded: e.forwarded, bytes: Buffer.from(batch.data!, e.at, e.length) };
  });
}

const PROTOCOL_ERROR = '__pgscopeProtocolError';

/**
 * A value as structured cloning can carry it whole: a ProtocolError as its fields (a clone
 * of an Error keeps only its message), a Buffer that is a small view of a larger buffer
 * (a frame within a socket's chunk) copied (a clone would copy the whole buffer behind it).
 */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return v.byteLength * 2 < v.buffer.byteLength ? new Uint8Array(v) : v;
  if (v instanceof ProtocolError) return { [PROTOCOL_ERROR]: [v.code, v.messageName, v.direction, v.offset, v.expected] };
  if (Array.isArray(v)) return v.map(plain);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plain(x);
  return out;
}

/** `plain` undone, in place: Uint8Arrays back into Buffers, ProtocolErrors made again. */
function revive(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i]);
    return v;
  }
  if (!isPlainObject(v)) return v;
  const o = v as Record<string, unknown>;
  const pe = o[PROTOCOL_ERROR] as ConstructorParameters<typeof ProtocolError> | undefined;
  if (pe) return new ProtocolError(...pe);
  for (const k of Object.keys(o)) o[k] = revive(o[k]);
  return o;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
