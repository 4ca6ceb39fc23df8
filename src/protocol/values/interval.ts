/**
 * interval: interval_send writes Int64 µs, Int32 days, Int32 months, kept apart because a
 * day is not always 24 hours and a month not always 30 days. Printed as EncodeInterval
 * does with IntervalStyle=postgres: "1 year 2 mons -3 days +04:05:06.789". The value is
 * that text (see datetime.ts for why dates and times are strings).
 */
import type { ScalarCodec } from './codec.js';
import { USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, seconds } from './calendar.js';

const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/**
 * One nonzero field, as AddPostgresIntPart prints it: a space before all but the first,
 * a "+" when the field before it was negative and this one is positive, and a plural "s".
 */
class Parts {
  text = '';
  isZero = true;
  isBefore = false;

  add(value: number, unit: string): void {
    if (value === 0) return;
    this.text += `${this.isZero ? '' : ' '}${this.isBefore && value > 0 ? '+' : ''}${value} ${unit}${value !== 1 ? 's' : ''}`;
    this.isBefore = value < 0;
    this.isZero = false;
  }
}

export function intervalText(time: bigint, days: number, months: number): string {
  // PostgreSQL 17's infinite intervals: every field at its maximum (or minimum).
  if (time === INT64_MAX && days === INT32_MAX && months === INT32_MAX) return 'infinity';
  if (time === INT64_MIN && days === INT32_MIN && months === INT32_MIN) return '-infinity';
  // interval2itm: C division truncates toward zero, so every field keeps the sign of its source.
  const p = new Parts();
  p.add(Math.trunc(months / 12), 'year');
  p.add(months % 12, 'mon');
  p.add(days, 'day');
  const hour = time / USECS_PER_HOUR;
  const min = (time % USECS_PER_HOUR) / USECS_PER_MINUTE;
  const sec = (time % USECS_PER_MINUTE) / USECS_PER_SEC;
  const fsec = time % USECS_PER_SEC;
  if (p.isZero || time !== 0n) {
    const minus = hour < 0n || min < 0n || sec < 0n || fsec < 0n;
    const abs = (n: bigint): bigint => (n < 0n ? -n : n);
    p.text +=
      `${p.isZero ? '' : ' '}${minus ? '-' : p.isBefore ? '+' : ''}` +
      `${abs(hour).toString().padStart(2, '0')}:${abs(min).toString().padStart(2, '0')}:${seconds(Number(sec), Number(fsec))}`;
  }
  return p.text;
}

export const interval: ScalarCodec = {
  name: 'interval',
  fromBinary: (b) => {
    if (b.length !== 16) return null;
    const text = intervalText(b.readBigInt64BE(0), b.readInt32BE(8), b.readInt32BE(12));
    return { value: text, text };
  },
  // Text input stays as written (interval_in accepts many styles: "1 day", "P1D", "1-2" …).
  fromText: (text) => (text.trim() === '' ? null : { value: text, text }),
};
