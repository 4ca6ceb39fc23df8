/**
 * date, time, timetz, timestamp, timestamptz in their binary forms (date_send: Int32 days
 * since 2000-01-01; time_send: Int64 µs since midnight; timetz_send: that plus Int32 zone
 * seconds west of UTC; timestamp_send: Int64 µs since 2000-01-01 00:00:00), printed as
 * PostgreSQL does with DateStyle=ISO and TimeZone=UTC.
 *
 * The value is the printed text: PostgreSQL's dates reach far beyond JavaScript's Date
 * (BC years, year 294276, infinity), and a string is what JSON would hold anyway. Text
 * input is kept as written: the server's datetime parser accepts dozens of styles, and
 * guessing at them would be worse than showing what was sent.
 */
import type { Decoded, ScalarCodec } from './codec.js';
import { POSTGRES_EPOCH_JDATE, USECS_PER_DAY, era, floorDivMod, isoDate, j2date, timeOfDay, zoneOffset } from './calendar.js';

const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/** IS_VALID_DATE: Julian day 0 (4714-11-24 BC) up to DATE_END_JULIAN (5874898-01-01). */
const DATE_MIN = 0 - POSTGRES_EPOCH_JDATE;
const DATE_END = 2147483494 - POSTGRES_EPOCH_JDATE;
/** IS_VALID_TIMESTAMP: MIN_TIMESTAMP (4714-11-24 00:00:00 BC) ≤ t < END_TIMESTAMP (294277-01-01). */
const MIN_TIMESTAMP = -211813488000000000n;
const END_TIMESTAMP = 9223371331200000000n;
/** TZDISP_LIMIT: zones up to 15:59 either side of UTC. */
const TZDISP_LIMIT = (15 * 60 + 59) * 60;

const textKept = (text: string): Decoded | null => (text.trim() === '' ? null : { value: text, text });
const same = (text: string): Decoded => ({ value: text, text });

export function dateText(days: number): string | null {
  if (days === INT32_MAX) return 'infinity';
  if (days === INT32_MIN) return '-infinity';
  if (days < DATE_MIN || days >= DATE_END) return null;
  const ymd = j2date(days + POSTGRES_EPOCH_JDATE);
  return isoDate(ymd) + era(ymd.year);
}

/** timestamp2tm then EncodeDateTime (ISO): "YYYY-MM-DD HH:MM:SS[.ffffff][+00][ BC]". */
export function timestampText(us: bigint, withZone: boolean): string | null {
  if (us === INT64_MAX) return 'infinity';
  if (us === INT64_MIN) return '-infinity';
  if (us < MIN_TIMESTAMP || us >= END_TIMESTAMP) return null;
  const [days, time] = floorDivMod(us, USECS_PER_DAY);
  const ymd = j2date(Number(days) + POSTGRES_EPOCH_JDATE);
  return `${isoDate(ymd)} ${timeOfDay(time)}${withZone ? '+00' : ''}${era(ymd.year)}`;
}

function timeText(us: bigint): string | null {
  return us < 0n || us > USECS_PER_DAY ? null : timeOfDay(us);
}

const codec = (name: string, fromBinary: (b: Buffer) => string | null): ScalarCodec => ({
  name,
  fromBinary: (b) => {
    const t = fromBinary(b);
    return t === null ? null : same(t);
  },
  fromText: textKept,
});

export const date = codec('date', (b) => (b.length === 4 ? dateText(b.readInt32BE(0)) : null));
export const time = codec('time', (b) => (b.length === 8 ? timeText(b.readBigInt64BE(0)) : null));
export const timetz = codec('timetz', (b) => {
  if (b.length !== 12) return null;
  const t = timeText(b.readBigInt64BE(0));
  const zone = b.readInt32BE(8);
  return t === null || Math.abs(zone) > TZDISP_LIMIT ? null : t + zoneOffset(zone);
});
export const timestamp = codec('timestamp', (b) => (b.length === 8 ? timestampText(b.readBigInt64BE(0), false) : null));
export const timestamptz = codec('timestamptz', (b) => (b.length === 8 ? timestampText(b.readBigInt64BE(0), true) : null));
