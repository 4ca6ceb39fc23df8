import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotatedText } from '../../../src/output/annotated.js';
import { newDecodeContext } from '../../../src/protocol/context.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import { frameOf } from '../../helpers/decode.js';
import { int16, int32, msg } from '../../helpers/wire.js';
import { all, child, golden, malformed, top } from './helpers.js';

describe('DataRow (D)', () => {
  it('NULL, empty and normal columns', () => {
    const m = golden(
      msg('D', int16(3), int32(-1), int32(0), int32(3), 'abc'),
      [
        '"D" = DataRow "\\x00\\x00\\x00\\x15" = 21 bytes',
        '  "\\x00\\x03" = 3 column values follow',
        '  column 1: NULL: "\\xff\\xff\\xff\\xff" = NULL',
        '  column 2: empty: "\\x00\\x00\\x00\\x00" = length: 0 "" = value',
        '  column 3: 3 bytes: "\\x00\\x00\\x00\\x03" = length: 3 "abc" = value',
      ].join('\n'),
    );
    assert.equal(top(m, 'number of columns').value, 3);
    const cols = all(m, 'column');
    assert.deepEqual(cols.map((c) => c.value), [-1, 0, 3]);
    assert.deepEqual(cols.map((c) => c.children!.length), [1, 2, 2]);
    assert.deepEqual(child(cols[2]!, 'value').value, Buffer.from('abc'));
    assert.deepEqual([cols[2]!.start, cols[2]!.end], [15, 22]);
  });

  it('no columns', () => {
    golden(msg('D', int16(0)), '"D" = DataRow "\\x00\\x00\\x00\\x06" = 6 bytes "\\x00\\x00" = 0 column values follow');
  });

  it('a frame not fully retained renders an elided span, not an error', () => {
    const big = Buffer.alloc(5000, 0x61);
    const full = msg('D', int16(2), int32(big.length), big, int32(2), 'ok');
    const whole = frameOf('backend', full);
    const frame = { ...whole, bytes: whole.bytes.subarray(0, 20), complete: false };
    const m = decodeFrame(frame, newDecodeContext());
    assert.equal(m.error, undefined);
    const col = all(m, 'column')[0]!;
    const value = child(col, 'value');
    assert.equal(value.end - value.start, 5000);
    assert.equal(value.retained, 9);
    const elided = m.spans.at(-1)!;
    assert.equal(elided.flag, 'elided');
    assert.deepEqual([elided.start, elided.end], [5011, full.length]);
    const text = annotatedText(m).split('\n');
    assert.deepEqual(text.slice(0, 3), [
      '"D" = DataRow "\\x00\\x00\\x13\\x98" = 5016 bytes',
      '  "\\x00\\x02" = 2 column values follow',
      '  column 1: 5000 bytes: "\\x00\\x00\\x13\\x88" = length: 5000 "aaaaaaaaa"…(4991 more bytes) = value',
    ]);
    // Column 2's group was opened before its (unretained) length word: it is empty.
    assert.equal(text.at(-1), '  [6 bytes] = 6 bytes not kept for decoding (forwarded unchanged)');
  });

  describe('malformed', () => {
    it('cut short: a column value longer than the message', () => {
      const m = malformed(msg('D', int16(1), int32(30), 'abc'), 'past-end', { at: 11, unparsed: true, name: 'DataRow' });
      assert.equal(m.spans.at(-1)!.start, 11);
    });
    it('cut short: fewer columns than announced', () => {
      malformed(msg('D', int16(2), int32(1), 'a'), 'past-end', { at: 5, unparsed: true });
    });
    it('a negative column count', () => {
      malformed(msg('D', int16(-2)), 'bad-value', { at: 5, unparsed: false });
    });
    it('a column length below -1', () => {
      malformed(msg('D', int16(1), int32(-2)), 'bad-value', { at: 7, unparsed: false });
    });
    it('trailing bytes after the last column', () => {
      malformed(msg('D', int16(1), int32(-1), 'x'), 'trailing-bytes', { at: 11, unparsed: true });
    });
  });
});
