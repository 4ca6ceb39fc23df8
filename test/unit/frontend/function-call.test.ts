import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotate, decodeOne } from '../../helpers/decode.js';
import { int16, int32, msg, uint32 } from '../../helpers/wire.js';
import { assertError, decodeAt, findSpans, lines, raw, span } from './support.js';

describe('FunctionCall', () => {
  it('reads a NULL argument (no value bytes) followed by a non-NULL one', () => {
    const b = msg('F', uint32(1598), int16(1), int16(1), int16(2), int32(-1), int32(4), [0, 0, 0, 1], int16(0));
    assert.equal(
      annotate('frontend', b),
      lines(
        raw`"F" = FunctionCall "\x00\x00\x00\x1c" = 28 bytes`,
        raw`  "\x00\x00\x06>" = function OID: 1598`,
        raw`  "\x00\x01" = 1 argument format code, applied to all arguments "\x00\x01" = format: binary`,
        raw`  "\x00\x02" = 2 arguments follow`,
        raw`  argument 1: NULL: "\xff\xff\xff\xff" = length -1: NULL, no value bytes follow`,
        raw`  argument 2: 4 bytes: "\x00\x00\x00\x04" = length: 4 "\x00\x00\x00\x01" = binary value`,
        raw`  "\x00\x00" = function result: text`,
      ),
    );
    const m = decodeOne('frontend', b);
    assert.equal(m.name, 'FunctionCall');
    assert.equal(m.error, undefined);
    assert.equal(span(m, 'function OID').value, 1598);
    const args = findSpans(m.spans, 'argument');
    assert.deepEqual(
      args.map((a) => [a.meaning, a.start, a.end]),
      [
        ['argument 1: NULL', 15, 19],
        ['argument 2: 4 bytes', 19, 27],
      ],
    );
    assert.equal(args[0]!.value, null);
    assert.deepEqual(args[1]!.value, Buffer.from([0, 0, 0, 1]));
    assert.equal(span(m, 'result format code').value, 0);
  });

  it('reads an OID above 2^31 as unsigned, no arguments, a binary result', () => {
    assert.equal(
      annotate('frontend', msg('F', uint32(0xfffffff0), int16(0), int16(0), int16(1))),
      lines(
        raw`"F" = FunctionCall "\x00\x00\x00\x0e" = 14 bytes`,
        raw`  "\xff\xff\xff\xf0" = function OID: 4294967280`,
        raw`  "\x00\x00" = no argument format codes: all arguments use text`,
        raw`  "\x00\x00" = no arguments`,
        raw`  "\x00\x01" = function result: binary`,
      ),
    );
  });

  describe('malformed', () => {
    it('an argument value past the end is past-end', () => {
      const m = decodeAt(msg('F', uint32(1), int16(0), int16(1), int32(8), [1, 2]), 1000);
      assertError(m, 'past-end', 1000 + 17, 17);
    });

    it('a missing result format code is past-end', () => {
      assertError(decodeOne('frontend', msg('F', uint32(1), int16(0), int16(1), int32(-1))), 'past-end', 17);
    });

    it('trailing bytes after the result format code', () => {
      assertError(decodeOne('frontend', msg('F', uint32(1), int16(0), int16(0), int16(0), [9])), 'trailing-bytes', 15, 15);
    });

    it('a negative argument count is bad-value', () => {
      assertError(decodeOne('frontend', msg('F', uint32(1), int16(0), int16(-2), int16(0))), 'bad-value', 11, 13);
    });

    it('a result format code of 2 is bad-value', () => {
      assertError(decodeOne('frontend', msg('F', uint32(1), int16(0), int16(0), int16(2))), 'bad-value', 13);
    });
  });
});
