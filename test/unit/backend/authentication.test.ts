import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import { cstr, int32, msg } from '../../helpers/wire.js';
import { all, golden, malformed, top } from './helpers.js';

describe('Authentication (R)', () => {
  it('AuthenticationOk', () => {
    const m = golden(msg('R', int32(0)), '"R" = AuthenticationOk "\\x00\\x00\\x00\\x08" = 8 bytes "\\x00\\x00\\x00\\x00" = AuthenticationOk: the authentication was successful');
    assert.equal(m.name, 'AuthenticationOk');
    assert.equal(top(m, 'code').value, 0);
  });

  it('AuthenticationKerberosV5', () => {
    const m = golden(msg('R', int32(2)), '"R" = AuthenticationKerberosV5 "\\x00\\x00\\x00\\x08" = 8 bytes "\\x00\\x00\\x00\\x02" = AuthenticationKerberosV5: Kerberos V5 authentication is required');
    assert.equal(m.name, 'AuthenticationKerberosV5');
    assert.equal(top(m, 'code').value, 2);
  });

  it('AuthenticationCleartextPassword', () => {
    const m = golden(msg('R', int32(3)), '"R" = AuthenticationCleartextPassword "\\x00\\x00\\x00\\x08" = 8 bytes "\\x00\\x00\\x00\\x03" = AuthenticationCleartextPassword: a clear-text password is required');
    assert.equal(m.name, 'AuthenticationCleartextPassword');
    assert.equal(top(m, 'code').value, 3);
  });

  it('AuthenticationMD5Password with its Byte4 salt', () => {
    const m = golden(
      msg('R', int32(5), [0xde, 0xad, 0xbe, 0xef]),
      [
        '"R" = AuthenticationMD5Password "\\x00\\x00\\x00\\x0c" = 12 bytes',
        '  "\\x00\\x00\\x00\\x05" = AuthenticationMD5Password: an MD5-encrypted password is required',
        '  "\\xde\\xad\\xbe\\xef" = the salt to use when encrypting the password',
      ].join('\n'),
    );
    assert.equal(m.name, 'AuthenticationMD5Password');
    assert.deepEqual(top(m, 'salt').value, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    assert.deepEqual([top(m, 'salt').start, top(m, 'salt').end], [9, 13]);
  });

  it('AuthenticationGSS', () => {
    const m = golden(msg('R', int32(7)), '"R" = AuthenticationGSS "\\x00\\x00\\x00\\x08" = 8 bytes "\\x00\\x00\\x00\\x07" = AuthenticationGSS: GSSAPI authentication is required');
    assert.equal(m.name, 'AuthenticationGSS');
  });

  it('AuthenticationGSSContinue with GSSAPI or SSPI authentication data', () => {
    const m = golden(
      msg('R', int32(8), [0x60, 0x81, 0x01]),
      [
        '"R" = AuthenticationGSSContinue "\\x00\\x00\\x00\\x0b" = 11 bytes',
        '  "\\x00\\x00\\x00\\x08" = AuthenticationGSSContinue: this message contains GSSAPI or SSPI data',
        '  "`\\x81\\x01" = GSSAPI or SSPI authentication data',
      ].join('\n'),
    );
    assert.equal(m.name, 'AuthenticationGSSContinue');
    assert.deepEqual(top(m, 'authentication data').value, Buffer.from([0x60, 0x81, 0x01]));
  });

  it('AuthenticationSSPI', () => {
    const m = golden(msg('R', int32(9)), '"R" = AuthenticationSSPI "\\x00\\x00\\x00\\x08" = 8 bytes "\\x00\\x00\\x00\\t" = AuthenticationSSPI: SSPI authentication is required');
    assert.equal(m.name, 'AuthenticationSSPI');
  });

  it('AuthenticationSASL lists the mechanisms in order, ended by a zero byte', () => {
    const m = golden(
      msg('R', int32(10), cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), [0]),
      [
        '"R" = AuthenticationSASL "\\x00\\x00\\x00*" = 42 bytes',
        '  "\\x00\\x00\\x00\\n" = AuthenticationSASL: SASL authentication is required',
        '  "SCRAM-SHA-256-PLUS\\x00" = SASL mechanism SCRAM-SHA-256-PLUS (with channel binding)',
        '  "SCRAM-SHA-256\\x00" = SASL mechanism SCRAM-SHA-256',
        '  "\\x00" = end of the mechanism list',
      ].join('\n'),
    );
    assert.equal(m.name, 'AuthenticationSASL');
    assert.deepEqual(all(m, 'mechanism').map((s) => s.value), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
  });

  it('AuthenticationSASL names OAUTHBEARER (PostgreSQL 18) and unknown mechanisms', () => {
    const m = golden(
      msg('R', int32(10), cstr('OAUTHBEARER'), cstr('X-NEW'), [0]),
      [
        '"R" = AuthenticationSASL "\\x00\\x00\\x00\\x1b" = 27 bytes',
        '  "\\x00\\x00\\x00\\n" = AuthenticationSASL: SASL authentication is required',
        '  "OAUTHBEARER\\x00" = SASL mechanism OAUTHBEARER (OAuth 2.0 bearer token)',
        '  "X-NEW\\x00" = SASL mechanism X-NEW (not one PostgreSQL offers)',
        '  "\\x00" = end of the mechanism list',
      ].join('\n'),
    );
    assert.equal(all(m, 'mechanism').length, 2);
  });

  it('AuthenticationSASLContinue carries the SCRAM server-first-message', () => {
    const m = golden(
      msg('R', int32(11), 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'),
      [
        '"R" = AuthenticationSASLContinue "\\x00\\x00\\x00N" = 78 bytes',
        '  "\\x00\\x00\\x00\\x0b" = AuthenticationSASLContinue: this message contains a SASL challenge',
        '  "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j," = SCRAM nonce',
        '  "s=QSXCR+Q6sek8bf92," = SCRAM salt (base64)',
        '  "i=4096" = SCRAM iteration count: 4096',
      ].join('\n'),
    );
    assert.equal(m.name, 'AuthenticationSASLContinue');
    assert.deepEqual(
      m.spans.slice(3).map((s) => [s.name, s.value]),
      [
        ['r=', 'fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j'],
        ['s=', 'QSXCR+Q6sek8bf92'],
        ['i=', '4096'],
      ],
    );
  });

  it('AuthenticationSASLContinue with an OAUTHBEARER JSON error status', () => {
    const json = '{"status":"invalid_token","scope":"openid"}';
    const m = golden(
      msg('R', int32(11), json),
      [
        '"R" = AuthenticationSASLContinue "\\x00\\x00\\x003" = 51 bytes',
        '  "\\x00\\x00\\x00\\x0b" = AuthenticationSASLContinue: this message contains a SASL challenge',
        '  "{\\"status\\":\\"invalid_token\\",\\"scope\\":\\"openid\\"}" = OAUTHBEARER error status (JSON): the token was missing or rejected',
      ].join('\n'),
    );
    assert.deepEqual(top(m, 'SASL data').value, Buffer.from(json));
  });

  it('AuthenticationSASLFinal carries the SCRAM server-final-message', () => {
    const m = golden(
      msg('R', int32(12), 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ='),
      [
        '"R" = AuthenticationSASLFinal "\\x00\\x00\\x00&" = 38 bytes',
        '  "\\x00\\x00\\x00\\x0c" = AuthenticationSASLFinal: SASL authentication has completed',
        '  "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=" = SCRAM server signature (base64)',
      ].join('\n'),
    );
    assert.equal(m.name, 'AuthenticationSASLFinal');
    assert.equal(top(m, 'v=').value, 'rmF9pqV8S7suAoZWja4dJRkFsKQ=');
  });

  it('AuthenticationSASLFinal with a SCRAM server error', () => {
    const m = golden(
      msg('R', int32(12), 'e=invalid-proof'),
      [
        '"R" = AuthenticationSASLFinal "\\x00\\x00\\x00\\x17" = 23 bytes',
        '  "\\x00\\x00\\x00\\x0c" = AuthenticationSASLFinal: SASL authentication has completed',
        '  "e=invalid-proof" = SCRAM server error',
      ].join('\n'),
    );
    assert.equal(top(m, 'e=').value, 'invalid-proof');
  });

  it('tells the context tracker the code (span "code")', () => {
    const conv = new Conversation();
    conv.push('backend', msg('R', int32(10), cstr('SCRAM-SHA-256'), [0]));
    assert.equal(conv.ctx.authRequest, 10);
    conv.push('backend', msg('R', int32(5), [1, 2, 3, 4]));
    assert.equal(conv.ctx.authRequest, 5);
  });

  describe('malformed', () => {
    it('an unknown code is a bad value pointing at the code', () => {
      const m = malformed(msg('R', int32(4)), 'bad-value', { at: 5, name: 'Authentication', unparsed: false });
      assert.equal(m.name, 'Authentication');
      assert.equal(top(m, 'code').meaning, 'unknown authentication request code 4');
    });

    it('an unknown code with a body leaves the body unparsed', () => {
      malformed(msg('R', int32(6), [1, 2]), 'bad-value', { at: 5, unparsed: true });
    });

    it('cut short: no code', () => {
      malformed(msg('R', [0, 0]), 'past-end', { at: 5, unparsed: true, name: 'Authentication' });
    });

    it('cut short: an MD5 salt of 3 bytes', () => {
      malformed(msg('R', int32(5), [1, 2, 3]), 'past-end', { at: 9, unparsed: true, name: 'AuthenticationMD5Password' });
    });

    it('cut short: a SASL mechanism without its terminator', () => {
      malformed(msg('R', int32(10), 'SCRAM-SHA-256'), 'past-end', { at: 9, unparsed: true, name: 'AuthenticationSASL' });
    });

    it('cut short: a SASL mechanism list without the final zero byte', () => {
      malformed(msg('R', int32(10), cstr('SCRAM-SHA-256')), 'past-end', { at: 23, unparsed: false, name: 'AuthenticationSASL' });
    });

    it('trailing bytes after AuthenticationOk and after the SASL list', () => {
      malformed(msg('R', int32(0), [0]), 'trailing-bytes', { at: 9, unparsed: true, name: 'AuthenticationOk' });
      malformed(msg('R', int32(10), cstr('SCRAM-SHA-256'), [0], 'x'), 'trailing-bytes', { at: 24, unparsed: true });
    });
  });
});
