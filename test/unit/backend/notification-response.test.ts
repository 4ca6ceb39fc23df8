import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cstr, int32, msg } from '../../helpers/wire.js';
import { golden, malformed, top } from './helpers.js';

describe('NotificationResponse (A)', () => {
  it('process ID, channel and payload', () => {
    const m = golden(
      msg('A', int32(31337), cstr('jobs'), cstr('{"id":7}')),
      '"A" = NotificationResponse "\\x00\\x00\\x00\\x16" = 22 bytes "\\x00\\x00zi" = notifying backend process 31337 "jobs\\x00" = channel name "{\\"id\\":7}\\x00" = payload',
    );
    assert.equal(top(m, 'process ID').value, 31337);
    assert.equal(top(m, 'channel').value, 'jobs');
    assert.equal(top(m, 'payload').value, '{"id":7}');
  });

  it('an empty payload', () => {
    golden(msg('A', int32(1), cstr('c'), cstr('')), '"A" = NotificationResponse "\\x00\\x00\\x00\\x0b" = 11 bytes "\\x00\\x00\\x00\\x01" = notifying backend process 1 "c\\x00" = channel name "\\x00" = empty payload');
  });

  describe('malformed', () => {
    it('cut short: no payload', () => {
      malformed(msg('A', int32(1), cstr('c')), 'past-end', { at: 11, unparsed: false, name: 'NotificationResponse' });
    });
    it('cut short: a payload without terminator', () => {
      malformed(msg('A', int32(1), cstr('c'), 'pay'), 'past-end', { at: 11, unparsed: true });
    });
    it('trailing bytes', () => {
      malformed(msg('A', int32(1), cstr('c'), cstr('p'), [1]), 'trailing-bytes', { at: 13, unparsed: true });
    });
  });
});
