import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeBytes, escapeRange, quoteBounded, quoteFlat, quoteRange } from '../../../src/output/escape.js';

/** The escaping rule spelled out byte by byte, as escape.ts did before its fast paths. */
function naive(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += '\\\\';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

describe('escape fast paths', () => {
  it('escapeRange, quoteRange and quoteFlat match the byte-by-byte rule', () => {
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let k = 0; k < 2000; k++) {
      const len = rnd(80);
      // Mostly printable runs with the odd escape, as real values are.
      const bytes = Buffer.from(Array.from({ length: len }, () => (rnd(5) === 0 ? rnd(256) : 0x20 + rnd(95))));
      const start = rnd(len + 1);
      const end = start + rnd(len - start + 1);
      const view = bytes.subarray(start, end);
      assert.equal(escapeRange(bytes, start, end), naive(view));
      assert.equal(escapeBytes(new Uint8Array(view)), naive(view));
      const max = rnd(40);
      const total = end - start + rnd(3);
      const shown = view.subarray(0, max);
      const omitted = total - shown.length;
      const expected = `"${naive(shown)}"` + (omitted > 0 ? `…(${omitted} more byte${omitted === 1 ? '' : 's'})` : '');
      assert.equal(quoteRange(bytes, start, end, max, total), expected);
      assert.equal(quoteBounded(view, max, total), expected);
      assert.equal(quoteFlat(bytes, start, end, max, total, ' = '), expected + ' = ');
    }
  });
});
