import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotate, decodeOne } from '../../helpers/decode.js';
import { cstr, msg } from '../../helpers/wire.js';
import { assertError, decodeAt, lines, raw, span } from './support.js';

describe('Close', () => {
  it('closes a named prepared statement', () => {
    const b = msg('C', 'S', cstr('s1'));
    assert.equal(annotate('frontend', b), lines(raw`"C" = Close "\x00\x00\x00\x08" = 8 bytes "S" = close a prepared statement "s1\x00" = prepared statement name`));
    const m = decodeOne('frontend', b);
    assert.equal(m.name, 'Close');
    assert.equal(span(m, 'target').value, 'S');
    assert.equal(span(m, 'name').value, 's1');
  });

  it('closes the unnamed portal', () => {
    assert.equal(annotate('frontend', msg('C', 'P', cstr(''))), lines(raw`"C" = Close "\x00\x00\x00\x06" = 6 bytes "P" = close a portal "\x00" = the unnamed portal`));
  });

  it('an unknown target letter is bad-value at the letter', () => {
    const m = decodeAt(msg('C', 'X', cstr('s1')), 40);
    assertError(m, 'bad-value', 45, 6);
    assert.match(m.error!.expected, /'S' \(prepared statement\) or 'P' \(portal\), got "X"/);
  });

  it('a name cut short is past-end', () => {
    assertError(decodeOne('frontend', msg('C', 'S', 's1')), 'past-end', 6, 6);
  });

  it('a missing target is past-end', () => {
    assertError(decodeOne('frontend', msg('C')), 'past-end', 5);
  });

  it('trailing bytes after the name', () => {
    assertError(decodeOne('frontend', msg('C', 'S', cstr('s1'), 'x')), 'trailing-bytes', 9, 9);
  });
});

describe('Describe', () => {
  it('describes the unnamed prepared statement', () => {
    const b = msg('D', 'S', cstr(''));
    assert.equal(annotate('frontend', b), lines(raw`"D" = Describe "\x00\x00\x00\x06" = 6 bytes "S" = describe a prepared statement "\x00" = the unnamed prepared statement`));
    const m = decodeOne('frontend', b);
    assert.equal(m.name, 'Describe');
    assert.equal(span(m, 'name').value, '');
  });

  it('describes a named portal', () => {
    assert.equal(annotate('frontend', msg('D', 'P', cstr('c1'))), lines(raw`"D" = Describe "\x00\x00\x00\x08" = 8 bytes "P" = describe a portal "c1\x00" = portal name`));
  });

  it('a lowercase target letter is bad-value', () => {
    assertError(decodeOne('frontend', msg('D', 's', cstr(''))), 'bad-value', 5, 6);
  });

  it('a name cut short is past-end', () => {
    assertError(decodeOne('frontend', msg('D', 'P', 'c1')), 'past-end', 6, 6);
  });

  it('trailing bytes after the name', () => {
    assertError(decodeOne('frontend', msg('D', 'P', cstr(''), [0])), 'trailing-bytes', 7, 7);
  });
});
