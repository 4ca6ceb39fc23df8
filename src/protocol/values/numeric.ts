/**
 * numeric: numeric_send writes Int16 ndigits, Int16 weight, UInt16 sign, Int16 dscale and
 * ndigits base-10000 digits (NBASE), the first of which is worth NBASE^weight. numeric_out
 * (get_str_from_var) prints the integer part without leading zeros and exactly dscale
 * fraction digits. The value is that same string: a JavaScript number would round it.
 */
import type { Decoded, ScalarCodec } from './codec.js';

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
const NUMERIC_DSCALE_MASK = 0x3fff;
const NBASE = 10000;
/** numeric_in refuses exponents beyond ±NUMERIC_MAX_PRECISION. */
const NUMERIC_MAX_PRECISION = 1000;
/**
 * Longest numeric text decoded from the binary form. The header alone (weight up to 32767,
 * dscale up to 16383) can ask for ~147,000 digits from a few bytes; PostgreSQL allows that
 * many, but pgscope only shows bounded values, so a longer value is not decoded (null: its
 * escaped bytes are shown). 1,024 covers every numeric(1000, s) value: at most 1,000 digits
 * plus a sign and a point.
 */
export const NUMERIC_MAX_TEXT_CHARS = 1024;

const SPECIAL: Record<number, string> = { [NUMERIC_NAN]: 'NaN', [NUMERIC_PINF]: 'Infinity', [NUMERIC_NINF]: '-Infinity' };

function fromBinary(b: Buffer): Decoded | null {
  if (b.length < 8) return null;
  const ndigits = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (ndigits < 0 || b.length !== 8 + 2 * ndigits) return null;
  const special = SPECIAL[sign];
  if (special !== undefined) return { value: special, text: special };
  if (sign !== NUMERIC_POS && sign !== NUMERIC_NEG) return null;
  if ((dscale & NUMERIC_DSCALE_MASK) !== dscale) return null;
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) {
    const d = b.readInt16BE(8 + 2 * i);
    if (d < 0 || d >= NBASE) return null;
    digits.push(d);
  }
  const digitAt = (i: number): number => (i >= 0 && i < ndigits ? digits[i]! : 0);

  // The length of the text, from the header, before building any of it.
  const intChars = weight < 0 ? 1 : String(digitAt(0)).length + 4 * weight;
  const length = (sign === NUMERIC_NEG ? 1 : 0) + intChars + (dscale > 0 ? 1 + dscale : 0);
  if (length > NUMERIC_MAX_TEXT_CHARS) return null;

  const parts: string[] = [];
  if (sign === NUMERIC_NEG) parts.push('-');
  if (weight < 0) parts.push('0');
  else {
    // The first group without its leading zeros, then every group as four digits.
    parts.push(String(digitAt(0)));
    for (let i = 1; i <= weight; i++) parts.push(String(digitAt(i)).padStart(4, '0'));
  }
  if (dscale > 0) {
    const fraction: string[] = [];
    for (let i = weight + 1, n = 0; n < dscale; i++, n += 4) fraction.push(String(digitAt(i)).padStart(4, '0'));
    parts.push('.', fraction.join('').slice(0, dscale));
  }
  const text = parts.join('');
  return { value: text, text };
}

/**
 * numeric_in: optional sign, digits with one optional point, optional exponent; or NaN,
 * Infinity, inf (signed). The display scale is the number of fraction digits written minus
 * the exponent (never below 0), so "1.50" stays 1.50 and "1.5e3" is 1500.
 */
export function canonicalNumeric(s: string): string | null {
  const v = s.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
  const lower = v.toLowerCase();
  if (lower === 'nan') return 'NaN';
  if (/^\+?(inf|infinity)$/.test(lower)) return 'Infinity';
  if (/^-(inf|infinity)$/.test(lower)) return '-Infinity';
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/.exec(lower);
  if (!m) return null;
  const [, sign, whole = '', fraction = '', exp = '0'] = m;
  if (whole === '' && fraction === '') return null;
  const exponent = Number(exp);
  if (!Number.isFinite(exponent) || Math.abs(exponent) > NUMERIC_MAX_PRECISION) return null;
  const dscale = Math.max(0, fraction.length - exponent);
  let all = whole + fraction;
  let point = whole.length + exponent;
  if (point < 0) {
    all = '0'.repeat(-point) + all;
    point = 0;
  }
  if (point > all.length) all += '0'.repeat(point - all.length);
  const intPart = all.slice(0, point).replace(/^0+/, '') || '0';
  const fracPart = all.slice(point).padEnd(dscale, '0').slice(0, dscale);
  const zero = !/[1-9]/.test(intPart + fracPart);
  return `${sign === '-' && !zero ? '-' : ''}${intPart}${dscale > 0 ? '.' + fracPart : ''}`;
}

export const numeric: ScalarCodec = {
  name: 'numeric',
  fromBinary,
  fromText: (text) => {
    const value = canonicalNumeric(text);
    return value === null ? null : { value, text };
  },
};
