/**
 * bool, int2, int4, int8, oid, float4, float8: boolsend / int2send / int4send / int8send /
 * oidsend / float4send / float8send write fixed-width big-endian values; the *out
 * functions print them as below.
 */
import type { Decoded, ScalarCodec } from './codec.js';
import { float4Text, float8Text } from './float-text.js';

/** Whitespace the *in functions skip around a value (isspace in the C locale). */
const trimmed = (s: string): string => s.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');

// ---------------------------------------------------------------- bool

/** parse_bool_with_len: any prefix of true/false/yes/no, on, of(f), 1, 0; case-insensitive. */
function parseBool(s: string): boolean | null {
  const v = trimmed(s).toLowerCase();
  if (v === '') return null;
  if ('true'.startsWith(v) || 'yes'.startsWith(v) || v === 'on' || v === '1') return true;
  if ('false'.startsWith(v) || 'no'.startsWith(v) || v === 'of' || v === 'off' || v === '0') return false;
  return null;
}

export const bool: ScalarCodec = {
  name: 'bool',
  // boolrecv reads one byte and takes any non-zero value as true; boolout prints t / f.
  fromBinary: (b) => (b.length === 1 ? { value: b[0] !== 0, text: b[0] !== 0 ? 't' : 'f' } : null),
  fromText: (text) => {
    const v = parseBool(text);
    return v === null ? null : { value: v, text };
  },
};

// ---------------------------------------------------------------- integers

/** Decimal integer as int2in / int4in / int8in / oidin read it (PostgreSQL 15: no underscores). */
function parseInteger(s: string, min: bigint, max: bigint): bigint | null {
  const v = trimmed(s);
  if (!/^[+-]?\d+$/.test(v)) return null;
  const n = BigInt(v);
  return n < min || n > max ? null : n;
}

/** int8 as a number only when exact; beyond 2^53 a string keeps every digit. */
export function int8Value(n: bigint): number | string {
  const x = Number(n);
  return Number.isSafeInteger(x) ? x : n.toString();
}

/** An optional sign and up to 10 digits, nothing else. */
const SHORT_INTEGER = /^[+-]?\d{1,10}$/;
/** An optional sign and up to 15 digits. */
const SHORT_INT8 = /^[+-]?\d{1,15}$/;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

function integer(name: string, width: 2 | 4, read: (b: Buffer) => number, min: number, max: number): ScalarCodec {
  const bigMin = BigInt(min);
  const bigMax = BigInt(max);
  return {
    name,
    fromBinary: (b) => {
      if (b.length !== width) return null;
      const n = read(b);
      return { value: n, text: String(n) };
    },
    fromText: (text) => {
      // Short plain decimals (what servers send) without BigInt: at most 10 digits are exact as a double.
      if (SHORT_INTEGER.test(text)) {
        const n = Number(text);
        return n < min || n > max ? null : { value: n === 0 ? 0 : n, text };
      }
      const n = parseInteger(text, bigMin, bigMax);
      return n === null ? null : { value: Number(n), text };
    },
  };
}

export const int2 = integer('int2', 2, (b) => b.readInt16BE(0), -32768, 32767);
export const int4 = integer('int4', 4, (b) => b.readInt32BE(0), -2147483648, 2147483647);
/** oidsend writes an unsigned 32-bit value; oidin also accepts negatives and wraps them (-1 → 4294967295). */
export const oid: ScalarCodec = {
  name: 'oid',
  fromBinary: (b) => {
    if (b.length !== 4) return null;
    const n = b.readUInt32BE(0);
    return { value: n, text: String(n) };
  },
  fromText: (text) => {
    if (SHORT_INTEGER.test(text)) {
      const n = Number(text);
      if (n < -2147483648 || n > 4294967295) return null;
      return { value: n < 0 ? n + 4294967296 : n === 0 ? 0 : n, text };
    }
    const n = parseInteger(text, -2147483648n, 4294967295n);
    return n === null ? null : { value: Number(BigInt.asUintN(32, n)), text };
  },
};

export const int8: ScalarCodec = {
  name: 'int8',
  fromBinary: (b) => {
    if (b.length !== 8) return null;
    const n = b.readBigInt64BE(0);
    return { value: int8Value(n), text: n.toString() };
  },
  fromText: (text) => {
    // Up to 15 digits a double holds exactly (and int8Value would give the number itself).
    if (SHORT_INT8.test(text)) {
      const n = Number(text);
      return { value: n === 0 ? 0 : n, text };
    }
    const n = parseInteger(text, INT8_MIN, INT8_MAX);
    return n === null ? null : { value: int8Value(n), text };
  },
};

// ---------------------------------------------------------------- floats

/** Finite floats as numbers; NaN and the infinities as the strings PostgreSQL prints. */
function floatValue(x: number, text: string): number | string {
  return Number.isFinite(x) ? x : text;
}

/**
 * float8in / float4in: strtod syntax plus NaN, Infinity and inf in any case; a finite
 * literal that overflows or underflows to zero is an error ("out of range").
 */
function parseFloat(s: string, round: (x: number) => number): number | null {
  const v = trimmed(s);
  const lower = v.toLowerCase();
  if (lower === 'nan') return NaN;
  if (/^\+?(inf|infinity)$/.test(lower)) return Infinity;
  if (/^-(inf|infinity)$/.test(lower)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(lower)) return null;
  const x = round(Number(v));
  if (!Number.isFinite(x)) return null;
  if (x === 0 && /[1-9]/.test(lower.split('e')[0]!)) return null;
  return x;
}

function float(name: string, width: 4 | 8, read: (b: Buffer) => number, round: (x: number) => number, print: (x: number) => string): ScalarCodec {
  // The value is the printed shortest decimal read back as a double, so that a float4 0.1
  // is 0.1 (what the server prints), not 0.10000000149011612 (its exact binary value).
  const decoded = (x: number): Decoded => {
    const text = print(x);
    return { value: floatValue(Number.isFinite(x) ? Number(text) : x, text), text };
  };
  return {
    name,
    fromBinary: (b) => (b.length === width ? decoded(read(b)) : null),
    fromText: (text) => {
      const x = parseFloat(text, round);
      return x === null ? null : { value: decoded(x).value, text };
    },
  };
}

export const float4 = float('float4', 4, (b) => b.readFloatBE(0), Math.fround, float4Text);
export const float8 = float('float8', 8, (b) => b.readDoubleBE(0), (x) => x, float8Text);
