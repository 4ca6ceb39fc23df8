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
