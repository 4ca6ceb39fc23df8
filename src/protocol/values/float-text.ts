/**
 * float4out / float8out with extra_float_digits > 0 (the default since PostgreSQL 12):
 * Ryu's shortest decimal (src/common/f2s.c, d2s.c), printed in fixed notation when the
 * decimal exponent is in [-4, 15) for float8 and [-4, 6) for float4 (printf's %g
 * thresholds with DBL_DIG / FLT_DIG), else as d.ddde±XX. Special values print as NaN,
 * Infinity, -Infinity; negative zero as -0.
 *
 * PostgreSQL builds Ryu without STRICTLY_SHORTEST, so a decimal lying exactly halfway to a
 * neighbouring float is never chosen, although it would read back correctly: that is why
 * JavaScript's own shortest form (which allows it) is only a starting point here.
 */

/** Shortest digits (no leading/trailing zeros) and the decimal exponent of the first one. */
interface Shortest {
  digits: string;
  exponent: number;
}

/** A non-negative rational n / d, compared exactly. */
interface Ratio {
  n: bigint;
  d: bigint;
}
const cmp = (a: Ratio, b: Ratio): number => {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
};
const pow10 = (k: number): Ratio => (k >= 0 ? { n: 10n ** BigInt(k), d: 1n } : { n: 1n, d: 10n ** BigInt(-k) });
const times = (c: bigint, r: Ratio): Ratio => ({ n: c * r.n, d: r.d });

/** IEEE 754 layouts: significand bits (without the implicit one) and exponent bias. */
interface Layout {
  mantissaBits: number;
  bias: number;
  /** Sign-less bits of |x| as a bigint. */
  bits(x: number): bigint;
}
const SINGLE: Layout = {
  mantissaBits: 23,
  bias: 127,
  bits: (x) => {
    const v = new DataView(new ArrayBuffer(4));
    v.setFloat32(0, x);
    return BigInt(v.getUint32(0));
  },
};
const DOUBLE: Layout = {
  mantissaBits: 52,
  bias: 1023,
  bits: (x) => {
    const v = new DataView(new ArrayBuffer(8));
    v.setFloat64(0, x);
    return v.getBigUint64(0);
  },
};

/**
 * The shortest decimal strictly inside |x|'s rounding interval (half the gap to each
 * neighbour; the lower gap is half as wide just above a power of two), and of those the
 * nearest to the exact value, ties to an even last digit. Exact rational arithmetic, from
 * `fromDigits` significant digits upward (no shorter decimal can qualify).
 */
function shortest(x: number, layout: Layout, fromDigits: number): Shortest {
  const bits = layout.bits(Math.abs(x));
  const field = bits & ((1n << BigInt(layout.mantissaBits)) - 1n);
  const biased = Number(bits >> BigInt(layout.mantissaBits));
  const m = biased === 0 ? field : field | (1n << BigInt(layout.mantissaBits));
  const e = (biased === 0 ? 1 : biased) - layout.bias - layout.mantissaBits;
  // In units of 2^(e-2), as Ryu counts: the value is 4m, the bounds 4m + 2 and 4m - 2 (or - 1).
  const unit: Ratio = e - 2 >= 0 ? { n: 2n ** BigInt(e - 2), d: 1n } : { n: 1n, d: 2n ** BigInt(2 - e) };
  const exact = times(4n * m, unit);
  const low = times(4n * m - (field === 0n && biased > 1 ? 1n : 2n), unit);
  const high = times(4n * m + 2n, unit);
  const inside = (c: Ratio): boolean => cmp(c, low) > 0 && cmp(c, high) < 0;

  let k = Math.floor(Math.log10(Math.abs(x)));
  while (cmp(pow10(k), exact) > 0) k--;
  while (cmp(pow10(k + 1), exact) <= 0) k++;
  for (let p = Math.max(1, fromDigits); ; p++) {
    const scale = k - (p - 1);
    const step = pow10(scale);
    const num = exact.n * step.d;
    const den = exact.d * step.n;
    const lower = num / den;
    const twiceRest = 2n * (num - lower * den);
    const candidates = [lower, lower + 1n].filter((c) => c > 0n && inside(times(c, step)));
    if (candidates.length === 0) continue;
    let chosen = candidates[0]!;
    if (candidates.length === 2) chosen = twiceRest < den ? lower : twiceRest > den ? lower + 1n : lower % 2n === 0n ? lower : lower + 1n;
    const digits = chosen.toString();
    return { digits: digits.replace(/0+$/, ''), exponent: scale + digits.length - 1 };
  }
}

/** Significant digits of JavaScript's shortest form, which allows the bounds and so is never longer. */
const jsDigits = (x: number): number => Math.abs(x).toExponential().split('e')[0]!.replace('.', '').length;

function layoutText(negative: boolean, s: Shortest, fixedBelow: number): string {
  const sign = negative ? '-' : '';
  const { digits, exponent } = s;
  if (exponent >= -4 && exponent < fixedBelow) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    if (digits.length <= exponent + 1) return sign + digits + '0'.repeat(exponent + 1 - digits.length);
    return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const abs = Math.abs(exponent);
  return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${abs < 10 ? '0' + abs : abs}`;
}

function special(x: number): string | null {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  return null;
}

export function float8Text(x: number): string {
  return special(x) ?? layoutText(x < 0, shortest(x, DOUBLE, jsDigits(x)), 15);
}

/** x must already be a float4 value (Math.fround). */
export function float4Text(x: number): string {
  return special(x) ?? layoutText(x < 0, shortest(x, SINGLE, 1), 6);
}
