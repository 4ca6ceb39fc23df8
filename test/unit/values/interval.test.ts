import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OID, binary, cat, i32, i64, rejectsBinary, text } from './helpers.js';

/** interval_send: Int64 µs, Int32 days, Int32 months. */
const interval = (us: bigint, days: number, months: number): Buffer => cat(i64(us), i32(days), i32(months));
const H = 3_600_000_000n;

describe('interval (IntervalStyle postgres)', () => {
  it('years, mons, days, then the time; plurals except for 1', () => {
    assert.deepEqual(binary(OID.interval, interval(4n * H + 306_789_000n, -3, 14)), { type: 'interval', value: '1 year 2 mons -3 days +04:05:06.789', text: '1 year 2 mons -3 days +04:05:06.789' });
    assert.equal(binary(OID.interval, interval(0n, 0, 1)).text, '1 mon');
    assert.equal(binary(OID.interval, interval(1_000_000n, 1, 12)).text, '1 year 1 day 00:00:01');
    assert.equal(binary(OID.interval, interval(0n, 0, 178000000 * 12)).text, '178000000 years');
  });
  it('zero prints as 00:00:00', () => {
    assert.equal(binary(OID.interval, interval(0n, 0, 0)).text, '00:00:00');
  });
  it('signs: negative fields keep their sign, a positive one after a negative one gets "+"', () => {
    assert.equal(binary(OID.interval, interval(0n, 0, -14)).text, '-1 years -2 mons');
    assert.equal(binary(OID.interval, interval(0n, 3, -1)).text, '-1 mons +3 days');
    assert.equal(binary(OID.interval, interval(-1_000_000n, 1, 0)).text, '1 day -00:00:01');
    assert.equal(binary(OID.interval, interval(H, -1, 0)).text, '-1 days +01:00:00');
    assert.equal(binary(OID.interval, interval(1_000_000n, -1, 1)).text, '1 mon -1 days +00:00:01');
    assert.equal(binary(OID.interval, interval(-500_000n, 0, 0)).text, '-00:00:00.5');
    assert.equal(binary(OID.interval, interval(-1n, 0, 0)).text, '-00:00:00.000001');
    assert.equal(binary(OID.interval, interval(0n, -2147483648, 0)).text, '-2147483648 days');
  });
  it('hours beyond a day and up to the Int64 limit', () => {
    assert.equal(binary(OID.interval, interval(25n * H, 0, 0)).text, '25:00:00');
    assert.equal(binary(OID.interval, interval(0x7fffffffffffffffn, 0, 0)).text, '2562047788:00:54.775807');
  });
  it("PostgreSQL 17's infinite intervals", () => {
    assert.equal(binary(OID.interval, interval(0x7fffffffffffffffn, 0x7fffffff, 0x7fffffff)).text, 'infinity');
    assert.equal(binary(OID.interval, interval(-0x8000000000000000n, -0x80000000, -0x80000000)).text, '-infinity');
  });
  it('wrong length is not an interval; text is kept as written', () => {
    rejectsBinary(OID.interval, i64(0n));
    rejectsBinary(OID.interval, cat(interval(0n, 0, 0), Buffer.from([0])));
    assert.equal(text(OID.interval, '1 day').value, '1 day');
  });
});
