import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { date2j, j2date, POSTGRES_EPOCH_JDATE } from '../../../src/protocol/values/calendar.js';
import { OID, binary, cat, i32, i64, rejectsBinary, rejectsText, text } from './helpers.js';

const DAY = 86_400_000_000n;
/** Days since 2000-01-01 of a calendar date (year 0 = 1 BC). */
const days = (y: number, m: number, d: number): number => date2j(y, m, d) - POSTGRES_EPOCH_JDATE;

describe('calendar', () => {
  it('j2date inverts date2j across the whole supported range, BC included', () => {
    for (let jd = 0; jd < 2_500_000; jd += 997) {
      const { year, month, day } = j2date(jd);
      assert.equal(date2j(year, month, day), jd);
      assert.ok(month >= 1 && month <= 12 && day >= 1 && day <= 31);
    }
    assert.deepEqual(j2date(POSTGRES_EPOCH_JDATE), { year: 2000, month: 1, day: 1 });
    assert.deepEqual(j2date(0), { year: -4713, month: 11, day: 24 });
  });
});

describe('date', () => {
  it('binary: days since 2000-01-01, ISO with zero-padded years and " BC"', () => {
    assert.deepEqual(binary(OID.date, i32(0)), { type: 'date', value: '2000-01-01', text: '2000-01-01' });
    assert.equal(binary(OID.date, i32(days(2024, 2, 29))).text, '2024-02-29');
    assert.equal(binary(OID.date, i32(-1)).text, '1999-12-31');
    assert.equal(binary(OID.date, i32(days(99, 1, 1))).text, '0099-01-01');
    assert.equal(binary(OID.date, i32(days(0, 1, 1))).text, '0001-01-01 BC');
    assert.equal(binary(OID.date, i32(days(-43, 3, 15))).text, '0044-03-15 BC');
    assert.equal(binary(OID.date, i32(-POSTGRES_EPOCH_JDATE)).text, '4714-11-24 BC');
    assert.equal(binary(OID.date, i32(days(5874897, 12, 31))).text, '5874897-12-31');
  });
  it('infinity is INT_MAX / INT_MIN; other days outside the range are not dates', () => {
    assert.equal(binary(OID.date, i32(0x7fffffff)).text, 'infinity');
    assert.equal(binary(OID.date, i32(-0x80000000)).text, '-infinity');
    rejectsBinary(OID.date, i32(-POSTGRES_EPOCH_JDATE - 1));
    rejectsBinary(OID.date, i32(days(5874898, 1, 1)));
    rejectsBinary(OID.date, i64(0n));
  });
  it('text is kept as written', () => {
    assert.deepEqual(text(OID.date, '2000-01-01 BC'), { type: 'date', value: '2000-01-01 BC', text: '2000-01-01 BC' });
    rejectsText(OID.date, '');
    rejectsText(OID.date, Buffer.from([0xff, 0xfe]));
  });
});

describe('time and timetz', () => {
  it('time: µs since midnight, fraction without trailing zeros, 24:00:00 allowed', () => {
    assert.deepEqual(binary(OID.time, i64(0n)), { type: 'time', value: '00:00:00', text: '00:00:00' });
    assert.equal(binary(OID.time, i64(DAY - 1n)).text, '23:59:59.999999');
    assert.equal(binary(OID.time, i64(DAY)).text, '24:00:00');
    assert.equal(binary(OID.time, i64(45_296_500_000n)).text, '12:34:56.5');
    assert.equal(binary(OID.time, i64(3_723_000_010n)).text, '01:02:03.00001');
    rejectsBinary(OID.time, i64(-1n));
    rejectsBinary(OID.time, i64(DAY + 1n));
    rejectsBinary(OID.time, i32(0));
  });
  it('timetz: zone is seconds WEST, printed as offset east with minutes / seconds only when needed', () => {
    const t = i64(45_296_000_000n); // 12:34:56
    assert.equal(binary(OID.timetz, cat(t, i32(-19800))).text, '12:34:56+05:30');
    assert.equal(binary(OID.timetz, cat(t, i32(28800))).text, '12:34:56-08');
    assert.equal(binary(OID.timetz, cat(t, i32(0))).text, '12:34:56+00');
    assert.equal(binary(OID.timetz, cat(t, i32(12345))).text, '12:34:56-03:25:45');
    assert.equal(binary(OID.timetz, cat(t, i32(-57540))).text, '12:34:56+15:59');
    rejectsBinary(OID.timetz, cat(t, i32(57541)));
    rejectsBinary(OID.timetz, t);
  });
});

describe('timestamp and timestamptz', () => {
  const at = (y: number, mo: number, d: number, us = 0n): Buffer => i64(BigInt(days(y, mo, d)) * DAY + us);
  it('binary: µs since 2000-01-01 00:00:00, ISO, "+00" for timestamptz in UTC', () => {
    assert.deepEqual(binary(OID.timestamp, at(2024, 1, 2, 11_045_678_000n)), { type: 'timestamp', value: '2024-01-02 03:04:05.678', text: '2024-01-02 03:04:05.678' });
    assert.equal(binary(OID.timestamptz, at(2024, 1, 2, 11_045_678_000n)).text, '2024-01-02 03:04:05.678+00');
    assert.equal(binary(OID.timestamp, i64(-1n)).text, '1999-12-31 23:59:59.999999');
    assert.equal(binary(OID.timestamp, at(1970, 1, 1, 1n)).text, '1970-01-01 00:00:00.000001');
  });
  it('BC goes after the zone, as EncodeDateTime writes it', () => {
    assert.equal(binary(OID.timestamp, at(-43, 3, 15, 43_200_000_000n)).text, '0044-03-15 12:00:00 BC');
    assert.equal(binary(OID.timestamptz, at(0, 1, 1)).text, '0001-01-01 00:00:00+00 BC');
  });
  it('range: infinity at INT64 max / min, 4714-11-24 BC to 294276-12-31, nothing beyond', () => {
    assert.equal(binary(OID.timestamptz, i64(0x7fffffffffffffffn)).text, 'infinity');
    assert.equal(binary(OID.timestamp, i64(-0x8000000000000000n)).text, '-infinity');
    assert.equal(binary(OID.timestamp, at(-4713, 11, 24)).text, '4714-11-24 00:00:00 BC');
    assert.equal(binary(OID.timestamp, at(294276, 12, 31, DAY - 1n)).text, '294276-12-31 23:59:59.999999');
    rejectsBinary(OID.timestamp, i64(BigInt(days(-4713, 11, 24)) * DAY - 1n));
    rejectsBinary(OID.timestamp, at(294277, 1, 1));
    rejectsBinary(OID.timestamptz, i32(0));
  });
  it('text is kept as written', () => {
    assert.equal(text(OID.timestamptz, '2024-06-01 10:00:00+00').value, '2024-06-01 10:00:00+00');
  });
});
