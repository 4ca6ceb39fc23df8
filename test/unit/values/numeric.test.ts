import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OID, binary, cat, i16, rejectsBinary, rejectsText, text } from './helpers.js';

/** numeric_send: ndigits, weight, sign, dscale, then base-10000 digits. */
function numeric(weight: number, sign: number, dscale: number, digits: number[]): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(sign, 0);
  b.writeInt16BE(dscale, 2);
  return cat(i16(digits.length), i16(weight), b, ...digits.map(i16));
}

describe('numeric', () => {
  it('binary: integer and fraction groups, dscale fraction digits, value as the exact string', () => {
    // -12345.678900: digits 1 2345 6789, weight 1, dscale 6
    assert.deepEqual(binary(OID.numeric, numeric(1, 0x4000, 6, [1, 2345, 6789])), { type: 'numeric', value: '-12345.678900', text: '-12345.678900' });
    assert.equal(binary(OID.numeric, numeric(0, 0, 0, [42])).text, '42');
    // 10000 is one digit "1" of weight 1: the missing group prints as 0000
    assert.equal(binary(OID.numeric, numeric(1, 0, 0, [1])).text, '10000');
    // 0.0001: weight -1, digit 1
    assert.equal(binary(OID.numeric, numeric(-1, 0, 4, [1])).text, '0.0001');
    // 1e-20: weight -5, digit 1 (0.0000 0000 0000 0000 0001)
    assert.equal(binary(OID.numeric, numeric(-5, 0, 20, [1])).text, '0.00000000000000000001');
    // 12345678901234567890.123
    assert.equal(binary(OID.numeric, numeric(4, 0, 3, [1234, 5678, 9012, 3456, 7890, 1230])).text, '12345678901234567890.123');
    // dscale shorter than the digits sent: printed digits stop at dscale (numeric_out truncates)
    assert.equal(binary(OID.numeric, numeric(0, 0, 1, [1, 2500])).text, '1.2');
  });
  it('zero: no digits at all, with and without scale', () => {
    assert.equal(binary(OID.numeric, numeric(0, 0, 0, [])).text, '0');
    assert.equal(binary(OID.numeric, numeric(0, 0, 3, [])).text, '0.000');
  });
  it('NaN and infinities (sign words 0xC000, 0xD000, 0xF000)', () => {
    assert.deepEqual(binary(OID.numeric, numeric(0, 0xc000, 0, [])), { type: 'numeric', value: 'NaN', text: 'NaN' });
    assert.equal(binary(OID.numeric, numeric(0, 0xd000, 0, [])).text, 'Infinity');
    assert.equal(binary(OID.numeric, numeric(0, 0xf000, 0, [])).text, '-Infinity');
  });
  it('malformed: length, sign word, digit out of range, dscale beyond its mask', () => {
    rejectsBinary(OID.numeric, [0, 0, 0]);
    rejectsBinary(OID.numeric, numeric(0, 0, 0, [1]).subarray(0, 9));
    rejectsBinary(OID.numeric, cat(numeric(0, 0, 0, [1]), Buffer.from([0])));
    rejectsBinary(OID.numeric, numeric(0, 0x8000, 0, [1]));
    rejectsBinary(OID.numeric, numeric(0, 0, 0, [10000]));
    rejectsBinary(OID.numeric, numeric(0, 0, 0x4000, [1]));
    rejectsBinary(OID.numeric, cat(i16(-1), i16(0), i16(0), i16(0)));
  });
  it('text: value normalized the way numeric_in stores it, text kept', () => {
    assert.deepEqual(text(OID.numeric, '-12345.678900'), { type: 'numeric', value: '-12345.678900', text: '-12345.678900' });
    assert.equal(text(OID.numeric, ' 1.5e3 ').value, '1500');
    assert.equal(text(OID.numeric, '1.50e-1').value, '0.150');
    assert.equal(text(OID.numeric, '007.10').value, '7.10');
    assert.equal(text(OID.numeric, '.5').value, '0.5');
    assert.equal(text(OID.numeric, '5.').value, '5');
    assert.equal(text(OID.numeric, '-0.00').value, '0.00');
    assert.equal(text(OID.numeric, 'nan').value, 'NaN');
    assert.equal(text(OID.numeric, '-inf').value, '-Infinity');
    assert.equal(text(OID.numeric, '+Infinity').value, 'Infinity');
    for (const t of ['', '.', 'e5', '1e', '1..2', '--1', '1e1001', 'abc']) rejectsText(OID.numeric, t);
  });
});
