import type { Reader } from '../reader.js';
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
