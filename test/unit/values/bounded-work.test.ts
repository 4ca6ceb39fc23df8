/**
 * Values whose text would be far longer than their bytes are not decoded (the escaped
 * bytes are shown): a binary numeric's header can ask for ~147,000 digits from 8 bytes,
 * and an array repeats that per element.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeValue } from '../../../src/protocol/values/index.js';
import { ARRAY_MAX_CHARS, ARRAY_MAX_ELEMENTS } from '../../../src/protocol/values/arrays.js';
import { NUMERIC_MAX_TEXT_CHARS } from '../../../src/protocol/values/numeric.js';
import { OID, binary, cat, i16, i32, text } from './helpers.js';

function numeric(weight: number, sign: number, dscale: number, digits: number[]): Buffer {
  return cat(i16(digits.length), i16(weight), i16(sign), i16(dscale), ...digits.map(i16));
}

function array1(elementOid: number, elements: Buffer[]): Buffer {
  return cat(i32(1), i32(0), i32(elementOid), i32(elements.length), i32(1), ...elements.map((e) => cat(i32(e.length), e)));
}

describe('bounded decoding work', () => {
  it('a binary numeric whose text would pass the cap is not decoded', () => {
    assert.equal(decodeValue(OID.numeric, 1, numeric(32767, 0, 0, [1])), null);
    assert.equal(decodeValue(OID.numeric, 1, numeric(0, 0, 16383, [1])), null);
    assert.equal(decodeValue(OID.numeric, 1, numeric(32767, 0x4000, 16383, [9999])), null);
  });

  it('a numeric right at the cap still decodes (every numeric(1000, s) fits)', () => {
    // 1 + 4 * 249 = 997 integer digits, a point and 26 fraction digits: 1,024 characters.
    const v = binary(OID.numeric, numeric(249, 0, NUMERIC_MAX_TEXT_CHARS - 998, [1]));
    assert.equal(v.text.length, NUMERIC_MAX_TEXT_CHARS);
    assert.match(v.text, /^10{996}\.0{26}$/);
    assert.equal(decodeValue(OID.numeric, 1, numeric(249, 0x4000, NUMERIC_MAX_TEXT_CHARS - 998, [1])), null);
  });

  it('1000 crafted numeric[] elements are rejected quickly', () => {
    const el = numeric(32767, 0, 16383, [1]);
    const started = Date.now();
    assert.equal(decodeValue(OID._numeric, 1, array1(OID.numeric, Array.from({ length: 1000 }, () => el))), null);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  });

  it('an array over the character budget is not decoded, binary or text', () => {
    // Each element 1,001 characters: 100 fit the budget, 101 do not.
    const el = numeric(250, 0, 0, [1]);
    const fits = Math.floor(ARRAY_MAX_CHARS / 1001);
    assert.ok(decodeValue(OID._numeric, 1, array1(OID.numeric, Array.from({ length: fits }, () => el))));
    assert.equal(decodeValue(OID._numeric, 1, array1(OID.numeric, Array.from({ length: fits + 1 }, () => el))), null);
    // Text: 1e1000 is six characters that read as a 1,001-digit value.
    const t = (n: number): Buffer => Buffer.from(`{${Array.from({ length: n }, () => '1e1000').join(',')}}`);
    assert.ok(decodeValue(OID._numeric, 0, t(fits - 1)));
    assert.equal(decodeValue(OID._numeric, 0, t(fits + 1)), null);
  });

  it('an array over the element budget is not decoded, binary or text', () => {
    const ok = array1(OID.int4, Array.from({ length: ARRAY_MAX_ELEMENTS }, (_, i) => i32(i)));
    assert.equal((decodeValue(OID._int4, 1, ok)!.value as unknown[]).length, ARRAY_MAX_ELEMENTS);
    assert.equal(decodeValue(OID._int4, 1, array1(OID.int4, Array.from({ length: ARRAY_MAX_ELEMENTS + 1 }, (_, i) => i32(i)))), null);
    const many = (n: number): string => `{${Array.from({ length: n }, () => '1').join(',')}}`;
    assert.equal((text(OID._int4, many(ARRAY_MAX_ELEMENTS)).value as unknown[]).length, ARRAY_MAX_ELEMENTS);
    assert.equal(decodeValue(OID._int4, 0, Buffer.from(many(ARRAY_MAX_ELEMENTS + 1))), null);
    assert.equal(decodeValue(OID._int4, 0, Buffer.from(`{${Array.from({ length: ARRAY_MAX_ELEMENTS + 1 }, () => 'NULL').join(',')}}`)), null);
  });
});
