import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cstr, msg } from '../../helpers/wire.js';
import { golden, malformed, top } from './helpers.js';

describe('ParameterStatus (S)', () => {
  it('a run-time parameter and its value', () => {
    const m = golden(
      msg('S', cstr('server_version'), cstr('18.0')),
      '"S" = ParameterStatus "\\x00\\x00\\x00\\x18" = 24 bytes "server_version\\x00" = run-time parameter name "18.0\\x00" = current value of server_version',
    );
    assert.equal(top(m, 'name').value, 'server_version');
    assert.equal(top(m, 'value').value, '18.0');
  });

  describe('malformed', () => {
    it('cut short: no value', () => {
      malformed(msg('S', cstr('TimeZone')), 'past-end', { at: 14, unparsed: false, name: 'ParameterStatus' });
    });
    it('cut short: a name without terminator', () => {
      malformed(msg('S', 'TimeZone'), 'past-end', { at: 5, unparsed: true });
    });
    it('trailing bytes', () => {
      malformed(msg('S', cstr('a'), cstr('b'), 'c'), 'trailing-bytes', { at: 9, unparsed: true });
    });
  });
});
