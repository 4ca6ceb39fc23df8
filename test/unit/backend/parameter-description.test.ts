import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { int16, int32, msg, uint32 } from '../../helpers/wire.js';
import { all, golden, malformed, top } from './helpers.js';

describe('ParameterDescription (t)', () => {
  it('parameter type OIDs, built-in, unspecified and user-defined', () => {
    const m = golden(
      msg('t', int16(3), int32(23), int32(0), uint32(3_000_000_000)),
      [
        '"t" = ParameterDescription "\\x00\\x00\\x00\\x12" = 18 bytes',
        '  "\\x00\\x03" = 3 parameter types follow',
        '  "\\x00\\x00\\x00\\x17" = parameter $1: type OID 23 (int4)',
        '  "\\x00\\x00\\x00\\x00" = parameter $2: type OID 0 (unspecified)',
        '  "\\xb2\\xd0^\\x00" = parameter $3: type OID 3000000000',
      ].join('\n'),
    );
    assert.equal(top(m, 'number of parameters').value, 3);
    assert.deepEqual(all(m, 'parameter type OID').map((s) => s.value), [23, 0, 3_000_000_000]);
  });

  it('no parameters', () => {
    golden(msg('t', int16(0)), '"t" = ParameterDescription "\\x00\\x00\\x00\\x06" = 6 bytes "\\x00\\x00" = 0 parameter types follow');
  });

  describe('malformed', () => {
    it('cut short: fewer OIDs than announced', () => {
      malformed(msg('t', int16(2), int32(23)), 'past-end', { at: 5, unparsed: true, name: 'ParameterDescription' });
    });
    it('a count above 32767 is read unsigned (up to 65535 parameters), so it is past-end, not negative', () => {
      const m = malformed(msg('t', int16(-1), int32(23)), 'past-end', { at: 5, unparsed: true });
      assert.equal(top(m, 'number of parameters').value, 65535);
    });
    it('trailing bytes', () => {
      malformed(msg('t', int16(1), int32(23), [0]), 'trailing-bytes', { at: 11, unparsed: true });
    });
  });
});
