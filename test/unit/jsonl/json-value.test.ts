import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonBytes, jsonValue } from '../../../src/output/jsonl/json-value.js';

test('values become JSON-safe: bigint as a decimal string, bytes as text or hex, non-finite numbers as strings', () => {
  assert.equal(jsonValue(2n ** 63n - 1n, 16), '9223372036854775807');
  assert.equal(jsonValue(NaN, 16), 'NaN');
  assert.deepEqual(jsonValue(Buffer.from('héllo\n'), 16), { text: 'héllo\n', length: 7 });
  assert.deepEqual(jsonValue(Buffer.from([0, 1, 0xff]), 16), { hex: '0001ff', length: 3 });
  assert.deepEqual(jsonValue({ a: [1n, Buffer.from('x'), undefined], b: null }, 16), { a: ['1', { text: 'x', length: 1 }, null], b: null });
  assert.equal(JSON.stringify(jsonValue({ user: 'u', n: 1n }, 16)), '{"user":"u","n":"1"}');
});

test('bytes are cut at the limit, and a retained prefix of a longer value says so', () => {
  assert.deepEqual(jsonBytes(Buffer.from('abcdefgh'), 3), { text: 'abc', length: 8, truncated: true });
  assert.deepEqual(jsonBytes(Buffer.from([1, 2]), 8, 100), { hex: '0102', length: 100, truncated: true });
  // A cut through a multi-byte character is shown as hex rather than as broken text.
  assert.deepEqual(jsonBytes(Buffer.from('aé'), 2), { hex: '61c3', length: 3, truncated: true });
});
