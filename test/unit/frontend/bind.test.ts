import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newDecodeContext } from '../../../src/protocol/context.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import { annotate, decodeOne } from '../../helpers/decode.js';
import { cstr, int16, int32, msg } from '../../helpers/wire.js';
import { assertError, decodeAt, findSpans, lines, raw, span } from './support.js';

describe('Bind', () => {
  it('decodes names, one format code for all, a value and a NULL parameter, result formats', () => {
    const b = msg('B', cstr(''), cstr('s1'), int16(1), int16(0), int16(2), int32(5), 'hello', int32(-1), int16(1), int16(1));
    assert.equal(
      annotate('frontend', b),
      lines(
        raw`"B" = Bind "\x00\x00\x00\x1f" = 31 bytes`,
        raw`  "\x00" = destination: the unnamed portal`,
        raw`  "s1\x00" = source prepared statement`,
        raw`  "\x00\x01" = 1 parameter format code, applied to all parameters "\x00\x00" = format: text`,
        raw`  "\x00\x02" = 2 parameter values follow`,
        raw`  parameter 1: 5 bytes: "\x00\x00\x00\x05" = length: 5 "hello" = text value`,
        raw`  parameter 2: NULL: "\xff\xff\xff\xff" = length -1: NULL, no value bytes follow`,
        raw`  "\x00\x01" = 1 result-column format code, applied to all result columns "\x00\x01" = format: binary`,
      ),
    );
    const m = decodeOne('frontend', b);
    assert.equal(m.name, 'Bind');
    assert.equal(m.error, undefined);
    assert.equal(span(m, 'destination portal').value, '');
    assert.equal(span(m, 'source prepared statement').value, 's1');
    const params = findSpans(m.spans, 'parameter');
    assert.deepEqual(
      params.map((p) => [p.meaning, p.start, p.end]),
      [
        ['parameter 1: 5 bytes', 15, 24],
        ['parameter 2: NULL', 24, 28],
      ],
    );
    assert.deepEqual(params[0]!.value, Buffer.from('hello'));
    assert.equal(params[1]!.value, null);
    assert.deepEqual(span(m, 'parameter format codes').value, [0]);
    assert.deepEqual(span(m, 'result format codes').value, [1]);
  });

  it('applies per-parameter format codes to each value', () => {
    const b = msg('B', cstr('p1'), cstr(''), int16(2), int16(0), int16(1), int16(2), int32(1), '7', int32(4), [0, 0, 0, 42], int16(0));
    assert.equal(
      annotate('frontend', b),
      lines(
        raw`"B" = Bind "\x00\x00\x00\x1f" = 31 bytes`,
        raw`  "p1\x00" = destination portal`,
        raw`  "\x00" = source: the unnamed prepared statement`,
        raw`  "\x00\x02" = 2 parameter format codes, one per parameter "\x00\x00" = parameter 1: text "\x00\x01" = parameter 2: binary`,
        raw`  "\x00\x02" = 2 parameter values follow`,
        raw`  parameter 1: 1 byte: "\x00\x00\x00\x01" = length: 1 "7" = text value`,
        raw`  parameter 2: 4 bytes: "\x00\x00\x00\x04" = length: 4 "\x00\x00\x00*" = binary value`,
        raw`  "\x00\x00" = no result-column format codes: all result columns use text`,
      ),
    );
  });

  it('decodes a Bind without parameters', () => {
    assert.equal(
      annotate('frontend', msg('B', cstr(''), cstr(''), int16(0), int16(0), int16(0))),
      lines(
        raw`"B" = Bind "\x00\x00\x00\x0c" = 12 bytes`,
        raw`  "\x00" = destination: the unnamed portal`,
        raw`  "\x00" = source: the unnamed prepared statement`,
        raw`  "\x00\x00" = no parameter format codes: all parameters use text`,
        raw`  "\x00\x00" = no parameter values`,
        raw`  "\x00\x00" = no result-column format codes: all result columns use text`,
      ),
    );
  });

  it('says so when the format codes do not match the parameter count, and still reads the values', () => {
    const b = msg('B', cstr(''), cstr(''), int16(2), int16(0), int16(0), int16(1), int32(0), int16(0));
    assert.equal(
      annotate('frontend', b),
      lines(
        raw`"B" = Bind "\x00\x00\x00\x14" = 20 bytes`,
        raw`  "\x00" = destination: the unnamed portal`,
        raw`  "\x00" = source: the unnamed prepared statement`,
        raw`  "\x00\x02" = 2 parameter format codes, one per parameter "\x00\x00" = parameter 1: text "\x00\x00" = parameter 2: text`,
        raw`  "\x00\x01" = 1 parameter value follows (but 2 format codes were sent: the counts must match)`,
        raw`  parameter 1: 0 bytes: "\x00\x00\x00\x00" = length: 0 "" = value (format unknown: the format codes do not match the count)`,
        raw`  "\x00\x00" = no result-column format codes: all result columns use text`,
      ),
    );
    assert.equal(decodeOne('frontend', b).error, undefined);
  });

  it('reads a huge parameter kept only in part: its size is known, the rest is elided, not an error', () => {
    const bytes = msg('B', cstr(''), cstr(''), int16(0), int16(1), int32(2000), Buffer.alloc(2000, 0x61), int16(0));
    const frame = { direction: 'frontend' as const, kind: 'message' as const, offset: 0, type: 'B', length: bytes.length - 1, size: bytes.length, bytes: bytes.subarray(0, 64), complete: false };
    const m = decodeFrame(frame, newDecodeContext());
    assert.equal(m.error, undefined);
    const p = span(m, 'parameter');
    assert.equal(p.meaning, 'parameter 1: 2000 bytes');
    assert.deepEqual([span(m, 'value').start, span(m, 'value').end, span(m, 'value').retained], [15, 2015, 49]);
    const last = m.spans[m.spans.length - 1]!;
    assert.deepEqual([last.flag, last.start, last.end], ['elided', 2015, bytes.length]);
  });

  describe('malformed', () => {
    it('a parameter value past the end is past-end at the value, the rest unparsed', () => {
      const m = decodeAt(msg('B', cstr(''), cstr('s1'), int16(0), int16(1), int32(10), 'abc'), 100);
      assertError(m, 'past-end', 117, 17);
      assert.match(m.error!.expected, /value: 10 byte\(s\) announced, 3 left/);
    });

    it('a portal name without terminator is past-end', () => {
      const m = decodeAt(msg('B', 'portal'), 7);
      assertError(m, 'past-end', 12, 5);
    });

    it('a missing result format count is past-end', () => {
      assertError(decodeOne('frontend', msg('B', cstr(''), cstr(''), int16(0), int16(0))), 'past-end', 11);
    });

    it('trailing bytes after the result format codes', () => {
      const m = decodeAt(msg('B', cstr(''), cstr(''), int16(0), int16(0), int16(0), [0xde, 0xad]), 50);
      assertError(m, 'trailing-bytes', 50 + 13, 13);
    });

    it('a negative parameter count is bad-value at the count', () => {
      const m = decodeOne('frontend', msg('B', cstr(''), cstr(''), int16(0), int16(-1), int16(0)));
      assertError(m, 'bad-value', 9, 11);
      assert.equal(span(m, 'number of parameter values').meaning, 'number of parameter values: -1 (negative)');
    });

    it('a negative format code count is bad-value', () => {
      assertError(decodeOne('frontend', msg('B', cstr(''), cstr(''), int16(-3), int16(0), int16(0))), 'bad-value', 7, 9);
    });

    it('a parameter count the message cannot hold is past-end at the count', () => {
      const m = decodeOne('frontend', msg('B', cstr(''), cstr(''), int16(0), int16(1000), int32(-1), int16(0)));
      assertError(m, 'past-end', 9, 11);
    });

    it('a parameter length below -1 is bad-value', () => {
      assertError(decodeOne('frontend', msg('B', cstr(''), cstr(''), int16(0), int16(1), int32(-2), int16(0))), 'bad-value', 11, 15);
    });

    it('a format code other than 0 or 1 is bad-value', () => {
      assertError(decodeOne('frontend', msg('B', cstr(''), cstr(''), int16(1), int16(2), int16(0), int16(0))), 'bad-value', 9, 11);
    });
  });
});
