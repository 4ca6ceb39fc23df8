import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import { cstr, int32, msg } from '../../helpers/wire.js';
import { all, golden, malformed, top } from './helpers.js';

describe('NegotiateProtocolVersion (v)', () => {
  it('two unrecognized _pq_. options, server at protocol 3.0', () => {
    const m = golden(
      msg('v', int32(0x30000), int32(2), cstr('_pq_.compression'), cstr('_pq_.trace')),
      [
        '"v" = NegotiateProtocolVersion "\\x00\\x00\\x00(" = 40 bytes',
        '  "\\x00\\x03\\x00\\x00" = protocol 3.0: the newest version the server supports',
        '  "\\x00\\x00\\x00\\x02" = 2 option names follow',
        '  "_pq_.compression\\x00" = protocol option not recognized by the server',
        '  "_pq_.trace\\x00" = protocol option not recognized by the server',
      ].join('\n'),
    );
    assert.equal(top(m, 'newest minor version').value, 0);
    assert.equal(top(m, 'number of unrecognized options').value, 2);
    assert.deepEqual(all(m, 'option name').map((s) => s.value), ['_pq_.compression', '_pq_.trace']);
  });

  it('a client asking for 3.3 from a 3.2 server, no options', () => {
    const m = golden(
      msg('v', int32(0x30002), int32(0)),
      [
        '"v" = NegotiateProtocolVersion "\\x00\\x00\\x00\\x0c" = 12 bytes',
        '  "\\x00\\x03\\x00\\x02" = protocol 3.2: the newest version the server supports',
        '  "\\x00\\x00\\x00\\x00" = 0 option names follow',
      ].join('\n'),
    );
    assert.equal(top(m, 'newest minor version').value, 2);
  });

  it('a bare minor number (as the documentation words it) and a non-_pq_ name', () => {
    const m = golden(
      msg('v', int32(1), int32(1), cstr('weird')),
      [
        '"v" = NegotiateProtocolVersion "\\x00\\x00\\x00\\x12" = 18 bytes',
        '  "\\x00\\x00\\x00\\x01" = newest supported minor version 1 (protocol 3.1)',
        '  "\\x00\\x00\\x00\\x01" = 1 option name follows',
        '  "weird\\x00" = option not recognized by the server (not a _pq_. protocol option)',
      ].join('\n'),
    );
    assert.equal(top(m, 'newest minor version').value, 1);
  });

  it('lowers the conversation protocol to the newest minor version', () => {
    const conv = new Conversation();
    conv.ctx.protocol = { major: 3, minor: 2 };
    conv.push('backend', msg('v', int32(0x30000), int32(0)));
    assert.deepEqual(conv.ctx.protocol, { major: 3, minor: 0 });
  });

  describe('malformed', () => {
    it('cut short: fewer option names than announced', () => {
      malformed(msg('v', int32(0x30000), int32(2), cstr('_pq_.a')), 'past-end', { at: 20, unparsed: false, name: 'NegotiateProtocolVersion' });
    });
    it('cut short: a count that the message cannot hold', () => {
      malformed(msg('v', int32(0x30000), int32(100), cstr('_pq_.a')), 'past-end', { at: 9, unparsed: true });
    });
    it('a negative option count', () => {
      malformed(msg('v', int32(0x30000), int32(-1)), 'bad-value', { at: 9, unparsed: false });
    });
    it('a negative version', () => {
      malformed(msg('v', int32(-1), int32(0)), 'bad-value', { at: 5, unparsed: true });
    });
    it('trailing bytes after the last option', () => {
      malformed(msg('v', int32(0x30000), int32(1), cstr('_pq_.a'), 'zz'), 'trailing-bytes', { at: 20, unparsed: true });
    });
  });
});
