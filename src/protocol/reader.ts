import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import type { Frame, Span } from './types.js';
import { formatLsn, formatPgTimestamp } from './values.js';

/** A field's meaning: fixed text, or computed from the value. */
export type Meaning<T> = string | ((value: T) => string | undefined) | undefined;

/**
 * Thrown inside a decoder to stop it; caught by decodeFrame, never escapes the codec.
 * 'elided': the decoder reached bytes that exist on the wire but were not retained.
 */
export class StopDecoding extends Error {
  constructor(
    readonly reason: 'error' | 'elided',
    readonly error?: ProtocolError,
  ) {
    super(reason);
  }
}

/**
 * A bounds-checked cursor confined to one frame. Every read records a Span; a read past
 * the frame's end stops decoding with a ProtocolError naming the message, direction and
 * absolute offset.
 */
export class Reader {
  /** Current position, relative to the message's first byte. */
  pos = 0;
  /** End of the readable region (the frame's end, or a nested payload's end). */
  end: number;
  /** Bytes actually retained; reads beyond this within `end` are elided, not errors. */
  readonly avail: number;
  /** The top-level spans of the message. */
  readonly spans: Span[] = [];
  private target: Span[] = this.spans;

  constructor(
    readonly frame: Frame,
    /** The message name used in errors; decoders may refine it (e.g. "SASLResponse"). */
    public messageName: string,
  ) {
    this.end = frame.size;
    this.avail = frame.bytes.length;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get buf(): Buffer {
    return this.frame.bytes;
  }

  /** Build a ProtocolError for the current message at a relative offset. */
  error(code: ProtocolErrorCode, expected: string, at: number = this.pos): ProtocolError {
    return new ProtocolError(code, this.messageName, this.frame.direction, this.frame.offset + at, expected);
  }

  /** Stop decoding with an error; the rest of the frame becomes an 'unparsed' span. */
  fail(code: ProtocolErrorCode, expected: string, at: number = this.pos): never {
    throw new StopDecoding('error', this.error(code, expected, at));
  }

  /** Check that n more bytes exist in the frame and were retained. */
  private need(n: number, field: string): void {
    if (n < 0 || this.pos + n > this.end) {
      this.fail('past-end', `${field}: ${n} byte(s) needed, ${this.remaining} left in the message`);
    }
    if (this.pos + n > this.avail) throw new StopDecoding('elided');
  }

  /**
   * The span recorded last in the current group (or at the top level): for a decoder that
   * annotates the field it just read from the context (a typed value, a secret mark).
   */
  get last(): Span | undefined {
    return this.target[this.target.length - 1];
  }

  /** Record a span over [start, end) in the current group. */
  push(span: Span): Span {
    this.target.push(span);
    return span;
  }

  private record<T>(name: string, start: number, value: T, meaning: Meaning<T>, extra?: Partial<Span>): Span {
    const m = typeof meaning === 'function' ? meaning(value) : meaning;
    const span: Span = { name, start, end: this.pos, value };
    if (m !== undefined) span.meaning = m;
    if (extra) Object.assign(span, extra);
    this.target.push(span);
    return span;
  }

  /** Read a fixed-size field with `read` and record it. */
  private fixed<T>(name: string, size: number, read: (b: Buffer, at: number) => T, meaning: Meaning<T>): T {
    this.need(size, name);
    const start = this.pos;
    const v = read(this.buf, this.pos);
    this.pos += size;
    this.record(name, start, v, meaning);
    return v;
  }

  uint8(name: string, meaning?: Meaning<number>): number {
    this.need(1, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readUInt8(at);
    this.pos = at + 1;
    this.record(name, at, v, meaning);
    return v;
  }

  int8(name: string, meaning?: Meaning<number>): number {
    this.need(1, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readInt8(at);
    this.pos = at + 1;
    this.record(name, at, v, meaning);
    return v;
  }

  /** An unsigned 24-bit big-endian integer (TLS handshake lengths). */
  uint24(name: string, meaning?: Meaning<number>): number {
    this.need(3, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readUIntBE(at, 3);
    this.pos = at + 3;
    this.record(name, at, v, meaning);
    return v;
  }

  int16(name: string, meaning?: Meaning<number>): number {
    this.need(2, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readInt16BE(at);
    this.pos = at + 2;
    this.record(name, at, v, meaning);
    return v;
  }

  uint16(name: string, meaning?: Meaning<number>): number {
    this.need(2, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readUInt16BE(at);
    this.pos = at + 2;
    this.record(name, at, v, meaning);
    return v;
  }

  int32(name: string, meaning?: Meaning<number>): number {
    this.need(4, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readInt32BE(at);
    this.pos = at + 4;
    this.record(name, at, v, meaning);
    return v;
  }

  uint32(name: string, meaning?: Meaning<number>): number {
    this.need(4, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readUInt32BE(at);
    this.pos = at + 4;
    this.record(name, at, v, meaning);
    return v;
  }

  int64(name: string, meaning?: Meaning<bigint>): bigint {
    this.need(8, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readBigInt64BE(at);
    this.pos = at + 8;
    this.record(name, at, v, meaning);
    return v;
  }

  uint64(name: string, meaning?: Meaning<bigint>): bigint {
    this.need(8, name);
    const at = this.pos;
    const b = this.frame.bytes;
    const v = b.readBigUInt64BE(at);
    this.pos = at + 8;
    this.record(name, at, v, meaning);
    return v;
  }

  /** A WAL location (Int64), shown as X/X like pg_lsn. */
  lsn(name: string, meaning?: Meaning<string>): string {
    return this.fixed(name, 8, (b, i) => formatLsn(b.readBigUInt64BE(i)), meaning ?? ((v) => v));
  }

  /** A server timestamp: Int64 microseconds since 2000-01-01 00:00 UTC, shown as ISO time. */
  timestamp(name: string, meaning?: Meaning<string>): string {
    return this.fixed(name, 8, (b, i) => formatPgTimestamp(b.readBigInt64BE(i)), meaning ?? ((v) => v));
  }

  /** Byte1 read as a character (type codes, status letters). */
  char(name: string, meaning?: Meaning<string>): string {
    return this.fixed(name, 1, (b, i) => String.fromCharCode(b[i]!), meaning);
  }

  /** A null-terminated string (the documentation's String). */
  cstring(name: string, meaning?: Meaning<string>, extra?: Partial<Span>): string {
    const limit = Math.min(this.end, this.avail);
    const nul = this.buf.indexOf(0, this.pos);
    if (nul === -1 || nul >= limit) {
      if (this.avail < this.end) throw new StopDecoding('elided');
      this.fail('past-end', `${name}: a null-terminated string, but no terminator before the end of the message`);
    }
    const start = this.pos;
    const v = this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    this.record(name, start, v, meaning, extra);
    return v;
  }

  /**
   * n raw bytes. When the frame was not retained whole, the span covers all n bytes but
   * only a prefix is returned (span.retained says how much); later reads then stop as elided.
   */
  bytes(name: string, n: number, meaning?: Meaning<Buffer>, extra?: Partial<Span>): Buffer {
    if (n < 0 || this.pos + n > this.end) {
      this.fail('past-end', `${name}: ${n} byte(s) announced, ${this.remaining} left in the message`);
    }
    const start = this.pos;
    const have = Math.max(0, Math.min(n, this.avail - this.pos));
    const v = this.buf.subarray(this.pos, this.pos + have);
    this.pos += n;
    const span = this.record(name, start, v, meaning, extra);
    if (have < n) span.retained = have;
    return v;
  }

  /** All bytes up to the end of the readable region. */
  rest(name: string, meaning?: Meaning<Buffer>, extra?: Partial<Span>): Buffer {
    return this.bytes(name, this.remaining, meaning, extra);
  }

  /**
   * Group the spans recorded by fn as the children of one span named `name`
   * (a DataRow column, an ErrorResponse field, a RowDescription field).
   */
  group<T>(name: string, fn: () => T, meaning?: Meaning<T>): T {
    const start = this.pos;
    const parent: Span = { name, start, end: start, children: [] };
    this.target.push(parent);
    const saved = this.target;
    this.target = parent.children!;
    try {
      const v = fn();
      parent.end = this.pos;
      const m = typeof meaning === 'function' ? meaning(v) : meaning;
      if (m !== undefined) parent.meaning = m;
      if (v !== undefined) parent.value = v;
      return v;
    } catch (e) {
      // Decoding stopped inside the group: a group that read nothing is not shown at all.
      if (parent.children!.length === 0) saved.splice(saved.indexOf(parent), 1);
      throw e;
    } finally {
      parent.end = this.pos;
      this.target = saved;
    }
  }

  /**
   * Confine fn to the next n bytes (a nested payload with its own length): fn may not read
   * beyond them, and bytes it leaves unread are reported as unparsed trailing bytes.
   */
  within<T>(n: number, what: string, fn: () => T): T {
    if (n < 0 || this.pos + n > this.end) {
      this.fail('past-end', `${what}: ${n} byte(s) announced, ${this.remaining} left in the message`);
    }
    const savedEnd = this.end;
    this.end = this.pos + n;
    try {
      const v = fn();
      if (this.pos < this.end) {
        this.fail('trailing-bytes', `${what}: ${this.end - this.pos} byte(s) left after its last field`);
      }
      return v;
    } finally {
      this.end = savedEnd;
    }
  }

  /** Look at the next n bytes without consuming them (fewer at the end of the region). */
  peekBytes(n: number): Buffer {
    const end = Math.min(this.pos + n, this.end);
    if (end > this.avail) throw new StopDecoding('elided');
    return this.buf.subarray(this.pos, end);
  }

  /** Look at the next byte without consuming it (undefined at the end). */
  peekByte(): number | undefined {
    if (this.pos >= this.end) return undefined;
    if (this.pos >= this.avail) throw new StopDecoding('elided');
    return this.buf[this.pos];
  }
}
