import { isUtf8 } from 'node:buffer';
import { JsonOut } from './json-out.js';

/** How a byte string appears in JSON: readable text when it is, else hex; `length` is always the full length. */
export type JsonBytes = { text: string; length: number; truncated?: true } | { hex: string; length: number; truncated?: true };

/**
 * A decoded value made safe for JSON.stringify: bigint becomes a decimal string (JSON
 * numbers lose precision past 2^53), bytes become {text} or {hex} cut at maxBytes,
 * non-finite numbers become strings, nested arrays and plain objects are converted
 * member by member. `fullLength` is the wire length when the bytes are a retained prefix.
 */
export function jsonValue(v: unknown, maxBytes: number, fullLength?: number): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v.toString();
    case 'undefined':
      return undefined;
    case 'object':
      if (v === null) return null;
      if (v instanceof Uint8Array) return jsonBytes(v, maxBytes, fullLength);
      if (Array.isArray(v)) {
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) out[i] = jsonValue(v[i], maxBytes) ?? null;
        return out;
      }
      {
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(v)) out[k] = jsonValue((v as Record<string, unknown>)[k], maxBytes);
        return out;
      }
    default:
      return String(v);
  }
}

/** Bytes as {text} when they are printable UTF-8 (no control characters but tab/CR/LF), else {hex}. */
export function jsonBytes(b: Uint8Array, maxBytes: number, fullLength = b.length): JsonBytes {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
  const cut = buf.length > maxBytes;
  const shown = cut ? buf.subarray(0, maxBytes) : buf;
  const truncated = cut || fullLength > buf.length;
  // A cut can split a UTF-8 sequence: such a prefix is shown as hex, which is still exact.
  const out: JsonBytes = isPrintable(shown) ? { text: shown.toString('utf8'), length: fullLength } : { hex: shown.toString('hex'), length: fullLength };
  if (truncated) out.truncated = true;
  return out;
}

function isPrintable(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return isUtf8(b);
}

/**
 * JSON.stringify(jsonValue(v, maxBytes, fullLength)), written into `out` directly: no
 * intermediate objects. Nothing is written for undefined (JSON.stringify leaves such a
 * member out): callers check for it first.
 */
export function writeJsonValue(out: JsonOut, v: unknown, maxBytes: number, fullLength?: number): void {
  switch (typeof v) {
    case 'string':
      out.str(v);
      return;
    case 'boolean':
      out.ascii(v ? 'true' : 'false');
      return;
    case 'number':
      if (Number.isFinite(v)) out.num(v);
      else out.ascii('"' + v + '"');
      return;
    case 'bigint':
      out.ascii('"' + v.toString() + '"');
      return;
    case 'undefined':
      return;
    case 'object': {
      if (v === null) {
        out.ascii('null');
        return;
      }
      if (v instanceof Uint8Array) {
        writeJsonBytes(out, v, maxBytes, fullLength);
        return;
      }
      if (Array.isArray(v)) {
        out.byte(0x5b);
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out.byte(0x2c);
          if (v[i] === undefined) out.ascii('null');
          else writeJsonValue(out, v[i], maxBytes);
        }
        out.byte(0x5d);
        return;
      }
      out.byte(0x7b);
      let first = true;
      for (const k of Object.keys(v)) {
        const m = (v as Record<string, unknown>)[k];
        // jsonValue's `out.__proto__ = …` sets no member: JSON.stringify showed none.
        if (m === undefined || k === '__proto__') continue;
        if (!first) out.byte(0x2c);
        first = false;
        out.str(k);
        out.byte(0x3a);
        writeJsonValue(out, m, maxBytes);
      }
      out.byte(0x7d);
      return;
    }
    default:
      out.utf8(JSON.stringify(String(v)));
  }
}

/** JSON.stringify(jsonBytes(b, maxBytes, fullLength)), written into `out`. */
export function writeJsonBytes(out: JsonOut, b: Uint8Array, maxBytes: number, fullLength = b.length): void {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
  const cut = buf.length > maxBytes;
  const shown = cut ? buf.subarray(0, maxBytes) : buf;
  if (isPrintable(shown)) {
    out.ascii('{"text":');
    out.str(shown.toString('utf8'));
  } else {
    out.ascii('{"hex":"');
    out.hex(shown, shown.length);
    out.byte(0x22);
  }
  out.ascii(',"length":');
  out.num(fullLength);
  out.ascii(cut || fullLength > buf.length ? ',"truncated":true}' : '}');
}

/** Where jsonBytesText writes (it runs to completion: no call nests in another). */
const scratch = new JsonOut(4096);

/** writeJsonBytes as a string. */
export function jsonBytesText(b: Uint8Array, maxBytes: number, fullLength = b.length): string {
  scratch.pos = 0;
  writeJsonBytes(scratch, b, maxBytes, fullLength);
  return scratch.buf.toString('utf8', 0, scratch.pos);
}

/** JSON.stringify(n) for a number: finite numbers as JavaScript prints them, others null. */
export function jsonNumber(n: number): string {
  return Number.isFinite(n) ? '' + n : 'null';
}

/** Characters JSON.stringify writes escaped (lone surrogates too: any surrogate goes the slow way). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * JSON.stringify(s) for a string: most strings need no escaping, and for those the quotes
 * alone are much cheaper than a JSON.stringify call.
 */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

const NAMES = new Map<string, string>();

/**
 * jsonString for the few strings that come back all the time (field names, enumerations):
 * remembered, up to a bound (names that vary, such as startup parameter names, must not
 * grow the table without end).
 */
export function jsonName(s: string): string {
  let t = NAMES.get(s);
  if (t === undefined) {
    t = jsonString(s);
    if (NAMES.size < 4096) NAMES.set(s, t);
  }
  return t;
}
