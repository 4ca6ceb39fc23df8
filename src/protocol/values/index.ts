import type { TypedValue } from '../types.js';
import { arrayFromBinary, arrayFromText } from './arrays.js';
import { utf8, type Decoded } from './codec.js';
import { arrayByOid, scalarByOid } from './oids.js';

/** decodeValue's shape: what a statement context types values with (tests give a stand-in). */
export type DecodeValue = (typeOid: number, format: number, bytes: Buffer) => TypedValue | null;

/**
 * A value as its PostgreSQL type: `typeOid` from RowDescription / ParameterDescription /
 * Parse, `format` 0 (text) or 1 (binary) from RowDescription / Bind. null: a type this
 * module does not know, or bytes that do not fit the type (callers show the escaped bytes).
 *
 * `text` is what the server's output function prints with DateStyle=ISO,
 * IntervalStyle=postgres, TimeZone=UTC, extra_float_digits ≥ 1 and bytea_output=hex, so a
 * binary value reads exactly like the same value in text format; text-format input keeps
 * its text as it was sent. Never throws: a codec bug must not take a connection down.
 */
export function decodeValue(typeOid: number, format: number, bytes: Buffer): TypedValue | null {
  if (format !== 0 && format !== 1) return null;
  try {
    const d = format === 1 ? fromBinary(typeOid, bytes) : fromText(typeOid, bytes);
    return d && { type: typeNameOf(typeOid), value: d.value, text: d.text };
  } catch {
    return null;
  }
}

function typeNameOf(oid: number): string {
  const scalar = scalarByOid.get(oid);
  if (scalar) return scalar.name;
  return `${arrayByOid.get(oid)!.element.name}[]`;
}

function fromBinary(oid: number, bytes: Buffer): Decoded | null {
  const scalar = scalarByOid.get(oid);
  if (scalar) return scalar.fromBinary(bytes);
  const array = arrayByOid.get(oid);
  return array ? arrayFromBinary(bytes, array.elementOid, array.element) : null;
}

function fromText(oid: number, bytes: Buffer): Decoded | null {
  const scalar = scalarByOid.get(oid);
  const array = arrayByOid.get(oid);
  if (!scalar && !array) return null;
  const text = utf8(bytes);
  if (text === null) return null;
  return scalar ? scalar.fromText(text) : arrayFromText(text, array!.element);
}
