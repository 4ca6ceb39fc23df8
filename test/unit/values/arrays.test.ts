import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OID, binary, cat, f64, i16, i32, i64, rejectsBinary, rejectsText, text } from './helpers.js';

/** array_send of a one-dimensional array: elements as buffers, null = SQL NULL. */
function array1(elementOid: number, elements: (Buffer | null)[], lowerBound = 1): Buffer {
  const hasNull = elements.some((e) => e === null) ? 1 : 0;
  return cat(i32(1), i32(hasNull), i32(elementOid), i32(elements.length), i32(lowerBound), ...elements.map((e) => (e === null ? i32(-1) : cat(i32(e.length), e))));
}

describe('arrays, binary', () => {
  it('int4[] with a NULL', () => {
    assert.deepEqual(binary(OID._int4, array1(OID.int4, [i32(1), null, i32(3)])), { type: 'int4[]', value: [1, null, 3], text: '{1,NULL,3}' });
  });
  it('text[]: elements quoted and escaped as array_out does', () => {
    const els = ['a b', 'c"d', '', 'NULL', 'null', 'x,y', '{}', 'back\\slash', 'plain', '\ttab'].map((s) => Buffer.from(s));
    const v = binary(OID._text, array1(OID.text, [...els, null]));
    assert.equal(v.text, '{"a b","c\\"d","","NULL","null","x,y","{}","back\\\\slash",plain,"\ttab",NULL}');
    assert.deepEqual(v.value, ['a b', 'c"d', '', 'NULL', 'null', 'x,y', '{}', 'back\\slash', 'plain', '\ttab', null]);
  });
  it('elements print as their own type: int8 beyond 2^53, float8 NaN, bytea, numeric', () => {
    assert.deepEqual(binary(OID._int8, array1(OID.int8, [i64(9007199254740993n), i64(1n)])).value, ['9007199254740993', 1]);
    assert.equal(binary(OID._float8, array1(OID.float8, [f64(NaN), f64(-0), f64(0.1)])).text, '{NaN,-0,0.1}');
    assert.equal(binary(OID._bytea, array1(OID.bytea, [Buffer.from([1]), Buffer.alloc(0)])).text, '{"\\\\x01","\\\\x"}');
    const numeric = cat(i16(1), i16(0), i16(0x4000), i16(2), i16(1), i16(5000)); // wrong: ndigits 1 but two digits
    rejectsBinary(OID._numeric, array1(OID.numeric, [numeric]));
    const ok = cat(i16(2), i16(0), i16(0x4000), i16(2), i16(1), i16(5000));
    assert.deepEqual(binary(OID._numeric, array1(OID.numeric, [ok])), { type: 'numeric[]', value: ['-1.50'], text: '{-1.50}' });
  });
  it('empty array: zero dimensions', () => {
    assert.deepEqual(binary(OID._int4, cat(i32(0), i32(0), i32(OID.int4))), { type: 'int4[]', value: [], text: '{}' });
  });
  it('a lower bound other than 1 prints the dimension decoration', () => {
    assert.equal(binary(OID._int4, array1(OID.int4, [i32(1), i32(2), i32(3)], 0)).text, '[0:2]={1,2,3}');
  });
  it('two dimensions: nested braces and nested values', () => {
    const b = cat(i32(2), i32(0), i32(OID.int4), i32(2), i32(1), i32(2), i32(1), ...[1, 2, 3, 4].map((n) => cat(i32(4), i32(n))));
    assert.deepEqual(binary(OID._int4, b), { type: 'int4[]', value: [[1, 2], [3, 4]], text: '{{1,2},{3,4}}' });
  });
  it('malformed: wrong element OID, bad flags, short or long bodies, bad element', () => {
    rejectsBinary(OID._int4, array1(OID.int8, [i64(1n)]));
    rejectsBinary(OID._int4, cat(i32(1), i32(2), i32(OID.int4), i32(1), i32(1), i32(4), i32(1)));
    rejectsBinary(OID._int4, array1(OID.int4, [i32(1)]).subarray(0, 22));
    rejectsBinary(OID._int4, cat(array1(OID.int4, [i32(1)]), Buffer.from([0])));
    rejectsBinary(OID._int4, array1(OID.int4, [i16(1)]));
    rejectsBinary(OID._int4, cat(i32(1), i32(0), i32(OID.int4), i32(0x7fffffff), i32(1)));
    rejectsBinary(OID._int4, cat(i32(7), i32(0), i32(OID.int4)));
    rejectsBinary(OID._int4, cat(i32(1), i32(0), i32(OID.int4), i32(1), i32(1), i32(-2)));
  });
});

describe('arrays, text', () => {
  it('quoted elements, escapes and NULL', () => {
    const t = '{"a b","c\\"d",NULL,"","NULL"}';
    assert.deepEqual(text(OID._text, t), { type: 'text[]', value: ['a b', 'c"d', null, '', 'NULL'], text: t });
  });
  it('elements are read as the element type', () => {
    assert.deepEqual(text(OID._int4, '{1,NULL,3}').value, [1, null, 3]);
    assert.deepEqual(text(OID._bool, '{t,f}').value, [true, false]);
    assert.deepEqual(text(OID._numeric, '{NaN,-1.50}').value, ['NaN', '-1.50']);
    assert.deepEqual(text(OID._bytea, '{"\\\\x01"}').value, ['\\x01']);
    assert.deepEqual(text(OID._date, '{infinity,"0044-03-15 BC"}').value, ['infinity', '0044-03-15 BC']);
    assert.deepEqual(text(OID._jsonb, '{"{\\"a\\": 1}"}').value, ['{"a": 1}']);
  });
  it('white space around unquoted elements is dropped, inside kept; escaped spaces kept', () => {
    assert.deepEqual(text(OID._text, '{ a b , c\\ }').value, ['a b', 'c ']);
    assert.deepEqual(text(OID._int4, ' { 1 , 2 } ').value, [1, 2]);
  });
  it('empty, decorated and nested arrays', () => {
    assert.deepEqual(text(OID._int4, '{}').value, []);
    assert.deepEqual(text(OID._int4, '[0:2]={1,2,3}').value, [1, 2, 3]);
    assert.deepEqual(text(OID._int4, '{{1,2},{3,4}}').value, [[1, 2], [3, 4]]);
  });
  it('malformed: unbalanced, ragged, bad element, junk after', () => {
    for (const t of ['', '{', '{1,2', '1,2', '{1,}', '{,1}', '{{1,2},{3}}', '{{1},2}', '{1}x', '{"a}', '{a"b"c}x', '{1,x}', '[1:2={1,2}']) rejectsText(OID._int4, t);
  });
});
