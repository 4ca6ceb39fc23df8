import type { TypedValue } from '../types.js';

/**
 * A value as its PostgreSQL type: `typeOid` from RowDescription / ParameterDescription /
 * Parse, `format` 0 (text) or 1 (binary) from RowDescription / Bind. null: a type this
 * module does not know, or bytes that do not fit the type (callers show the escaped bytes).
 * (Being written: see the brief; this signature is the contract.)
 */
export function decodeValue(typeOid: number, format: number, bytes: Buffer): TypedValue | null {
  void typeOid;
  void format;
  void bytes;
  return null;
}
