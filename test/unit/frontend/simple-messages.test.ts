import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotate, decodeOne } from '../../helpers/decode.js';
import { cstr, int32, msg } from '../../helpers/wire.js';
import { assertError, decodeAt, lines, raw, span } from './support.js';

describe('messages without a body', () => {
  for (const [type, name] of [
    ['S', 'Sync'],
    ['H', 'Flush'],
    ['X', 'Terminate'],
    ['c', 'CopyDone'],
  ] as const) {
    it(`${name} ('${type}')`, () => {
      assert.equal(annotate('frontend', msg(type)), lines(raw`"${type}" = ${name} "\x00\x00\x00\x04" = 4 bytes`));
      const m = decodeOne('frontend', msg(type));
      assert.equal(m.name, name);
      assert.equal(m.error, undefined);
      assert.equal(m.spans.length, 2);
    });

    it(`${name} with a body is trailing-bytes`, () => {
      const m = decodeAt(msg(type, [1, 2]), 10);
      assertError(m, 'trailing-bytes', 15, 5);
      assert.equal(m.name, name);
    });
  }
});

describe('Query', () => {
  it('decodes the query string', () => {
    const b = msg('Q', cstr('SELECT 1'));
    assert.equal(annotate('frontend', b), lines(raw`"Q" = Query "\x00\x00\x00\r" = 13 bytes "SELECT 1\x00" = query`));
    assert.equal(span(decodeOne('frontend', b), 'query').value, 'SELECT 1');
  });

  it('a query without terminator is past-end', () => {
    assertError(decodeOne('frontend', msg('Q', 'SELECT 1')), 'past-end', 5, 5);
  });

  it('trailing bytes after the query', () => {
    assertError(decodeOne('frontend', msg('Q', cstr('SELECT 1'), cstr('SELECT 2'))), 'trailing-bytes', 14, 14);
  });
});

describe('CopyFail', () => {
  it('decodes the error message', () => {
    const b = msg('f', cstr('cancelled by user'));
    assert.equal(annotate('frontend', b), lines(raw`"f" = CopyFail "\x00\x00\x00\x16" = 22 bytes "cancelled by user\x00" = error message: the cause of the COPY failure`));
    const m = decodeOne('frontend', b);
    assert.equal(m.name, 'CopyFail');
    assert.equal(span(m, 'error message').value, 'cancelled by user');
  });

  it('a message without terminator is past-end', () => {
    assertError(decodeOne('frontend', msg('f', 'oops')), 'past-end', 5, 5);
  });

  it('trailing bytes after the message', () => {
    assertError(decodeOne('frontend', msg('f', cstr('oops'), [7])), 'trailing-bytes', 10, 10);
  });
});

describe('CopyData (shared decoder)', () => {
  it('is registered for the client', () => {
    assert.equal(annotate('frontend', msg('d', 'a\tb\n')), lines(raw`"d" = CopyData "\x00\x00\x00\x08" = 8 bytes "a\tb\n" = COPY data`));
  });
});

describe('Execute', () => {
  it('executes the unnamed portal without a row limit', () => {
    const b = msg('E', cstr(''), int32(0));
    assert.equal(annotate('frontend', b), lines(raw`"E" = Execute "\x00\x00\x00\t" = 9 bytes "\x00" = the unnamed portal "\x00\x00\x00\x00" = maximum rows: 0 (no limit)`));
    const m = decodeOne('frontend', b);
    assert.equal(m.name, 'Execute');
    assert.equal(span(m, 'portal').value, '');
    assert.equal(span(m, 'maximum rows').value, 0);
  });

  it('executes a named portal with a row limit', () => {
    assert.equal(
      annotate('frontend', msg('E', cstr('c1'), int32(100))),
      lines(raw`"E" = Execute "\x00\x00\x00\x0b" = 11 bytes "c1\x00" = portal name "\x00\x00\x00d" = at most 100 rows (PortalSuspended if more remain)`),
    );
  });

  it('says what a negative row limit does', () => {
    assert.equal(
      annotate('frontend', msg('E', cstr(''), int32(-1))),
      lines(
        raw`"E" = Execute "\x00\x00\x00\t" = 9 bytes`,
        raw`  "\x00" = the unnamed portal`,
        raw`  "\xff\xff\xff\xff" = maximum rows: -1 (negative: undefined by the protocol; PostgreSQL treats it as no limit)`,
      ),
    );
  });

  it('a row limit cut short is past-end', () => {
    assertError(decodeAt(msg('E', cstr(''), [0, 0]), 3), 'past-end', 9, 6);
  });

  it('trailing bytes after the row limit', () => {
    assertError(decodeOne('frontend', msg('E', cstr(''), int32(0), [0])), 'trailing-bytes', 10, 10);
  });
});
