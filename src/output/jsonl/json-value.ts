import { isUtf8 } from 'node:buffer';

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
 * JSON.stringify(jsonValue(v, maxBytes, fullLength)), built directly: no intermediate
 * objects. undefined (JSON.stringify leaves such a member out) for undefined.
 */
export function jsonValueText(v: unknown, maxBytes: number, fullLength?: number): string | undefined {
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return Number.isFinite(v) ? '' + v : '"' + v + '"';
    case 'bigint':
      return '"' + v.toString() + '"';
    case 'undefined':
      return undefined;
    case 'object': {
      if (v === null) return 'null';
      if (v instanceof Uint8Array) return jsonBytesText(v, maxBytes, fullLength);
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + (jsonValueText(v[i], maxBytes) ?? 'null');
        return out + ']';
      }
      let out = '{';
      for (const k of Object.keys(v)) {
        const t = jsonValueText((v as Record<string, unknown>)[k], maxBytes);
        // jsonValue's `out.__proto__ = …` sets no member: JSON.stringify showed none.
        if (t === undefined || k === '__proto__') continue;
        out += (out.length === 1 ? '' : ',') + jsonName(k) + ':' + t;
      }
      return out + '}';
    }
    default:
      return JSON.stringify(String(v));
  }
}

/** JSON.stringify(jsonBytes(b, maxBytes, fullLength)), built directly. */
export function jsonBytesText(b: Uint8Array, maxBytes: number, fullLength = b.length): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
  const cut = buf.length > maxBytes;
  const shown = cut ? buf.subarray(0, maxBytes) : buf;
  const tail = ',"length":' + jsonNumber(fullLength) + (cut || fullLength > buf.length ? ',"truncated":true}' : '}');
  return isPrintable(shown) ? '{"text":' + jsonString(shown.toString('utf8')) + tail : '{"hex":"' + shown.toString('hex') + '"' + tail;
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
