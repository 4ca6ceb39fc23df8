import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotate, decodeOne } from '../../helpers/decode.js';
import { cstr, int16, int32, msg, uint32 } from '../../helpers/wire.js';
import { assertError, decodeAt, findSpans, lines, raw, span } from './support.js';

describe('Parse', () => {
  it('names the parameter types by OID', () => {
    const b = msg('P', cstr('s1'), cstr('SELECT $1::int, $2'), int16(2), int32(23), int32(0));
    assert.equal(
      annotate('frontend', b),
      lines(
        raw`"P" = Parse "\x00\x00\x00$" = 36 bytes`,
        raw`  "s1\x00" = destination prepared statement`,
        raw`  "SELECT $1::int, $2\x00" = query string to be parsed`,
        raw`  "\x00\x02" = 2 parameter data types specified "\x00\x00\x00\x17" = $1: type OID 23 (int4) "\x00\x00\x00\x00" = $2: type OID 0 (unspecified)`,
      ),
    );
    const m = decodeOne('frontend', b);
    assert.equal(m.name, 'Parse');
    assert.equal(span(m, 'destination prepared statement').value, 's1');
    assert.equal(span(m, 'query string').value, 'SELECT $1::int, $2');
    assert.deepEqual(span(m, 'parameter types').value, [23, 0]);
    assert.deepEqual(
      findSpans(m.spans, 'parameter type OID').map((s) => s.value),
      [23, 0],
    );
  });

  it('decodes the unnamed statement without parameter types', () => {
    assert.equal(
      annotate('frontend', msg('P', cstr(''), cstr('SELECT 1'), int16(0))),
      lines(
        raw`"P" = Parse "\x00\x00\x00\x10" = 16 bytes`,
        raw`  "\x00" = destination: the unnamed prepared statement`,
        raw`  "SELECT 1\x00" = query string to be parsed`,
        raw`  "\x00\x00" = no parameter data types specified`,
      ),
    );
  });

  it('shows a user type OID without a name', () => {
    assert.equal(
      annotate('frontend', msg('P', cstr(''), cstr('SELECT $1'), int16(1), uint32(16385))),
      lines(
        raw`"P" = Parse "\x00\x00\x00\x15" = 21 bytes`,
        raw`  "\x00" = destination: the unnamed prepared statement`,
        raw`  "SELECT $1\x00" = query string to be parsed`,
        raw`  "\x00\x01" = 1 parameter data type specified "\x00\x00@\x01" = $1: type OID 16385`,
      ),
    );
  });

  describe('malformed', () => {
    it('a query without terminator is past-end', () => {
      const m = decodeAt(msg('P', cstr(''), 'SELECT 1'), 20);
      assertError(m, 'past-end', 26, 6);
    });

    it('more parameter types than the message holds is past-end at the count', () => {
      assertError(decodeOne('frontend', msg('P', cstr(''), cstr('x'), int16(2), int32(23))), 'past-end', 8, 10);
    });

    it('a negative parameter type count is bad-value', () => {
      assertError(decodeOne('frontend', msg('P', cstr(''), cstr('x'), int16(-1))), 'bad-value', 8);
    });

    it('trailing bytes after the last type', () => {
      assertError(decodeOne('frontend', msg('P', cstr(''), cstr('x'), int16(1), int32(23), [0])), 'trailing-bytes', 14, 14);
    });
  });
});
