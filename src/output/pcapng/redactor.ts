import type { DecodedMessage, Span } from '../../protocol/types.js';

/** Bytes held back waiting for their message to complete; beyond this they go out as they are. */
export const MAX_HELD = 1024 * 1024;

/** What replaces each byte of a secret: same length, so the messages' framing stays valid. */
export const FILLER = 0x78; // 'x'

/**
 * --redact-passwords for one direction of one connection's byte stream. The codec reports a
 * message (with its secret spans) before the wire bytes that complete it arrive, but a
 * secret may straddle two wire chunks: so bytes are released only up to the end of the last
 * complete message, with the secrets known by then overwritten. Bounded: more than MAX_HELD
 * bytes held (a message too big to be a password) are released as they are.
 * Offsets are absolute positions in the direction's stream (Frame.offset, wire `offset`).
 */
export class Redactor {
  private held: { offset: number; bytes: Buffer }[] = [];
  private heldBytes = 0;
  /** Every byte before this offset belongs to a message the codec has reported. */
  private covered = 0;
  /** Absolute [start, end) ranges to overwrite, not yet released. */
  private secrets: [number, number][] = [];

  /** A complete message: its secret spans, and the offset up to which bytes are now safe. */
  message(msg: DecodedMessage): void {
    const base = msg.frame.offset;
    collectSecrets(msg.spans, (s) => {
      // A string's terminating NUL is kept, so that the message still parses field by field.
      const cstring = typeof s.value === 'string' && Buffer.byteLength(s.value) === s.end - s.start - 1;
      const end = cstring ? s.end - 1 : s.end;
      if (end > s.start) this.secrets.push([base + s.start, base + end]);
    });
    this.cover(base + msg.frame.size);
  }

  /** Bytes up to `end` are known to carry no secret not yet reported. */
  cover(end: number): void {
    if (end > this.covered) this.covered = end;
  }

  /** Wire bytes in; the bytes that may be written now out (redacted, in order). */
  push(offset: number, bytes: Buffer): Buffer[] {
    if (bytes.length > 0) {
      // A copy: the caller's buffer is never changed, and may be reused.
      this.held.push({ offset, bytes: Buffer.from(bytes) });
      this.heldBytes += bytes.length;
    }
    return this.release(this.heldBytes > MAX_HELD ? Infinity : this.covered);
  }

  /** Everything still held (the connection ended). */
  drain(): Buffer[] {
    return this.release(Infinity);
  }

  private release(upTo: number): Buffer[] {
    const out: Buffer[] = [];
    while (this.held.length > 0) {
      const h = this.held[0]!;
      const n = Math.min(h.bytes.length, Math.max(0, upTo - h.offset));
      if (n === 0) break;
      const part = h.bytes.subarray(0, n);
      this.overwrite(h.offset, part);
      out.push(part);
      this.heldBytes -= n;
      if (n === h.bytes.length) this.held.shift();
      else this.held[0] = { offset: h.offset + n, bytes: h.bytes.subarray(n) };
    }
    return out;
  }

  private overwrite(offset: number, part: Buffer): void {
    const end = offset + part.length;
    for (const [s, e] of this.secrets) {
      const from = Math.max(s, offset);
      const to = Math.min(e, end);
      if (from < to) part.fill(FILLER, from - offset, to - offset);
    }
    this.secrets = this.secrets.filter(([, e]) => e > end);
  }
}

function collectSecrets(spans: Span[], found: (s: Span) => void): void {
  for (const s of spans) {
    if (s.secret) found(s);
    else if (s.children) collectSecrets(s.children, found);
  }
}
