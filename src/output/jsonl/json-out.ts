/**
 * JSON text written as UTF-8 bytes straight into one reused Buffer. JSON lines are the
 * largest output pgscope writes (about three times the bytes of the annotated log): built
 * as JavaScript strings, each line was hundreds of small concatenations that the engine
 * then had to flatten, copy into one string per batch, and encode again into a Buffer.
 * Here every piece goes to its final byte position once, and the buffer is written to the
 * file as it is (see ByteLines).
 *
 * Every method writes exactly what JSON.stringify would write for the same value, encoded
 * as UTF-8 (test/unit/jsonl/jsonl-equivalence.test.ts holds the whole sink to the
 * string-built reference, byte for byte).
 */
export class JsonOut {
  buf: Buffer;
  pos = 0;

  constructor(size = 256 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(c: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** Text known to be ASCII with nothing to escape: member names, constants, numbers, times, hex. */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    if (n > 64) p += b.write(s, p, n, 'latin1');
    else for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /**
   * Any text as it is, UTF-8 encoded (already JSON: JSON.stringify's output, a typed value's
   * JSON), but for the characters JSON.stringify leaves as they are that a terminal would
   * obey (see terminalSafeJson): every JSON text this class writes passes here or is ASCII.
   */
  utf8(s: string): void {
    const t = terminalSafeJson(s);
    this.ensure(t.length * 3);
    this.pos += this.buf.write(t, this.pos, 'utf8');
  }

  /**
   * JSON.stringify(s): printable ASCII without `"` or `\` (nearly every string pgscope
   * writes) is copied byte by byte between quotes; anything else is handed to
   * JSON.stringify, which knows every escape, lone surrogates included.
   */
  str(s: string): void {
    const n = s.length;
    this.ensure(n + 2);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    b[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) {
        this.pos = start;
        this.utf8(JSON.stringify(s));
        return;
      }
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  /** JSON.stringify(n): finite numbers as JavaScript prints them, others null. */
  num(n: number): void {
    if (n >= 0 && n < 1e9 && (n | 0) === n) {
      // Small non-negative integers (offsets, lengths, counts): digits without a string.
      if (n < 10) {
        this.byte(48 + n);
        return;
      }
      this.ensure(10);
      let digits = 1;
      for (let m = n; m >= 10; m = (m / 10) | 0) digits++;
      const b = this.buf;
      let p = this.pos + digits;
      this.pos = p;
      let m = n;
      do {
        b[--p] = 48 + (m % 10);
        m = (m / 10) | 0;
      } while (m > 0);
      return;
    }
    this.ascii(Number.isFinite(n) ? '' + n : 'null');
  }

  /** Lower-case hex of bytes[0, end), as Buffer.toString('hex') gives it. */
  hex(bytes: Uint8Array, end: number): void {
    this.ensure(end * 2);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < end; i++) {
      const v = bytes[i]!;
      b[p++] = HEX[v >> 4]!;
      b[p++] = HEX[v & 15]!;
    }
    this.pos = p;
  }

  /** Bytes already encoded (a constant's UTF-8). */
  bytes(src: Buffer): void {
    this.ensure(src.length);
    src.copy(this.buf, this.pos);
    this.pos += src.length;
  }
}

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** DEL, the C1 controls and the bidirectional overrides and isolates: JSON.stringify leaves them raw. */
const TERMINAL_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text with DEL, C1 controls (U+009B is a CSI on many terminals) and bidi overrides
 * written as \uXXXX escapes, so that `tail -f trace.jsonl` or `jq` on a terminal cannot be
 * driven by what a server or client sent (JSON.stringify escapes only C0 controls). Still
 * the same JSON value: these characters can only stand inside strings.
 */
export function terminalSafeJson(json: string): string {
  TERMINAL_UNSAFE.lastIndex = 0;
  if (!TERMINAL_UNSAFE.test(json)) return json;
  return json.replace(TERMINAL_UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
