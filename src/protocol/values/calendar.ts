/**
 * The date arithmetic of PostgreSQL's datetime.c / timestamp.c, and the pieces of its ISO
 * output (EncodeDateOnly, EncodeTimeOnly, EncodeDateTime, EncodeTimezone, AppendSeconds).
 * Julian day numbers run over the whole proleptic Gregorian calendar PostgreSQL supports
 * (4714-11-24 BC onward); year 0 is 1 BC.
 */
import { zeroPad } from './codec.js';

/** date2j(2000, 1, 1): wire dates and timestamps count from 2000-01-01. */
export const POSTGRES_EPOCH_JDATE = 2451545;
export const USECS_PER_DAY = 86_400_000_000n;
export const USECS_PER_HOUR = 3_600_000_000n;
export const USECS_PER_MINUTE = 60_000_000n;
export const USECS_PER_SEC = 1_000_000n;

export interface Ymd {
  year: number;
  month: number;
  day: number;
}

/** j2date: Julian day number (≥ 0) to year, month, day. */
export function j2date(jd: number): Ymd {
  let julian = jd + 32044;
  let quad = Math.floor(julian / 146097);
  const extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + Math.floor(extra / 146097);
  quad = Math.floor(julian / 1461);
  julian -= quad * 1461;
  let y = Math.floor((julian * 4) / 1461);
  julian = (y !== 0 ? (julian + 305) % 365 : (julian + 306) % 366) + 123;
  y += quad * 4;
  const q2 = Math.floor((julian * 2141) / 65536);
  return { year: y - 4800, day: julian - Math.floor((7834 * q2) / 256), month: ((q2 + 10) % 12) + 1 };
}

/** date2j: the inverse of j2date (used by tests and to state range limits by date). */
export function date2j(year: number, month: number, day: number): number {
  let y = year;
  let m = month;
  if (m > 2) {
    m += 1;
    y += 4800;
  } else {
    m += 13;
    y += 4799;
  }
  const century = Math.floor(y / 100);
  let julian = y * 365 - 32167;
  julian += Math.floor(y / 4) - century + Math.floor(century / 4);
  julian += Math.floor((7834 * m) / 256) + day;
  return julian;
}

/** EncodeDateOnly, DateStyle ISO: YYYY-MM-DD, years under 1000 zero-padded, "BC" kept for the end. */
export function isoDate({ year, month, day }: Ymd): string {
  const y = year > 0 ? year : -(year - 1);
  return `${zeroPad(y, 4)}-${zeroPad(month, 2)}-${zeroPad(day, 2)}`;
}

/** " BC" for years ≤ 0 (EncodeDateOnly / EncodeDateTime append it last, after the zone). */
export const era = (year: number): string => (year <= 0 ? ' BC' : '');

/**
 * AppendSeconds with fillzeros: two-digit seconds, then up to six fraction digits with
 * trailing zeros dropped. Signs are the caller's business (PostgreSQL prints absolute values).
 */
export function seconds(sec: number, fsec: number): string {
  let s = zeroPad(Math.abs(sec), 2);
  if (fsec !== 0) s += '.' + zeroPad(Math.abs(fsec), 6).replace(/0+$/, '');
  return s;
}

/** HH:MM:SS[.ffffff] of a time of day in µs (0 to 24:00:00 inclusive). */
export function timeOfDay(us: bigint): string {
  const hour = us / USECS_PER_HOUR;
  const min = (us % USECS_PER_HOUR) / USECS_PER_MINUTE;
  const sec = (us % USECS_PER_MINUTE) / USECS_PER_SEC;
  const fsec = us % USECS_PER_SEC;
  return `${zeroPad(hour, 2)}:${zeroPad(min, 2)}:${seconds(Number(sec), Number(fsec))}`;
}

/**
 * EncodeTimezone: the zone is seconds WEST of UTC (PostgreSQL's internal sign), printed
 * as an offset east: +HH, +HH:MM or +HH:MM:SS, whichever is the shortest exact one.
 */
export function zoneOffset(secondsWest: number): string {
  let sec = Math.abs(secondsWest);
  let min = Math.floor(sec / 60);
  sec -= min * 60;
  const hour = Math.floor(min / 60);
  min -= hour * 60;
  const sign = secondsWest <= 0 ? '+' : '-';
  if (sec !== 0) return `${sign}${zeroPad(hour, 2)}:${zeroPad(min, 2)}:${zeroPad(sec, 2)}`;
  if (min !== 0) return `${sign}${zeroPad(hour, 2)}:${zeroPad(min, 2)}`;
  return `${sign}${zeroPad(hour, 2)}`;
}

/** Floor division and its non-negative remainder, for µs before 2000-01-01. */
export function floorDivMod(a: bigint, b: bigint): [bigint, bigint] {
  let q = a / b;
  let r = a % b;
  if (r < 0n) {
    r += b;
    q -= 1n;
  }
  return [q, r];
}
