/** Bytes as a double-quoted escaped string, as Elephantshark users read them: "Z\x00\x00\x00\x05I". */

const TABLE: string[] = (() => {
  const t: string[] = [];
  for (let b = 0; b < 256; b++) {
    if (b === 0x22) t.push('\\"');
    else if (b === 0x5c) t.push('\\\\');
    else if (b === 0x0a) t.push('\\n');
    else if (b === 0x0d) t.push('\\r');
    else if (b === 0x09) t.push('\\t');
    else if (b >= 0x20 && b < 0x7f) t.push(String.fromCharCode(b));
    else t.push(`\\x${b.toString(16).padStart(2, '0')}`);
  }
  return t;
})();

/** 1 for bytes shown as themselves (printable ASCII but `"` and `\`), 0 for bytes escaped. */
const PLAIN: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0x20; b < 0x7f; b++) if (b !== 0x22 && b !== 0x5c) t[b] = 1;
  return t;
})();

/** Runs of plain bytes at least this long are copied as one latin1 slice rather than byte by byte. */
const SLICE_MIN = 12;

/** Buffer's latin1Slice (not in @types/node): bytes to a flat one-byte string, natively. */
type Latin1 = { latin1Slice(start: number, end: number): string };

/**
 * Escape bytes [start, end) of buf. Runs of printable ASCII are taken as one native latin1
 * slice (a flat string), not built character by character: a COPY line or a query text is
 * one slice, not a rope of hundreds of one-character pieces.
 */
export function escapeRange(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  let run = start;
  let i = start;
  const b = Buffer.isBuffer(buf) ? (buf as unknown as Latin1) : (Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) as unknown as Latin1);
  while (i < end) {
    const c = buf[i]!;
    if (PLAIN[c] === 1) {
      i++;
      continue;
    }
    if (i > run) s += i - run >= SLICE_MIN ? b.latin1Slice(run, i) : plainChars(buf, run, i);
    s += TABLE[c];
    run = ++i;
  }
  if (end > run) s = run === start ? b.latin1Slice(run, end) : s + (end - run >= SLICE_MIN ? b.latin1Slice(run, end) : plainChars(buf, run, end));
  return s;
}

function plainChars(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += TABLE[buf[i]!];
  return s;
}

/** Escape bytes without quotes. */
export function escapeBytes(bytes: Uint8Array): string {
  return escapeRange(bytes, 0, bytes.length);
}

/**
 * Escape and quote at most `max` bytes of a value; when cut, say how many bytes were left
 * out. `total` is the value's real size when only a prefix of it is at hand.
 */
export function quoteBounded(bytes: Uint8Array, max: number, total: number = bytes.length): string {
  return quoteRange(bytes, 0, bytes.length, max, total);
}

/** Each byte's escaped form as bytes (what TABLE holds as strings). */
const TABLE_BYTES: Uint8Array[] = TABLE.map((t) => Uint8Array.from(t, (ch) => ch.charCodeAt(0)));

/** Where quoteFlat assembles its string; grown on demand up to FLAT_MAX. */
let scratch = Buffer.allocUnsafe(4096);
const FLAT_MAX = 64 * 1024;

/**
 * `"escaped bytes"` + an ASCII suffix as ONE flat string, assembled in a scratch buffer
 * and read out with a single latin1 slice (rather than a rope of small pieces that every
 * later concatenation and the final join must walk). Same text as
 * quoteRange(buf, start, end, max, total) + suffix; falls back to that when the value is
 * cut (the note has a non-latin1 "…") or too large for the scratch buffer.
 */
export function quoteFlat(buf: Uint8Array, start: number, end: number, max: number, total: number, suffix: string): string {
  const n = end - start;
  if (n > max || total !== n || !(Number.isInteger(max) && max >= 0) || 4 * n + 2 + suffix.length > FLAT_MAX) return quoteRange(buf, start, end, max, total) + suffix;
  const need = 4 * n + 2 + suffix.length;
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  const out = scratch;
  let j = 0;
  out[j++] = 0x22;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (PLAIN[c] === 1) out[j++] = c;
    else {
      const e = TABLE_BYTES[c]!;
      for (let k = 0; k < e.length; k++) out[j++] = e[k]!;
    }
  }
  out[j++] = 0x22;
  for (let k = 0; k < suffix.length; k++) out[j++] = suffix.charCodeAt(k);
  return (out as unknown as Latin1).latin1Slice(0, j);
}

/** quoteBounded of bytes [start, end) of buf, without making a view of them. */
export function quoteRange(buf: Uint8Array, start: number, end: number, max: number, total: number = end - start): string {
  let shownEnd = end - start > max ? start + max : end;
  // A negative or fractional max (never from the CLI) cut as subarray(0, max) would.
  if (!(Number.isInteger(max) && max >= 0)) shownEnd = start + buf.subarray(start, end).subarray(0, end - start > max ? max : end - start).length;
  const omitted = total - (shownEnd - start);
  const q = '"' + escapeRange(buf, start, shownEnd) + '"';
  return omitted > 0 ? `${q}…(${omitted} more byte${omitted === 1 ? '' : 's'})` : q;
}
