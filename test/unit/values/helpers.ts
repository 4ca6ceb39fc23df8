/** Shorthands for the values tests: decode bytes in one format and insist it worked. */
import assert from 'node:assert/strict';
import type { TypedValue } from '../../../src/protocol/types.js';
import { decodeValue } from '../../../src/protocol/values/index.js';

export function binary(oid: number, bytes: Buffer | number[]): TypedValue {
  const v = decodeValue(oid, 1, Buffer.from(bytes));
  assert.ok(v, `binary ${Buffer.from(bytes).toString('hex')} as type OID ${oid} did not decode`);
  return v;
}

export function text(oid: number, s: string): TypedValue {
  const v = decodeValue(oid, 0, Buffer.from(s, 'utf8'));
  assert.ok(v, `text ${JSON.stringify(s)} as type OID ${oid} did not decode`);
  return v;
}

export const rejectsBinary = (oid: number, bytes: Buffer | number[]): void =>
  assert.equal(decodeValue(oid, 1, Buffer.from(bytes)), null, `binary ${Buffer.from(bytes).toString('hex')} as type OID ${oid} should not decode`);

export const rejectsText = (oid: number, s: string | Buffer): void =>
  assert.equal(decodeValue(oid, 0, Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8')), null, `text ${JSON.stringify(s.toString())} as type OID ${oid} should not decode`);

// Big-endian integers as the wire carries them: the shared builders of test/helpers/wire.ts.
export { int16 as i16, int32 as i32, uint32 as u32, int64 as i64 } from '../../helpers/wire.js';
export const f32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeFloatBE(v);
  return b;
};
export const f64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b;
};
export const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

/** The OIDs of pg_type.dat used by the tests. */
export const OID = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, json: 114, xml: 142,
  float4: 700, float8: 701, bpchar: 1042, varchar: 1043, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184,
  interval: 1186, timetz: 1266, numeric: 1700, uuid: 2950, jsonb: 3802,
  _bool: 1000, _bytea: 1001, _int2: 1005, _int4: 1007, _text: 1009, _int8: 1016, _float8: 1022, _date: 1182, _numeric: 1231, _jsonb: 3807,
} as const;
