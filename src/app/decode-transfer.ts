/**
 * What crosses from the forwarding thread to the decode thread, and how: the entries of one
 * turn of the event loop in one message. Chunks, by far the most, cross as numbers and
 * bytes in one ArrayBuffer that is transferred (not copied again): a record of numbers
 * per chunk, then the bytes of every chunk, one after the other. The few events the
 * forwarding thread makes itself (status lines, connection facts, a connection's startup)
 * and hand-overs cross as plain data that the other side makes whole again (Buffers,
 * ProtocolErrors).
 */
import { ProtocolError } from '../protocol/errors.js';
import type { Direction } from '../protocol/types.js';
import type { DecodeEntry } from '../session/decode-elsewhere.js';
import type { Label, ProxyEvent } from '../session/events.js';

/** One message to the decode thread. */
export interface Batch {
  /** Per entry, in order: 'c' a chunk (its record in `data`), 'o' the next of `objects`. */
  order: string;
  /** Events (made plain) and hand-overs. */
  objects: unknown[];
  /** RECORD numbers per chunk, then the chunks' bytes (see packBatch); null when there are none. */
  data: ArrayBuffer | null;
}

const LABELS: Label[] = ['client -> server', 'server -> client', 'client -> script', 'script -> client', 'script -> server', 'server -> script'];
const LABEL_INDEX = new Map<Label, number>(LABELS.map((l, i) => [l, i]));
/** A chunk's record: conn, time, label, direction (0 frontend), bytes reported forwarded, length. */
const RECORD = 6;

/** Entries into one Batch; its ArrayBuffer is the one to transfer. */
export function packBatch(entries: DecodeEntry[]): Batch {
  let chunks = 0;
  let total = 0;
  for (const e of entries) {
    if (e.kind !== 'chunk' || e.marks) continue;
    chunks++;
    total += e.bytes.length;
  }
  let order = '';
  const objects: unknown[] = [];
  if (chunks === 0) {
    for (const e of entries) {
      order += 'o';
      objects.push(asObject(e));
    }
    return { order, objects, data: null };
  }
  // A fresh ArrayBuffer of its own: a Buffer from Node's pool must never be transferred.
  const head = chunks * RECORD * 8;
  const data = new ArrayBuffer(head + total);
  const records = new Float64Array(data, 0, chunks * RECORD);
  const bytes = new Uint8Array(data, head);
  let r = 0;
  let at = 0;
  for (const e of entries) {
    if (e.kind !== 'chunk' || e.marks) {
      order += 'o';
      objects.push(asObject(e));
      continue;
    }
    order += 'c';
    records[r] = e.conn;
    records[r + 1] = e.time;
    records[r + 2] = LABEL_INDEX.get(e.label)!;
    records[r + 3] = e.direction === 'frontend' ? 0 : 1;
    records[r + 4] = e.forwarded;
    records[r + 5] = e.bytes.length;
    r += RECORD;
    bytes.set(e.bytes, at);
    at += e.bytes.length;
  }
  return { order, objects, data };
}

/** A Batch as it arrived, into the entries it was made of. */
export function unpackBatch(batch: Batch): DecodeEntry[] {
  const out: DecodeEntry[] = [];
  const chunks = countChunks(batch.order);
  const head = chunks * RECORD * 8;
  const records = chunks > 0 ? new Float64Array(batch.data!, 0, chunks * RECORD) : null;
  let r = 0;
  let at = head;
  let o = 0;
  for (let i = 0; i < batch.order.length; i++) {
    if (batch.order.charCodeAt(i) !== 0x63 /* c */) {
      const x = batch.objects[o++] as DecodeEntry;
      out.push(x.kind === 'event' ? { kind: 'event', event: revive(x.event) as ProxyEvent } : x.kind === 'chunk' ? (revive(x) as DecodeEntry) : x);
      continue;
    }
    const length = records![r + 5]!;
    out.push({
      kind: 'chunk',
      conn: records![r]!,
      time: records![r + 1]!,
      label: LABELS[records![r + 2]!]!,
      direction: (records![r + 3] === 0 ? 'frontend' : 'backend') as Direction,
      forwarded: records![r + 4]!,
      bytes: Buffer.from(batch.data!, at, length),
    });
    r += RECORD;
    at += length;
  }
  return out;
}

function countChunks(order: string): number {
  let n = 0;
  for (let i = 0; i < order.length; i++) if (order.charCodeAt(i) === 0x63) n++;
  return n;
}

/** An entry that crosses as plain data: an event, a hand-over, a chunk a hook marked (rare). */
function asObject(e: DecodeEntry): unknown {
  if (e.kind === 'event') return { kind: 'event', event: plain(e.event) };
  if (e.kind === 'chunk') return plain({ ...e, bytes: new Uint8Array(e.bytes) });
  return e;
}

/** The chunks' bytes in a batch (what the hand-off bound counts; a marked chunk's are not). */
export function batchBytes(batch: Batch): number {
  return batch.data === null ? 0 : batch.data.byteLength - countChunks(batch.order) * RECORD * 8;
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
