import { ProtocolError } from './errors.js';
import type { Direction, Frame, FrameKind } from './types.js';

/** Startup-packet codes, from the documentation's "Message Formats". */
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

/** The server refuses startup packets longer than this (MAX_STARTUP_PACKET_LENGTH). */
export const DEFAULT_MAX_STARTUP_LENGTH = 10_000;
/** PostgreSQL's own ceiling for one message is MaxAllocSize (1 GiB - 1); leave headroom. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 0x40000000 + 0x10000;
/** How much of each frame is kept for decoding; the rest is counted, not stored. */
export const DEFAULT_RETAIN = 1024 * 1024;
/** Bytes kept of an 'unparsed' run. */
const UNPARSED_PREFIX = 64;
/** Each type byte as its one-character string, made once. */
const TYPE_CHARS: readonly string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
const EMPTY = Buffer.alloc(0);
/** A TLS record's length field never exceeds 2^14 + 2048 (RFC 8446 §5.2). */
const MAX_TLS_RECORD = 16384 + 2048;

export type FramerMode =
  /** Length-prefixed packets without a type byte (client, before StartupMessage). */
  | 'startup'
  /** Type byte + length (both directions after startup, and the server from the start). */
  | 'normal'
  /** The next byte answers SSLRequest/GSSENCRequest ('S', 'N', 'G'), else normal. */
  | 'answer'
  /** Encrypted bytes (TLS or GSS) the codec cannot read; reported as 'unparsed'. */
  | 'opaque'
  /** A framing error happened; the stream cannot be resynchronised. */
  | 'broken';

export type FramerEvent =
  | { kind: 'frame'; frame: Frame }
  | { kind: 'message-start'; direction: Direction; offset: number; type: string | null; length: number; size: number }
  | { kind: 'error'; error: ProtocolError }
  | { kind: 'unparsed'; direction: Direction; offset: number; length: number; prefix: Buffer; reason: string };

export interface FramerOptions {
  direction: Direction;
  mode?: FramerMode;
  maxMessageLength?: number;
  maxStartupLength?: number;
  /** Bytes of each frame to keep (header included). Larger frames are kept as a prefix. */
  retain?: number;
  /** The offset of the first byte this framer will see (a conversation taken up again part way; default 0). */
  offset?: number;
  /**
   * Normal-phase message types whose frames are wanted; others are only counted (no copy,
   * no event), which is what a proxy with every output off needs. Default: all.
   */
  only?: ReadonlySet<string>;
}

interface Pending {
  kind: FrameKind;
  offset: number;
  type: string | null;
  length: number;
  size: number;
  /** Bytes of the frame seen so far. */
  seen: number;
  bytes: Buffer;
  /** Counted, not reported (a type outside FramerOptions.only). */
  skip: boolean;
}

/**
 * Splits one direction's byte stream into frames. Takes chunks of any size (down to one
 * byte) and yields the same frames whatever the chunking. Sans-I/O: no sockets here.
 *
 * Memory is bounded by `retain` per frame: the body of a 1 GB DataRow is counted as it
 * passes and only its first `retain` bytes are copied.
 */
export class Framer {
  readonly direction: Direction;
  private modeValue: FramerMode;
  private readonly maxMessageLength: number;
  private readonly maxStartupLength: number;
  private readonly retain: number;
  /** Per type byte: 1 when its frames are wanted (FramerOptions.only), or null: all are. */
  private wanted: Uint8Array | null;
  /** Absolute offset of the next byte to arrive. */
  private streamOffset = 0;
  /** Header bytes gathered so far (at most 5). */
  private readonly header = Buffer.alloc(5);
  private headerLen = 0;
  private pending: Pending | null = null;
  /** Why the framer is opaque or broken, for 'unparsed' events. */
  private opaqueReason = '';

  constructor(opts: FramerOptions) {
    this.direction = opts.direction;
    this.modeValue = opts.mode ?? (opts.direction === 'frontend' ? 'startup' : 'normal');
    this.maxMessageLength = opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.maxStartupLength = opts.maxStartupLength ?? DEFAULT_MAX_STARTUP_LENGTH;
    this.retain = Math.max(16, opts.retain ?? DEFAULT_RETAIN);
    this.streamOffset = opts.offset ?? 0;
    this.wanted = opts.only ? new Uint8Array(256) : null;
    for (const t of opts.only ?? []) this.wanted![t.charCodeAt(0) & 0xff] = 1;
  }

  get mode(): FramerMode {
    return this.modeValue;
  }

  /** Absolute offset of the next byte this framer will see. */
  get offset(): number {
    // Header bytes still being gathered have arrived too.
    return this.streamOffset + this.headerLen;
  }

  /** True when no frame is half-received. */
  get idle(): boolean {
    return this.pending === null && this.headerLen === 0;
  }

  /**
   * The frame still arriving, if any: where it started, its type, its size and how many of
   * its bytes were seen (a connection that ends now cut it off).
   */
  get partial(): { offset: number; type: string | null; size: number | null; seen: number } | null {
    if (this.pending) return { offset: this.pending.offset, type: this.pending.type, size: this.pending.size, seen: this.pending.seen };
    if (this.headerLen > 0) return { offset: this.streamOffset, type: this.modeValue === 'normal' ? TYPE_CHARS[this.header[0]!]! : null, size: null, seen: this.headerLen };
    return null;
  }

  /**
   * From the next frame on, only frames of these types are wanted (FramerOptions.only): a
   * proxy whose decoding moved to another thread keeps framing what it needs itself.
   */
  narrow(only: ReadonlySet<string>): void {
    const wanted = new Uint8Array(256);
    for (const t of only) wanted[t.charCodeAt(0) & 0xff] = 1;
    this.wanted = wanted;
  }

  /** The next byte answers an SSLRequest or GSSENCRequest. */
  expectAnswer(): void {
    if (this.modeValue !== 'broken') this.modeValue = 'answer';
  }

  /** Encrypted bytes follow that the codec will not see decrypted. */
  becomeOpaque(reason: string): void {
    if (this.modeValue !== 'broken') {
      this.modeValue = 'opaque';
      this.opaqueReason = reason;
    }
  }

  /** Plaintext resumes (after a TLS handshake the caller terminated) in the given mode. */
  resume(mode: 'startup' | 'normal'): void {
    if (this.modeValue === 'broken') return;
    this.modeValue = mode;
    this.pending = null;
    this.headerLen = 0;
  }

  /** Feed bytes; returns the frames completed by them, in order. */
  push(chunk: Buffer): FramerEvent[] {
    const out: FramerEvent[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.modeValue === 'opaque' || this.modeValue === 'broken') {
        const n = chunk.length - i;
        out.push({
          kind: 'unparsed',
          direction: this.direction,
          offset: this.streamOffset,
          length: n,
          prefix: Buffer.from(chunk.subarray(i, i + Math.min(n, UNPARSED_PREFIX))),
          reason: this.opaqueReason,
        });
        this.streamOffset += n;
        break;
      }
      if (this.pending) {
        i = this.feedBody(chunk, i, out);
        continue;
      }
      // Start of a frame: the one-byte SSL/GSS answer needs no header.
      if (this.modeValue === 'answer' && this.headerLen === 0) {
        const b = chunk[i]!;
        if (b === 0x53 /* S */ || b === 0x4e /* N */ || b === 0x47 /* G */) {
          const type = String.fromCharCode(b);
          out.push({
            kind: 'frame',
            frame: { direction: this.direction, kind: 'answer', offset: this.streamOffset, type, length: 0, size: 1, bytes: Buffer.from([b]), complete: true },
          });
          this.streamOffset += 1;
          i += 1;
          // After 'S' or 'G' encryption starts; after 'N' the server waits for a startup packet.
          if (type === 'N') this.modeValue = 'normal';
          else this.becomeOpaque(type === 'S' ? 'TLS-encrypted after SSLRequest was accepted' : 'GSS-encrypted after GSSENCRequest was accepted');
          continue;
        }
        // Anything else (an ErrorResponse from an old server) is an ordinary message.
        this.modeValue = 'normal';
      }
      i = this.feedHeader(chunk, i, out);
    }
    return out;
  }

  private headerSize(): number {
    if (this.modeValue === 'startup') {
      // A TLS record (direct TLS) has a 5-byte header; a startup packet a 4-byte length.
      return this.headerLen > 0 && this.header[0] === 0x16 ? 5 : 4;
    }
    return 5;
  }

  private feedHeader(chunk: Buffer, i: number, out: FramerEvent[]): number {
    // Gather header bytes one at a time: at most 5, so this is cheap.
    while (i < chunk.length && this.headerLen < this.headerSize()) {
      this.header[this.headerLen++] = chunk[i++]!;
    }
    if (this.headerLen < this.headerSize()) return i;

    const start = this.streamOffset;
    const hdr = this.header;
    let kind: FrameKind;
    let type: string | null;
    let length: number;
    let size: number;
    if (this.modeValue === 'startup' && hdr[0] === 0x16) {
      kind = 'tls-record';
      type = null;
      length = hdr.readUInt16BE(3);
      size = 5 + length;
      if (length > MAX_TLS_RECORD) return this.breakOn(out, chunk, i, 'length-too-long', 'TLS record', `a TLS record of at most ${MAX_TLS_RECORD} bytes, got ${length}`);
    } else if (this.modeValue === 'startup') {
      kind = 'startup';
      type = null;
      length = hdr.readInt32BE(0);
      size = length;
      if (length < 8) return this.breakOn(out, chunk, i, 'length-too-short', 'startup packet', `a length of at least 8 (Int32 length + Int32 code), got ${length}`);
      if (length > this.maxStartupLength) return this.breakOn(out, chunk, i, 'length-too-long', 'startup packet', `a length of at most ${this.maxStartupLength}, got ${length}`);
    } else {
      kind = 'message';
      type = TYPE_CHARS[hdr[0]!]!;
      length = hdr.readInt32BE(1);
      size = 1 + length;
      if (length < 4) return this.breakOn(out, chunk, i, 'length-too-short', `message of type ${JSON.stringify(type)}`, `a length of at least 4, got ${length}`);
      if (length > this.maxMessageLength) return this.breakOn(out, chunk, i, 'length-too-long', `message of type ${JSON.stringify(type)}`, `a length of at most ${this.maxMessageLength}, got ${length}`);
    }
    const skip = kind === 'message' && this.wanted !== null && this.wanted[hdr[0]!] !== 1;
    const keep = skip ? 0 : Math.min(size, this.retain);
    const bytes = skip ? EMPTY : Buffer.allocUnsafe(keep);
    if (!skip) hdr.copy(bytes, 0, 0, this.headerLen);
    this.pending = { kind, offset: start, type, length, size, seen: this.headerLen, bytes, skip };
    this.streamOffset += this.headerLen;
    this.headerLen = 0;
    if (size > this.retain && !skip) {
      out.push({ kind: 'message-start', direction: this.direction, offset: start, type, length, size });
    }
    if (this.pending.seen === size) this.finish(out);
    return i;
  }

  private feedBody(chunk: Buffer, i: number, out: FramerEvent[]): number {
    const p = this.pending!;
    const take = Math.min(chunk.length - i, p.size - p.seen);
    if (p.seen < p.bytes.length) {
      const copy = Math.min(take, p.bytes.length - p.seen);
      chunk.copy(p.bytes, p.seen, i, i + copy);
    }
    p.seen += take;
    this.streamOffset += take;
    i += take;
    if (p.seen === p.size) this.finish(out);
    return i;
  }

  private finish(out: FramerEvent[]): void {
    const p = this.pending!;
    this.pending = null;
    if (p.skip) return;
    const frame: Frame = {
      direction: this.direction,
      kind: p.kind,
      offset: p.offset,
      type: p.type,
      length: p.length,
      size: p.size,
      bytes: p.bytes,
      complete: p.bytes.length === p.size,
    };
    out.push({ kind: 'frame', frame });
    if (p.kind === 'startup' && p.bytes.length >= 8) {
      const code = p.bytes.readInt32BE(4);
      // A protocol version (major 3: 3.0, 3.2) ends the startup phase; SSLRequest,
      // GSSENCRequest and CancelRequest do not (another packet or encryption follows).
      if (code !== SSL_REQUEST_CODE && code !== GSSENC_REQUEST_CODE && code !== CANCEL_REQUEST_CODE && code >>> 16 === 3) {
        this.modeValue = 'normal';
      }
    } else if (p.kind === 'tls-record') {
      this.becomeOpaque('TLS-encrypted (direct TLS)');
    }
  }

  private breakOn(out: FramerEvent[], chunk: Buffer, i: number, code: 'length-too-short' | 'length-too-long', what: string, expected: string): number {
    const offset = this.streamOffset;
    const hdr = this.header.subarray(0, this.headerLen);
    out.push({ kind: 'error', error: new ProtocolError(code, what, this.direction, offset, expected) });
    this.modeValue = 'broken';
    this.opaqueReason = `not decoded after the framing error at offset ${offset}`;
    // The header bytes themselves are reported as unparsed too, so nothing goes unmentioned.
    const headerCopy = Buffer.from(hdr);
    this.headerLen = 0;
    out.push({ kind: 'unparsed', direction: this.direction, offset, length: headerCopy.length, prefix: headerCopy, reason: this.opaqueReason });
    this.streamOffset += headerCopy.length;
    return i;
  }
}
