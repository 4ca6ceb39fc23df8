import type { Reader } from '../reader.js';
import { bytesOf, childrenOf, num } from '../spans.js';
import type { DecodedMessage, Span } from '../types.js';
import type { Writer } from '../writer.js';
import { plural } from '../values.js';

/** What a length word of a possibly-NULL value says: "NULL", "empty", "3 bytes". */
export function describeValueLength(len: number): string {
  return len === -1 ? 'NULL' : len === 0 ? 'empty' : plural(len, 'byte');
}

/**
 * A length-prefixed value as DataRow columns and FunctionCallResponse results carry it:
 * Int32 — "The length of the … value, in bytes (this count does not include itself). Can
 * be zero. As a special case, -1 indicates a NULL … value. No value bytes follow in the
 * NULL case." Then Byten — the value. Returns the length. The value goes through r.bytes,
 * so a huge value that was not retained whole still gets its span (with `retained`).
 */
export function readNullableValue(r: Reader, lengthName: string, valueName: string): number {
  const len = r.int32(lengthName, (v) => (v === -1 ? 'NULL' : v < -1 ? `${v}: impossible, only -1 (NULL) may be negative` : undefined));
  if (len < -1) r.fail('bad-value', `${lengthName}: -1 (NULL) or zero or more bytes, got ${len}`, r.pos - 4);
  if (len >= 0) r.bytes(valueName, len);
  return len;
}

/**
 * The value a group read by readNullableValue (or frontend/fields.ts readValues, which has
 * the same two fields) holds: null for NULL, else its bytes.
 */
export function nullableValueOf(m: DecodedMessage, group: Span): Buffer | null {
  const [length, value] = childrenOf(m, group);
  if (!length || num(m, length) === -1) return null;
  return value ? bytesOf(m, value) : Buffer.alloc(0);
}

/** The leaf holding the value bytes of such a group (undefined for NULL, or when not read). */
export function valueLeafOf(group: Span): Span | undefined {
  const c = group.children;
  return c && c.length > 1 ? c[1] : undefined;
}

/** Write a possibly-NULL value: Int32 length (-1 for NULL), then the bytes. */
export function writeNullableValue(w: Writer, v: Buffer | null, lengthName: string, valueName: string): void {
  if (v === null) {
    w.int32(-1, lengthName);
    return;
  }
  w.int32(v.length, lengthName);
  w.bytes(v, valueName);
}
