import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotatedText } from '../../../src/output/annotated.js';
import { Conversation } from '../../../src/protocol/conversation.js';
import type { CodecEvent } from '../../../src/protocol/types.js';
import { annotate, decodeOne } from '../../helpers/decode.js';
import { cstr, int32, msg, startupMessage } from '../../helpers/wire.js';
import { assertError, decodeAt, lines, raw, span } from './support.js';

const CLIENT_FIRST = 'n,,n=,r=rOprNGfwEbeRWgbNEkqO';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';

describe("'p' after AuthenticationCleartextPassword (3): PasswordMessage", () => {
  const b = msg('p', cstr('hunter2'));
  it('decodes the cleartext password as a secret', () => {
    assert.equal(annotate('frontend', b, { authRequest: 3 }), lines(raw`"p" = PasswordMessage "\x00\x00\x00\x0c" = 12 bytes "hunter2\x00" = cleartext password`));
    const m = decodeOne('frontend', b, { authRequest: 3 });
    assert.equal(m.name, 'PasswordMessage');
    const pw = span(m, 'password');
    assert.equal(pw.value, 'hunter2');
    assert.equal(pw.secret, true);
  });

  it('is redacted when asked', () => {
    assert.equal(
      annotatedText(decodeOne('frontend', b, { authRequest: 3 }), { redact: true }),
      raw`"p" = PasswordMessage "\x00\x00\x00\x0c" = 12 bytes "<redacted 8 bytes>" = cleartext password`,
    );
  });

  it('a password without terminator is past-end', () => {
    assertError(decodeAt(msg('p', 'hunter2'), 30, { authRequest: 3 }), 'past-end', 35, 5);
  });

  it('trailing bytes after the password', () => {
    assertError(decodeOne('frontend', msg('p', cstr('a'), cstr('b')), { authRequest: 3 }), 'trailing-bytes', 7, 7);
  });
});

describe("'p' after AuthenticationMD5Password (5): PasswordMessage", () => {
  it('decodes the MD5 hash as a secret', () => {
    const hash = 'md5' + '0123456789abcdef0123456789abcdef';
    const b = msg('p', cstr(hash));
    assert.equal(
      annotate('frontend', b, { authRequest: 5 }),
      lines(raw`"p" = PasswordMessage "\x00\x00\x00(" = 40 bytes "md50123456789abcdef0123456789abcdef\x00" = MD5 password hash: 'md5' + md5(md5(password + user name) + salt)`),
    );
    const pw = span(decodeOne('frontend', b, { authRequest: 5 }), 'password');
    assert.equal(pw.value, hash);
    assert.equal(pw.secret, true);
  });

  it('says when the answer is not an MD5 hash', () => {
    const m = decodeOne('frontend', msg('p', cstr('hunter2')), { authRequest: 5 });
    assert.equal(m.error, undefined);
    assert.equal(span(m, 'password').meaning, "not an MD5 hash ('md5' + 32 hex digits), though AuthenticationMD5Password asked for one");
    assert.equal(span(m, 'password').secret, true);
  });
});

describe("'p' after AuthenticationSASL (10): SASLInitialResponse", () => {
  it('decodes the mechanism and the SCRAM client-first-message', () => {
    const b = msg('p', cstr('SCRAM-SHA-256'), int32(CLIENT_FIRST.length), CLIENT_FIRST);
    assert.equal(
      annotate('frontend', b, { authRequest: 10 }),
      lines(
        raw`"p" = SASLInitialResponse "\x00\x00\x002" = 50 bytes`,
        raw`  "SCRAM-SHA-256\x00" = SASL mechanism SCRAM-SHA-256 (no channel binding)`,
        raw`  "\x00\x00\x00\x1c" = Initial Response: 28 bytes`,
        raw`  "n," = GS2 flag 'n': client does not support channel binding`,
        raw`  "," = no authorization identity`,
        raw`  "n=," = SCRAM user name (PostgreSQL ignores it and uses the startup user)`,
        raw`  "r=rOprNGfwEbeRWgbNEkqO" = SCRAM nonce`,
      ),
    );
    const m = decodeOne('frontend', b, { authRequest: 10 });
    assert.equal(m.name, 'SASLInitialResponse');
    assert.equal(m.spans[0]!.meaning, 'SASLInitialResponse');
    assert.equal(span(m, 'mechanism').value, 'SCRAM-SHA-256');
    assert.equal(span(m, 'initial response length').value, 28);
    assert.equal(span(m, 'r=').value, 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(span(m, 'r=').secret, undefined);
  });

  it('decodes SCRAM-SHA-256-PLUS with its channel-binding flag', () => {
    const first = 'p=tls-server-end-point,,n=,r=rOprNGfwEbeRWgbNEkqO';
    assert.equal(
      annotate('frontend', msg('p', cstr('SCRAM-SHA-256-PLUS'), int32(first.length), first), { authRequest: 10 }),
      lines(
        raw`"p" = SASLInitialResponse "\x00\x00\x00L" = 76 bytes`,
        raw`  "SCRAM-SHA-256-PLUS\x00" = SASL mechanism SCRAM-SHA-256-PLUS (SCRAM with TLS channel binding)`,
        raw`  "\x00\x00\x001" = Initial Response: 49 bytes`,
        raw`  "p=tls-server-end-point," = GS2 flag 'p': client uses channel binding tls-server-end-point`,
        raw`  "," = no authorization identity`,
        raw`  "n=," = SCRAM user name (PostgreSQL ignores it and uses the startup user)`,
        raw`  "r=rOprNGfwEbeRWgbNEkqO" = SCRAM nonce`,
      ),
    );
  });

  it('length -1: no Initial Response', () => {
    assert.equal(
      annotate('frontend', msg('p', cstr('SCRAM-SHA-256'), int32(-1)), { authRequest: 10 }),
      lines(
        raw`"p" = SASLInitialResponse "\x00\x00\x00\x16" = 22 bytes`,
        raw`  "SCRAM-SHA-256\x00" = SASL mechanism SCRAM-SHA-256 (no channel binding)`,
        raw`  "\xff\xff\xff\xff" = length -1: no Initial Response`,
      ),
    );
  });

  it("keeps another mechanism's data as secret bytes (an OAUTHBEARER token)", () => {
    const data = 'n,,\x01auth=Bearer abc.def\x01\x01';
    const b = msg('p', cstr('OAUTHBEARER'), int32(data.length), data);
    assert.equal(
      annotate('frontend', b, { authRequest: 10 }),
      lines(
        raw`"p" = SASLInitialResponse "\x00\x00\x00-" = 45 bytes`,
        raw`  "OAUTHBEARER\x00" = SASL mechanism OAUTHBEARER (OAuth bearer token, PostgreSQL 18+)`,
        raw`  "\x00\x00\x00\x19" = Initial Response: 25 bytes`,
        raw`  "n,,\x01auth=Bearer abc.def\x01\x01" = OAUTHBEARER initial response (25 bytes; may carry credentials)`,
      ),
    );
    assert.equal(span(decodeOne('frontend', b, { authRequest: 10 }), 'initial response').secret, true);
  });

  it('an Initial Response longer than the message is past-end', () => {
    const m = decodeAt(msg('p', cstr('SCRAM-SHA-256'), int32(40), 'n,,'), 200, { authRequest: 10 });
    assertError(m, 'past-end', 200 + 23, 23);
    assert.equal(m.name, 'SASLInitialResponse');
  });

  it('a missing length is past-end', () => {
    assertError(decodeOne('frontend', msg('p', cstr('SCRAM-SHA-256')), { authRequest: 10 }), 'past-end', 19);
  });

  it('a length below -1 is bad-value', () => {
    assertError(decodeOne('frontend', msg('p', cstr('SCRAM-SHA-256'), int32(-5), 'x'), { authRequest: 10 }), 'bad-value', 19, 23);
  });

  it('bytes after the announced Initial Response are trailing-bytes', () => {
    assertError(decodeOne('frontend', msg('p', cstr('X'), int32(2), 'abcd'), { authRequest: 10 }), 'trailing-bytes', 13, 13);
  });

  it('bytes after "no Initial Response" are trailing-bytes', () => {
    assertError(decodeOne('frontend', msg('p', cstr('X'), int32(-1), 'ab'), { authRequest: 10 }), 'trailing-bytes', 11, 11);
  });
});

describe("'p' after AuthenticationSASLContinue (11): SASLResponse", () => {
  it('decodes the SCRAM client-final-message (proof and nonce are not secret)', () => {
    const b = msg('p', CLIENT_FINAL);
    assert.equal(
      annotate('frontend', b, { authRequest: 11 }),
      lines(
        raw`"p" = SASLResponse "\x00\x00\x00n" = 110 bytes`,
        raw`  "c=biws," = SCRAM channel binding: GS2 flag 'n': client does not support channel binding`,
        raw`  "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," = SCRAM nonce`,
        raw`  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=" = SCRAM client proof (base64)`,
      ),
    );
    const m = decodeOne('frontend', b, { authRequest: 11 });
    assert.equal(m.name, 'SASLResponse');
    assert.equal(span(m, 'p=').value, 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    assert.equal(span(m, 'p=').secret, undefined);
  });

  it('keeps non-SCRAM data as secret bytes', () => {
    const b = msg('p', [1]);
    assert.equal(
      annotate('frontend', b, { authRequest: 11 }),
      lines(raw`"p" = SASLResponse "\x00\x00\x00\x05" = 5 bytes "\x01" = SASL mechanism specific message data (1 byte, not SCRAM)`),
    );
    assert.equal(span(decodeOne('frontend', b, { authRequest: 11 }), 'data').secret, true);
  });

  it('an empty response is an empty data span', () => {
    const m = decodeOne('frontend', msg('p'), { authRequest: 11 });
    assert.equal(m.error, undefined);
    const data = span(m, 'data');
    assert.deepEqual([data.start, data.end, data.meaning], [5, 5, 'SASL mechanism specific message data (0 bytes, not SCRAM)']);
  });
});

describe("'p' after AuthenticationGSS, GSSContinue, SSPI (7, 8, 9): GSSResponse", () => {
  for (const code of [7, 8, 9]) {
    it(`decodes the token as secret bytes after code ${code}`, () => {
      const b = msg('p', [0xa1, 0x82, 1, 2]);
      assert.equal(
        annotate('frontend', b, { authRequest: code }),
        lines(raw`"p" = GSSResponse "\x00\x00\x00\x08" = 8 bytes "\xa1\x82\x01\x02" = GSSAPI/SSPI specific message data`),
      );
      const m = decodeOne('frontend', b, { authRequest: code });
      assert.equal(m.name, 'GSSResponse');
      assert.equal(span(m, 'data').secret, true);
    });
  }
});

describe("'p' without a known authentication request", () => {
  it('does not guess when the request was not seen', () => {
    const b = msg('p', cstr('hunter2'));
    assert.equal(
      annotate('frontend', b),
      lines(
        raw`"p" = PasswordMessage (authentication request not seen) "\x00\x00\x00\x0c" = 12 bytes`,
        raw`  "hunter2\x00" = authentication response, not decoded: the authentication request it answers was not seen (a password, SASL or GSSAPI message)`,
      ),
    );
    const m = decodeOne('frontend', b);
    assert.equal(m.name, 'PasswordMessage (authentication request not seen)');
    assert.equal(m.error, undefined);
    const data = span(m, 'data');
    assert.equal(data.secret, true);
    assert.deepEqual([data.start, data.end], [5, 13]);
  });

  it('names the request when it asks for no response', () => {
    assert.equal(
      annotate('frontend', msg('p', cstr('hunter2')), { authRequest: 0 }),
      lines(
        raw`"p" = PasswordMessage (unexpected after AuthenticationOk) "\x00\x00\x00\x0c" = 12 bytes`,
        raw`  "hunter2\x00" = authentication response, not decoded: the last request (AuthenticationOk) does not ask for one`,
      ),
    );
    assert.equal(decodeOne('frontend', msg('p', [1]), { authRequest: 12 }).name, 'PasswordMessage (unexpected after AuthenticationSASLFinal)');
    assert.equal(decodeOne('frontend', msg('p', [1]), { authRequest: 99 }).name, 'PasswordMessage (unexpected after authentication request code 99)');
  });
});

describe("'p' in a conversation: the server's authentication request decides", () => {
  it('SASLInitialResponse after AuthenticationSASL, SASLResponse after AuthenticationSASLContinue', () => {
    const conv = new Conversation();
    const names = (evs: CodecEvent[]) => evs.flatMap((e) => (e.kind === 'message' ? [e.message.name] : []));
    assert.deepEqual(names(conv.push('frontend', startupMessage({ user: 'u' }))), ['StartupMessage']);
    conv.push('backend', msg('R', int32(10), cstr('SCRAM-SHA-256'), [0]));
    assert.deepEqual(names(conv.push('frontend', msg('p', cstr('SCRAM-SHA-256'), int32(CLIENT_FIRST.length), CLIENT_FIRST))), ['SASLInitialResponse']);
    conv.push('backend', msg('R', int32(11), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    assert.deepEqual(names(conv.push('frontend', msg('p', CLIENT_FINAL))), ['SASLResponse']);
  });

  it('PasswordMessage after AuthenticationCleartextPassword', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    conv.push('backend', msg('R', int32(3)));
    const evs = conv.push('frontend', msg('p', cstr('hunter2')));
    assert.equal(evs[0]!.kind === 'message' && evs[0]!.message.name, 'PasswordMessage');
  });
});
