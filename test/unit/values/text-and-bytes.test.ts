import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OID, binary, rejectsBinary, rejectsText, text } from './helpers.js';

describe('text-like types', () => {
  it('binary is UTF-8 text; each reports its own type name', () => {
    for (const [oid, name] of [[OID.text, 'text'], [OID.varchar, 'varchar'], [OID.bpchar, 'bpchar'], [OID.name, 'name'], [OID.json, 'json'], [OID.xml, 'xml']] as const) {
      assert.deepEqual(binary(oid, Buffer.from('ünï ✓', 'utf8')), { type: name, value: 'ünï ✓', text: 'ünï ✓' });
    }
    assert.equal(binary(OID.text, []).text, '');
  });
  it('invalid UTF-8 and NUL bytes are not text', () => {
    rejectsBinary(OID.text, [0xc3]);
    rejectsBinary(OID.varchar, [0x61, 0x00]);
    rejectsText(OID.text, Buffer.from([0xff]));
  });
  it('jsonb: version byte 1, then the text', () => {
    assert.deepEqual(binary(OID.jsonb, Buffer.concat([Buffer.from([1]), Buffer.from('{"a": 1}')])), { type: 'jsonb', value: '{"a": 1}', text: '{"a": 1}' });
    rejectsBinary(OID.jsonb, Buffer.concat([Buffer.from([2]), Buffer.from('{}')]));
    rejectsBinary(OID.jsonb, []);
    assert.equal(text(OID.jsonb, '[1, 2]').value, '[1, 2]');
  });
  it('"char": one byte, high-bit bytes as \\ooo, zero as empty', () => {
    assert.deepEqual(binary(OID.char, [0x61]), { type: 'char', value: 'a', text: 'a' });
    assert.equal(binary(OID.char, [0xc3]).text, '\\303');
    assert.equal(binary(OID.char, [0]).text, '');
    rejectsBinary(OID.char, [0x61, 0x62]);
  });
});

describe('bytea', () => {
  it('binary: raw bytes, shown as bytea_output=hex prints them', () => {
    assert.deepEqual(binary(OID.bytea, [0x00, 0xff, 0x10]), { type: 'bytea', value: '\\x00ff10', text: '\\x00ff10' });
    assert.equal(binary(OID.bytea, []).text, '\\x');
  });
  it('text: hex and escape formats both give the hex value', () => {
    assert.deepEqual(text(OID.bytea, '\\x00FF10'), { type: 'bytea', value: '\\x00ff10', text: '\\x00FF10' });
    assert.equal(text(OID.bytea, 'a\\\\b\\001').value, '\\x615c6201');
    for (const t of ['\\x0', '\\xzz', 'a\\b', 'a\\']) rejectsText(OID.bytea, t);
  });
});

describe('uuid', () => {
  it('binary: 16 bytes, lower-case 8-4-4-4-12', () => {
    const b = Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex');
    assert.deepEqual(binary(OID.uuid, b), { type: 'uuid', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', text: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' });
    rejectsBinary(OID.uuid, b.subarray(1));
  });
  it('text: the spellings uuid_in accepts, value canonical', () => {
    for (const t of ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{a0eebc99-9c0b4ef8-bb6d6bb9bd380a11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11']) {
      assert.deepEqual(text(OID.uuid, t), { type: 'uuid', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', text: t });
    }
    for (const t of ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-', 'a0e-ebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{a0eebc999c0b4ef8bb6d6bb9bd380a11']) rejectsText(OID.uuid, t);
  });
});
