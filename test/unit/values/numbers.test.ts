import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OID, binary, f32, f64, i16, i32, i64, rejectsBinary, rejectsText, text, u32 } from './helpers.js';

describe('bool', () => {
  it('binary: one byte, any non-zero is true (boolrecv), printed t / f', () => {
    assert.deepEqual(binary(OID.bool, [1]), { type: 'bool', value: true, text: 't' });
    assert.deepEqual(binary(OID.bool, [0]), { type: 'bool', value: false, text: 'f' });
    assert.equal(binary(OID.bool, [2]).value, true);
    rejectsBinary(OID.bool, []);
    rejectsBinary(OID.bool, [1, 0]);
  });
  it('text: every spelling boolin accepts, text kept as sent', () => {
    for (const t of ['t', 'true', 'TRUE', ' yes ', 'on', '1', 'tr', 'y']) assert.equal(text(OID.bool, t).value, true, t);
    for (const t of ['f', 'false', 'no', 'off', 'of', '0', 'n']) assert.equal(text(OID.bool, t).value, false, t);
    assert.equal(text(OID.bool, ' yes ').text, ' yes ');
    for (const t of ['', 'o', 'maybe', '2', 'truee']) rejectsText(OID.bool, t);
  });
});

describe('int2, int4, int8, oid', () => {
  it('binary: signed big-endian of the exact width', () => {
    assert.deepEqual(binary(OID.int2, i16(-32768)), { type: 'int2', value: -32768, text: '-32768' });
    assert.deepEqual(binary(OID.int4, i32(2147483647)), { type: 'int4', value: 2147483647, text: '2147483647' });
    assert.deepEqual(binary(OID.int8, i64(-42n)), { type: 'int8', value: -42, text: '-42' });
    rejectsBinary(OID.int2, i32(1));
    rejectsBinary(OID.int4, i16(1));
    rejectsBinary(OID.int8, i32(1));
  });
  it('int8 stays a number only while exact; beyond 2^53 it is a string with every digit', () => {
    assert.equal(binary(OID.int8, i64(9007199254740991n)).value, 9007199254740991);
    assert.deepEqual(binary(OID.int8, i64(9007199254740993n)), { type: 'int8', value: '9007199254740993', text: '9007199254740993' });
    assert.equal(binary(OID.int8, i64(-(2n ** 63n))).value, '-9223372036854775808');
    assert.equal(text(OID.int8, '9223372036854775807').value, '9223372036854775807');
    assert.equal(text(OID.int8, '-9007199254740992').value, '-9007199254740992');
  });
  it('oid is unsigned; oidin wraps negatives', () => {
    assert.deepEqual(binary(OID.oid, u32(4294967295)), { type: 'oid', value: 4294967295, text: '4294967295' });
    assert.equal(text(OID.oid, '-1').value, 4294967295);
    rejectsText(OID.oid, '4294967296');
  });
  it('text: optional sign and surrounding white space, range checked', () => {
    assert.deepEqual(text(OID.int4, ' -17 '), { type: 'int4', value: -17, text: ' -17 ' });
    assert.equal(text(OID.int2, '+5').value, 5);
    rejectsText(OID.int2, '32768');
    rejectsText(OID.int4, '2147483648');
    rejectsText(OID.int8, '9223372036854775808');
    for (const t of ['', '1.5', '1e3', '12a', '- 1']) rejectsText(OID.int4, t);
  });
});

describe('float4, float8', () => {
  it('float8: shortest round-trip digits, %g-like switch to exponent at 1e15 and below 1e-4', () => {
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [1 / 3, '0.3333333333333333'],
      [100, '100'],
      [123456789012345, '123456789012345'],
      [1e15, '1e+15'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [-1.5e300, '-1.5e+300'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ];
    for (const [x, t] of cases) assert.deepEqual(binary(OID.float8, f64(x)), { type: 'float8', value: Number(t), text: t }, t);
  });
  it('float8: never the decimal exactly halfway to the next float (PostgreSQL builds Ryu without STRICTLY_SHORTEST)', () => {
    // 486375879604076032 is 32 (half a unit) above 486375879604076000, which JavaScript
    // prints as it reads back by round-half-even; PostgreSQL prints 17 digits.
    const x = Buffer.from('c39affd1246c79f8', 'hex');
    assert.equal(binary(OID.float8, x).text, '-4.8637587960407603e+17');
  });
  it('float4: shortest digits for the float4, not for the double holding it; exponent from 1e6', () => {
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [123456, '123456'],
      [1e6, '1e+06'],
      [16777216, '1.6777216e+07'],
      [1.4e-45, '1e-45'],
      [3.4028235e38, '3.4028235e+38'],
      [-476821.625, '-476821.62'], // a tie between two 8-digit decimals: the even one
    ];
    for (const [x, t] of cases) assert.deepEqual(binary(OID.float4, f32(x)), { type: 'float4', value: Number(t), text: t }, t);
    assert.equal(binary(OID.float4, Buffer.from('4de98ff2', 'hex')).text, '4.8981562e+08'); // not the halfway 4.898156e+08
  });
  it('special values: NaN and infinities as strings, negative zero as -0', () => {
    for (const [oid, enc] of [[OID.float4, f32], [OID.float8, f64]] as const) {
      assert.deepEqual(binary(oid, enc(NaN)).value, 'NaN');
      assert.deepEqual(binary(oid, enc(Infinity)), { type: oid === OID.float4 ? 'float4' : 'float8', value: 'Infinity', text: 'Infinity' });
      assert.equal(binary(oid, enc(-Infinity)).text, '-Infinity');
      const z = binary(oid, enc(-0));
      assert.equal(z.text, '-0');
      assert.ok(Object.is(z.value, -0));
    }
  });
  it('text: the value is what the server would store, rounded to float4 for float4', () => {
    assert.deepEqual(text(OID.float8, ' 1.5e3 '), { type: 'float8', value: 1500, text: ' 1.5e3 ' });
    assert.equal(text(OID.float4, '0.1').value, 0.1);
    assert.equal(text(OID.float4, '0.1000000001').value, 0.1);
    assert.equal(text(OID.float8, 'nan').value, 'NaN');
    assert.equal(text(OID.float8, '-inf').value, '-Infinity');
    assert.equal(text(OID.float4, 'Infinity').value, 'Infinity');
    rejectsText(OID.float8, '1e400'); // out of range, as float8in says
    rejectsText(OID.float4, '1e39');
    rejectsText(OID.float4, '1e-50');
    for (const t of ['', 'abc', '1.2.3', '0x10']) rejectsText(OID.float8, t);
  });
  it('wrong widths are not floats', () => {
    rejectsBinary(OID.float4, f64(1));
    rejectsBinary(OID.float8, f32(1));
  });
});
