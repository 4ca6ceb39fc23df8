/**
 * The encoders' side of the Reader: a growing buffer with one method per wire type. Every
 * write checks its value fits the field (an EncodeError names the message and the field),
 * so that what an encoder returns is always a message the decoders read without error.
 */
import { EncodeError } from './errors.js';

const EMPTY = Buffer.alloc(0);

export class Writer {
  private buf: Buffer;
  /** Bytes written so far. */
  pos = 0;

  constructor(
    /** The message being written, for errors. */
    readonly what: string,
    size = 64,
  ) {
    this.buf = Buffer.allocUnsafe(Number.isSafeInteger(size) && size > 0 ? size : 64);
  }

  fail(field: string, reason: string): never {
    throw new EncodeError(this.what, field, reason);
  }

  private room(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private int(v: number, min: number, max: number, field: string): void {
    if (!Number.isInteger(v) || v < min || v > max) this.fail(field, `an integer from ${min} to ${max}, got ${v}`);
  }

  uint8(v: number, field: string): this {
    this.int(v, 0, 0xff, field);
    this.room(1);
    this.buf[this.pos++] = v;
    return this;
  }

  int8(v: number, field: string): this {
    this.int(v, -0x80, 0x7f, field);
    this.room(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  int16(v: number, field: string): this {
    this.int(v, -0x8000, 0x7fff, field);
    this.room(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  uint16(v: number, field: string): this {
    this.int(v, 0, 0xffff, field);
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  uint24(v: number, field: string): this {
    this.int(v, 0, 0xffffff, field);
    this.room(3);
    this.buf.writeUIntBE(v, this.pos, 3);
    this.pos += 3;
    return this;
  }

  int32(v: number, field: string): this {
    this.int(v, -0x80000000, 0x7fffffff, field);
    this.room(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number, field: string): this {
    this.int(v, 0, 0xffffffff, field);
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: bigint, field: string): this {
    if (typeof v !== 'bigint' || v < -(1n << 63n) || v >= 1n << 63n) this.fail(field, `a signed 64-bit integer (bigint), got ${String(v)}`);
    this.room(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  uint64(v: bigint, field: string): this {
    if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) this.fail(field, `an unsigned 64-bit integer (bigint), got ${String(v)}`);
    this.room(8);
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** A Byte1 given as a one-character string (type codes, status letters): latin1, not zero. */
  char(c: string, field: string): this {
    if (typeof c !== 'string' || c.length !== 1 || c.charCodeAt(0) > 0xff || c === '\0') this.fail(field, `one character (a byte other than zero), got ${JSON.stringify(c)}`);
    return this.uint8(c.charCodeAt(0), field);
  }

  /** Raw bytes, as they are. */
  bytes(b: Buffer, field: string): this {
    if (!Buffer.isBuffer(b)) this.fail(field, 'a Buffer');
    this.room(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A String: UTF-8 text and a zero byte. The text may not contain a zero byte. */
  cstring(s: string, field: string): this {
    if (typeof s !== 'string') this.fail(field, `a string, got ${typeof s}`);
    if (s.includes('\0')) this.fail(field, 'a String may not contain a zero byte');
    const n = Buffer.byteLength(s, 'utf8');
    this.room(n + 1);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
    this.buf[this.pos++] = 0;
    return this;
  }

  /** A String given as its bytes (a password in whatever encoding the client used), then a zero byte. */
  cbytes(b: Buffer, field: string): this {
    if (!Buffer.isBuffer(b)) this.fail(field, 'a Buffer');
    if (b.includes(0)) this.fail(field, 'a String may not contain a zero byte');
    this.bytes(b, field);
    return this.uint8(0, field);
  }

  /** Write an Int32 at an earlier position (a length counted after the fact). */
  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }

  /** The bytes written (a view of the writer's buffer). */
  finish(): Buffer {
    return this.pos === 0 ? EMPTY : this.buf.subarray(0, this.pos);
  }
}

/** A normal-phase message: Byte1 type, Int32 length (counting itself, not the type byte), body. */
export function writeMessage(type: string, what: string, body?: (w: Writer) => void, size = 64): Buffer {
  const w = new Writer(what, size);
  w.char(type, 'type');
  w.int32(0, 'length');
  body?.(w);
  w.patchInt32(1, w.pos - 1);
  return w.finish();
}

/** A startup-phase packet: Int32 length (counting itself), then the body (its code first). */
export function writeStartupPacket(what: string, body: (w: Writer) => void, size = 64): Buffer {
  const w = new Writer(what, size);
  w.int32(0, 'length');
  body(w);
  w.patchInt32(0, w.pos);
  return w.finish();
}

/** A payload nested in another message (a replication message inside CopyData, a pgoutput message). */
export function writePayload(what: string, body: (w: Writer) => void, size = 64): Buffer {
  const w = new Writer(what, size);
  body(w);
  return w.finish();
}
