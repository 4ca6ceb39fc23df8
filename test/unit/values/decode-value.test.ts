import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeValue } from '../../../src/protocol/values/index.js';
import { arrayByOid, scalarByOid } from '../../../src/protocol/values/oids.js';
import { OID, i32 } from './helpers.js';

describe('decodeValue', () => {
  it('unknown type OIDs give null in both formats', () => {
    for (const oid of [0, 705, 3904, 16385, 0xffffffff]) {
      assert.equal(decodeValue(oid, 0, Buffer.from('1')), null);
      assert.equal(decodeValue(oid, 1, i32(1)), null);
    }
  });
  it('format codes other than 0 and 1 give null', () => {
    assert.equal(decodeValue(OID.int4, 2, i32(1)), null);
    assert.equal(decodeValue(OID.int4, -1, Buffer.from('1')), null);
  });
  it('array type names are the element name with []', () => {
    for (const [oid, { element }] of arrayByOid) assert.equal(decodeValue(oid, 0, Buffer.from('{}'))?.type, `${element.name}[]`);
  });
  it('never throws, and whatever decodes has a string text and a JSON-friendly value', () => {
    const oids = [...scalarByOid.keys(), ...arrayByOid.keys()];
    const jsonFriendly = (v: unknown): boolean =>
      v === null || typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || (Array.isArray(v) && v.every(jsonFriendly));
    let decoded = 0;
    for (let round = 0; round < 60; round++) {
      for (const oid of oids) {
        for (const len of [0, 1, 2, 4, 8, 12, 16, 20, 33]) {
          const bytes = randomBytes(len);
          for (const format of [0, 1]) {
            const v = decodeValue(oid, format, bytes);
            if (v === null) continue;
            decoded++;
            assert.equal(typeof v.text, 'string');
            assert.ok(jsonFriendly(v.value), `type OID ${oid} format ${format} ${bytes.toString('hex')}: ${String(v.value)}`);
          }
        }
      }
    }
    assert.ok(decoded > 0);
  });
});
