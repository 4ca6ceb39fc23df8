import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import { int8, int16, msg } from '../../helpers/wire.js';
import { all, golden, malformed, top } from './helpers.js';

describe('CopyInResponse (G), CopyOutResponse (H), CopyBothResponse (W)', () => {
  it('CopyInResponse, textual, two columns', () => {
    const m = golden(
      msg('G', int8(0), int16(2), int16(0), int16(0)),
      [
        '"G" = CopyInResponse "\\x00\\x00\\x00\\x0b" = 11 bytes',
        '  "\\x00" = overall format: textual (rows separated by newlines)',
        '  "\\x00\\x02" = 2 column format codes follow',
        '  "\\x00\\x00" = column 1 format: text',
        '  "\\x00\\x00" = column 2 format: text',
      ].join('\n'),
    );
    assert.equal(m.name, 'CopyInResponse');
    assert.equal(top(m, 'overall format').value, 0);
    assert.equal(top(m, 'number of columns').value, 2);
    assert.deepEqual(all(m, 'format code').map((s) => s.value), [0, 0]);
  });

  it('CopyOutResponse, binary, mixed column formats', () => {
    const m = golden(
      msg('H', int8(1), int16(3), int16(1), int16(1), int16(0)),
      [
        '"H" = CopyOutResponse "\\x00\\x00\\x00\\r" = 13 bytes',
        '  "\\x01" = overall format: binary (similar to DataRow format)',
        '  "\\x00\\x03" = 3 column format codes follow',
        '  "\\x00\\x01" = column 1 format: binary',
        '  "\\x00\\x01" = column 2 format: binary',
        '  "\\x00\\x00" = column 3 format: text',
      ].join('\n'),
    );
    assert.deepEqual(all(m, 'format code').map((s) => s.value), [1, 1, 0]);
  });

  it('CopyBothResponse with no columns (streaming replication)', () => {
    const m = golden(
      msg('W', int8(0), int16(0)),
      '"W" = CopyBothResponse "\\x00\\x00\\x00\\x07" = 7 bytes "\\x00" = overall format: textual (rows separated by newlines) "\\x00\\x00" = 0 column format codes follow',
    );
    assert.equal(m.name, 'CopyBothResponse');
    assert.equal(top(m, 'number of columns').value, 0);
  });

  it('the context tracker sees which COPY started', () => {
    const conv = new Conversation();
    conv.push('backend', msg('G', int8(0), int16(0)));
    assert.equal(conv.ctx.copy, 'in');
    conv.push('backend', msg('H', int8(0), int16(0)));
    assert.equal(conv.ctx.copy, 'out');
    conv.push('backend', msg('W', int8(0), int16(0)));
    assert.equal(conv.ctx.copy, 'both');
  });

  describe('malformed', () => {
    it('cut short: a column format code missing', () => {
      malformed(msg('H', int8(0), int16(2), int16(0)), 'past-end', { at: 6, unparsed: true, name: 'CopyOutResponse' });
    });
    it('cut short: no column count', () => {
      malformed(msg('G', int8(0)), 'past-end', { at: 6, unparsed: false, name: 'CopyInResponse' });
    });
    it('a negative column count', () => {
      malformed(msg('W', int8(0), int16(-1)), 'bad-value', { at: 6, unparsed: false, name: 'CopyBothResponse' });
    });
    it('trailing bytes after the format codes', () => {
      malformed(msg('H', int8(0), int16(1), int16(0), [9]), 'trailing-bytes', { at: 10, unparsed: true });
    });
    it('an unknown overall format', () => {
      malformed(msg('H', int8(2), int16(0)), 'bad-value', { at: 5, unparsed: true });
    });
    it('an unknown column format code', () => {
      malformed(msg('H', int8(1), int16(1), int16(2)), 'bad-value', { at: 8, unparsed: false });
    });
    it('a binary column in a textual COPY', () => {
      const m = malformed(msg('G', int8(0), int16(1), int16(1)), 'bad-value', { at: 8 });
      assert.match(m.error!.expected, /all must be zero if the overall copy format is textual/);
    });
  });
});
