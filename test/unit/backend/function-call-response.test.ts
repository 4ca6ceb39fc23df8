import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { int32, msg } from '../../helpers/wire.js';
import { golden, malformed, top } from './helpers.js';

describe('FunctionCallResponse (V)', () => {
  it('a result value', () => {
    const m = golden(msg('V', int32(4), int32(42)), '"V" = FunctionCallResponse "\\x00\\x00\\x00\\x0c" = 12 bytes "\\x00\\x00\\x00\\x04" = result length: 4 "\\x00\\x00\\x00*" = result value');
    assert.equal(top(m, 'result length').value, 4);
    assert.deepEqual(top(m, 'result value').value, int32(42));
  });

  it('a NULL result has no value bytes', () => {
    const m = golden(msg('V', int32(-1)), '"V" = FunctionCallResponse "\\x00\\x00\\x00\\x08" = 8 bytes "\\xff\\xff\\xff\\xff" = NULL');
    assert.equal(m.spans.length, 3);
  });

  it('an empty result', () => {
    golden(msg('V', int32(0)), '"V" = FunctionCallResponse "\\x00\\x00\\x00\\x08" = 8 bytes "\\x00\\x00\\x00\\x00" = result length: 0 "" = result value');
  });

  describe('malformed', () => {
    it('cut short: a result longer than the message', () => {
      malformed(msg('V', int32(10), 'abc'), 'past-end', { at: 9, unparsed: true, name: 'FunctionCallResponse' });
    });
    it('a length below -1', () => {
      malformed(msg('V', int32(-5)), 'bad-value', { at: 5, unparsed: false });
    });
    it('trailing bytes after a NULL result', () => {
      malformed(msg('V', int32(-1), 'x'), 'trailing-bytes', { at: 9, unparsed: true });
    });
  });
});
