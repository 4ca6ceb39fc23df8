import type { Reader } from '../reader.js';
import { plural } from '../values.js';

/** "1 column follows" / "3 columns follow". */
export function follow(n: number, word: string): string {
  return `${plural(n, word)} follow${n === 1 ? 's' : ''}`;
}

/**
 * Read a count that announces repeated items and check it before reading them: a negative
 * count is impossible ('bad-value'), and a count whose items, at `minEach` bytes apiece,
 * cannot fit in what is left of the message is 'past-end'. Both errors point at the count.
 *
 * `width` is the documentation's type: Int16 or Int32; 'uint16' for the counts PostgreSQL
 * writes with pq_sendint16 from values up to 65535 (ParameterDescription), which clients
 * such as libpq read as unsigned.
 */
export function readCount(r: Reader, width: 'int16' | 'uint16' | 'int32', name: string, word: string, minEach: number): number {
  const meaning = (v: number): string => (v < 0 ? `${v}: impossible, a count cannot be negative` : follow(v, word));
  const n = width === 'int16' ? r.int16(name, meaning) : width === 'uint16' ? r.uint16(name, meaning) : r.int32(name, meaning);
  const at = r.pos - (width === 'int32' ? 4 : 2);
  if (n < 0) r.fail('bad-value', `${name}: zero or more, got ${n}`, at);
  if (n * minEach > r.remaining) {
    r.fail('past-end', `${name}: ${follow(n, word)} (at least ${plural(n * minEach, 'byte')}), but ${plural(r.remaining, 'byte')} left in the message`, at);
  }
  return n;
}
