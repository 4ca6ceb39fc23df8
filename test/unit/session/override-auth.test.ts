/**
 * --override-auth without sockets: SCRAM, SASLprep and the mechanism choice against the
 * RFCs' own examples, and the session's whole exchange against a scripted server that
 * checks pgscope's proof (and channel binding) the way PostgreSQL's auth-scram.c does.
 * The end-to-end tests (test/e2e/override-auth.test.ts) do the same against real servers.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { chooseMechanism } from '../../../src/session/auth/choose-mechanism.js';
import { saslprepPassword } from '../../../src/session/auth/saslprep.js';
import { ScramClient, ScramError } from '../../../src/session/auth/scram-client.js';
import { CancelRegistry } from '../../../src/session/cancel-registry.js';
import type { SecurityVerdict } from '../../../src/session/events.js';
import { Session, type SessionAction, type SessionSettings } from '../../../src/session/session.js';
import { GeneratedCertificates } from '../../../src/tls/certificates.js';
import { cstr, int32, msg, startupMessage } from '../../helpers/wire.js';

describe('ScramClient', () => {
  it('reproduces the SCRAM-SHA-256 example of RFC 7677, section 3', () => {
    const c = new ScramClient({ password: Buffer.from('pencil'), flag: 'n', nonce: 'rOprNGfwEbeRWgbNEkqO', user: 'user' });
    assert.equal(c.clientFirstMessage(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = c.clientFinalMessage('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    assert.equal(final, 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    c.verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('refuses a wrong server signature, a server error, and a nonce that does not extend its own', () => {
    const c = new ScramClient({ password: Buffer.from('pencil'), flag: 'n', nonce: 'abc', user: 'user' });
    assert.throws(() => c.clientFinalMessage('r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'), ScramError);
    c.clientFinalMessage('r=abc123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    assert.throws(() => c.verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), /server signature is wrong/);
    assert.throws(() => c.verifyServerFinal('e=invalid-proof'), /invalid-proof/);
  });

  it('writes the GS2 header of RFC 5802 for each flag, and binds the certificate hash with p', () => {
    assert.match(new ScramClient({ password: Buffer.from('x'), flag: 'y' }).clientFirstMessage(), /^y,,n=,r=/);
    assert.match(new ScramClient({ password: Buffer.from('x'), flag: 'n' }).clientFirstMessage(), /^n,,n=,r=/);
    const binding = Buffer.from('0123456789abcdef0123456789abcdef');
    const c = new ScramClient({ password: Buffer.from('x'), flag: 'p', bindingData: binding, nonce: 'N' });
    assert.equal(c.clientFirstMessage(), 'p=tls-server-end-point,,n=,r=N');
    const final = c.clientFinalMessage('r=NN,s=c2FsdA==,i=1');
    const cAttr = /^c=([^,]+),/.exec(final)![1]!;
    assert.deepEqual(Buffer.from(cAttr, 'base64'), Buffer.concat([Buffer.from('p=tls-server-end-point,,'), binding]));
  });
});

describe('SASLprep (RFC 4013, section 3 examples)', () => {
  const prep = (s: string): string => saslprepPassword(Buffer.from(s, 'utf8')).toString('utf8');
  it('maps and normalises as the RFC shows', () => {
    assert.equal(prep('I\u00adX'), 'IX', 'SOFT HYPHEN mapped to nothing');
    assert.equal(prep('user'), 'user');
    assert.equal(prep('USER'), 'USER', 'case preserved');
    assert.equal(prep('\u00aa'), 'a', 'NFKC');
    assert.equal(prep('\u2168'), 'IX', 'NFKC');
    assert.equal(prep('a\u00a0b'), 'a b', 'non-ASCII space mapped to SPACE');
  });
  it('uses the password as it is where PostgreSQL does: prohibited characters, bidi failures, invalid UTF-8', () => {
    assert.equal(prep('\u0007'), '\u0007');
    assert.equal(prep('\u0627\u0031'), '\u0627\u0031');
    const bad = Buffer.from([0x61, 0xff, 0x62]);
    assert.deepEqual(saslprepPassword(bad), bad);
  });
});

describe('chooseMechanism', () => {
  const both = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'];
  it('follows libpq: PLUS when offered over TLS unless disabled; y when it could bind but was not offered PLUS', () => {
    assert.deepEqual(chooseMechanism(both, true, true, 'prefer'), { ok: true, mechanism: 'SCRAM-SHA-256-PLUS', flag: 'p' });
    assert.deepEqual(chooseMechanism(both, true, true, 'require'), { ok: true, mechanism: 'SCRAM-SHA-256-PLUS', flag: 'p' });
    assert.deepEqual(chooseMechanism(both, true, true, 'disable'), { ok: true, mechanism: 'SCRAM-SHA-256', flag: 'n' });
    assert.deepEqual(chooseMechanism(['SCRAM-SHA-256'], true, true, 'prefer'), { ok: true, mechanism: 'SCRAM-SHA-256', flag: 'y' });
    assert.deepEqual(chooseMechanism(['SCRAM-SHA-256'], false, false, 'prefer'), { ok: true, mechanism: 'SCRAM-SHA-256', flag: 'n' });
  });
  it('refuses require without TLS or without PLUS, saying which', () => {
    const noTls = chooseMechanism(['SCRAM-SHA-256'], false, false, 'require');
    assert.ok(!noTls.ok && /not encrypted/.test(noTls.why));
    const noPlus = chooseMechanism(['SCRAM-SHA-256'], true, true, 'require');
    assert.ok(!noPlus.ok && /did not offer SCRAM-SHA-256-PLUS/.test(noPlus.why));
  });
});

// ---------------------------------------------------------------------------------------
// The session against a scripted server.

const PASSWORD = 'sésame pw';

const settings = (over: Partial<SessionSettings> = {}): SessionSettings => ({
  serverHost: 'db',
  serverDeleteSuffix: '',
  serverConnectPort: 5432,
  serverSslnegotiation: 'postgres',
  clientDenySsl: false,
  serverTls: { attempt: false, requireEncryption: false, mode: 'disable' },
  overrideAuth: { channelBinding: 'prefer' },
  ...over,
});

const sent = (acts: SessionAction[], type: 'send-client' | 'send-server'): Buffer => Buffer.concat(acts.flatMap((a) => (a.type === type ? [a.bytes] : [])));
const statuses = (acts: SessionAction[]): string => acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'status' ? [`${a.event.level}: ${a.event.text}`] : [])).join('\n');
const verdicts = (acts: SessionAction[]): SecurityVerdict[] => acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'security' ? [a.event.verdict] : []));
const labels = (acts: SessionAction[]): string[] => acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'codec' && a.event.event.kind === 'message' ? [`${a.event.label} ${a.event.event.message.name}`] : []));

const auth = (code: number, ...body: Buffer[]): Buffer => msg('R', int32(code), ...body);
const AUTH_OK = auth(0);
const READY = msg('Z', 'I');
const passwordMessage = (pw: string): Buffer => msg('p', cstr(pw));

/** PostgreSQL's side of SCRAM (auth-scram.c), enough to check what pgscope sends. */
class ScramServer {
  readonly salt = randomBytes(16);
  readonly iterations = 4096;
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2 = '';
  constructor(
    private readonly password: string,
    private readonly certHash: Buffer | null,
  ) {}

  first(initial: Buffer): { mechanism: string; serverFirst: string } {
    // SASLInitialResponse body: String mechanism, Int32 length, Byten.
    const body = initial.subarray(5);
    const zero = body.indexOf(0);
    const mechanism = body.subarray(0, zero).toString();
    const data = body.subarray(zero + 5).toString();
    const parts = data.split(',');
    this.gs2 = `${parts[0]},${parts[1]},`;
    this.clientFirstBare = parts.slice(2).join(',');
    const nonce = /r=([^,]+)/.exec(this.clientFirstBare)![1]! + 'SERVERNONCE';
    this.serverFirst = `r=${nonce},s=${this.salt.toString('base64')},i=${this.iterations}`;
    return { mechanism, serverFirst: this.serverFirst };
  }

  /** Returns the server-final-message, or throws what PostgreSQL would refuse. */
  final(response: Buffer): string {
    const text = response.subarray(5).toString();
    const withoutProof = text.slice(0, text.lastIndexOf(',p='));
    const proof = Buffer.from(text.slice(text.lastIndexOf(',p=') + 3), 'base64');
    const c = Buffer.from(/^c=([^,]+)/.exec(text)![1]!, 'base64');
    const expectedC = this.gs2.startsWith('p=') ? Buffer.concat([Buffer.from(this.gs2), this.certHash!]) : Buffer.from(this.gs2);
    if (!c.equals(expectedC)) throw new Error('SCRAM channel binding check failed');
    const salted = pbkdf2Sync(Buffer.from(this.password.normalize('NFKC')), this.salt, this.iterations, 32, 'sha256');
    const hmac = (k: Buffer, s: string): Buffer => createHmac('sha256', k).update(s).digest();
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const sig = hmac(storedKey, authMessage);
    const recovered = Buffer.from(proof.map((b, i) => b ^ sig[i]!));
    if (!createHash('sha256').update(recovered).digest().equals(storedKey)) throw new Error('password authentication failed');
    return `v=${hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')}`;
  }
}

/** A session up to the point where the server sends its first authentication request. */
function connected(over: Partial<SessionSettings> = {}, certificate: Buffer | null = null): Session {
  const s = new Session(7, settings(over), new CancelRegistry());
  s.handle({ type: 'client-data', bytes: startupMessage({ user: 'alice', database: 'db' }) });
  s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
  if (over.serverTls?.attempt) {
    s.handle({ type: 'server-data', bytes: Buffer.from('S') });
    s.handle({ type: 'server-tls-ready', info: { protocol: 'TLSv1.3', cipher: 'X', sni: null, alpn: null }, certificate });
  }
  return s;
}

describe('Session with --override-auth', () => {
  it('passes trust (AuthenticationOk) straight through, and gives a verdict', () => {
    const s = connected();
    const a = s.handle({ type: 'server-data', bytes: Buffer.concat([AUTH_OK, READY]) });
    assert.deepEqual(sent(a, 'send-client'), Buffer.concat([AUTH_OK, READY]));
    assert.equal(sent(a, 'send-server').length, 0);
    const [v] = verdicts(a);
    assert.equal(v?.exposure, 'exposed');
    assert.equal(v?.tls, 'none');
  });

  it('does SCRAM-SHA-256-PLUS with tls-server-end-point over TLS, the server checking proof and binding', async () => {
    const pair = await new GeneratedCertificates('ecdsa').forName('db');
    const der = new X509Certificate(pair.certPem).raw;
    const server = new ScramServer(PASSWORD, createHash('sha256').update(der).digest());
    const s = connected({ serverTls: { attempt: true, requireEncryption: false, mode: 'prefer' } }, der);
    const a1 = s.handle({ type: 'server-data', bytes: auth(10, cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), Buffer.from([0])) });
    assert.deepEqual(sent(a1, 'send-client'), auth(3), 'the client is asked for a cleartext password');
    assert.match(statuses(a1), /asking the client for its password/);
    assert.deepEqual(labels(a1), ['server -> script AuthenticationSASL', 'script -> client AuthenticationCleartextPassword']);

    const a2 = s.handle({ type: 'client-data', bytes: passwordMessage(PASSWORD) });
    assert.deepEqual(labels(a2), ['client -> script PasswordMessage', 'script -> server SASLInitialResponse']);
    const { mechanism, serverFirst } = server.first(sent(a2, 'send-server'));
    assert.equal(mechanism, 'SCRAM-SHA-256-PLUS');

    const a3 = s.handle({ type: 'server-data', bytes: auth(11, Buffer.from(serverFirst)) });
    const serverFinal = server.final(sent(a3, 'send-server'));
    // SASLFinal, AuthenticationOk and the rest in one chunk: everything from AuthenticationOk on reaches the client.
    const a4 = s.handle({ type: 'server-data', bytes: Buffer.concat([auth(12, Buffer.from(serverFinal)), AUTH_OK, READY]) });
    assert.deepEqual(sent(a4, 'send-client'), Buffer.concat([AUTH_OK, READY]));
    assert.match(statuses(a4), /authenticated to the server with SCRAM-SHA-256-PLUS/);
    assert.equal(verdicts(a4)[0]?.clientAuth, 'cleartext password');
    assert.match(verdicts(a4)[0]!.sentence, /password over in cleartext/);

    // From now on, plain forwarding.
    const q = msg('Q', cstr('select 1'));
    assert.deepEqual(sent(s.handle({ type: 'client-data', bytes: q }), 'send-server'), q);
  });

  it('answers MD5 with the hash of the password and the user name, and cleartext with the password', () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    const s = connected();
    s.handle({ type: 'server-data', bytes: auth(5, salt) });
    const a = s.handle({ type: 'client-data', bytes: passwordMessage(PASSWORD) });
    const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');
    const expected = 'md5' + md5(Buffer.concat([Buffer.from(md5(Buffer.from(PASSWORD + 'alice'))), salt]));
    assert.deepEqual(sent(a, 'send-server'), passwordMessage(expected));

    const t = connected();
    t.handle({ type: 'server-data', bytes: auth(3) });
    assert.deepEqual(sent(t.handle({ type: 'client-data', bytes: passwordMessage(PASSWORD) }), 'send-server'), passwordMessage(PASSWORD));
  });

  it("passes the server's refusal (28P01) to the client, and adds nothing when the server hangs up", () => {
    const s = connected();
    s.handle({ type: 'server-data', bytes: auth(3) });
    s.handle({ type: 'client-data', bytes: passwordMessage('wrong') });
    const refusal = msg('E', 'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "alice"\0\0');
    const a = s.handle({ type: 'server-data', bytes: refusal });
    assert.deepEqual(sent(a, 'send-client'), refusal);
    assert.match(statuses(a), /the server refused: 28P01 password authentication failed/);
    const b = s.handle({ type: 'server-closed' });
    assert.equal(sent(b, 'send-client').length, 0, 'no second ErrorResponse');
    assert.ok(b.some((x) => x.type === 'close'));
  });

  it('refuses GSSAPI with an ErrorResponse naming it', () => {
    const s = connected();
    const a = s.handle({ type: 'server-data', bytes: auth(7) });
    const text = sent(a, 'send-client').toString('latin1');
    assert.match(text, /^E/);
    assert.match(text, /GSSAPI authentication, which --override-auth cannot do/);
    assert.ok(a.some((x) => x.type === 'close'));
  });

  it('--server-channel-binding require: fails clearly against a server leg without TLS, and against trust', () => {
    const s = connected({ overrideAuth: { channelBinding: 'require' } });
    const a = s.handle({ type: 'server-data', bytes: auth(10, cstr('SCRAM-SHA-256'), Buffer.from([0])) });
    assert.match(sent(a, 'send-client').toString('latin1'), /--server-channel-binding require: the server leg is not encrypted/);
    assert.doesNotMatch(sent(a, 'send-client').toString('latin1'), /^R/, 'the client is not asked for a password');
    assert.equal(sent(a, 'send-server').length, 0, 'nothing sent to the server');

    for (const request of [auth(3), auth(5, Buffer.from([1, 2, 3, 4]))]) {
      const u = connected({ overrideAuth: { channelBinding: 'require' } });
      const b = u.handle({ type: 'server-data', bytes: request });
      assert.match(sent(b, 'send-client').toString('latin1'), /which cannot do channel binding \(no password was sent\)/);
    }

    const t = connected({ overrideAuth: { channelBinding: 'require' } });
    const b = t.handle({ type: 'server-data', bytes: Buffer.concat([AUTH_OK, READY]) });
    assert.match(sent(b, 'send-client').toString('latin1'), /authenticated pgscope without channel binding/);
  });

  it('keeps what the client sends during authentication, raw and whole, for the server after AuthenticationOk', () => {
    // A StartupMessage with a Query in the same chunk: only the StartupMessage goes to the server at once.
    const s = new Session(7, settings(), new CancelRegistry());
    const startup = startupMessage({ user: 'alice', database: 'db' });
    const early = msg('Q', cstr('select early'));
    s.handle({ type: 'client-data', bytes: Buffer.concat([startup, early]) });
    const a0 = s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    assert.deepEqual(sent(a0, 'send-server'), startup);
    s.handle({ type: 'server-data', bytes: auth(3) });
    // The password, then a Query split across chunks in the middle of its header.
    const q = msg('Q', cstr('select 1'));
    const a1 = s.handle({ type: 'client-data', bytes: Buffer.concat([passwordMessage(PASSWORD), q.subarray(0, 3)]) });
    assert.deepEqual(sent(a1, 'send-server'), passwordMessage(PASSWORD), 'only the password goes to the server');
    assert.equal(sent(s.handle({ type: 'client-data', bytes: q.subarray(3) }), 'send-server').length, 0, 'held');
    const a2 = s.handle({ type: 'server-data', bytes: Buffer.concat([AUTH_OK, READY]) });
    assert.deepEqual(sent(a2, 'send-server'), Buffer.concat([early, q]), 'held bytes reach the server whole and in order');
    assert.deepEqual(sent(a2, 'send-client'), Buffer.concat([AUTH_OK, READY]));
  });

  it('bounds what it holds during authentication', () => {
    const s = connected();
    s.handle({ type: 'server-data', bytes: auth(3) });
    s.handle({ type: 'client-data', bytes: passwordMessage(PASSWORD) });
    const big = Buffer.alloc(600 * 1024, 0x51);
    s.handle({ type: 'client-data', bytes: big });
    const a = s.handle({ type: 'client-data', bytes: big });
    assert.match(statuses(a), /more than 1048576 bytes before authentication finished/);
    assert.ok(a.some((x) => x.type === 'close'));
  });

  it('refuses AuthenticationOk before SCRAM finished, and AuthenticationOk before the password was answered', () => {
    const s = connected();
    s.handle({ type: 'server-data', bytes: auth(10, cstr('SCRAM-SHA-256'), Buffer.from([0])) });
    s.handle({ type: 'client-data', bytes: passwordMessage(PASSWORD) });
    const a = s.handle({ type: 'server-data', bytes: Buffer.concat([AUTH_OK, READY]) });
    assert.match(sent(a, 'send-client').toString('latin1'), /AuthenticationOk before finishing SCRAM-SHA-256 \(it did not prove it knows the password\)/);
    assert.doesNotMatch(sent(a, 'send-client').toString('latin1'), /^R/);

    const t = connected();
    t.handle({ type: 'server-data', bytes: auth(3) });
    const b = t.handle({ type: 'server-data', bytes: Buffer.concat([AUTH_OK, READY]) });
    assert.match(sent(b, 'send-client').toString('latin1'), /AuthenticationOk before pgscope had answered its password request/);
  });

  it('refuses an absurd SCRAM iteration count instead of stalling every connection', () => {
    const s = connected();
    s.handle({ type: 'server-data', bytes: auth(10, cstr('SCRAM-SHA-256'), Buffer.from([0])) });
    const a = s.handle({ type: 'client-data', bytes: passwordMessage(PASSWORD) });
    const nonce = /r=([^,]+)/.exec(sent(a, 'send-server').toString('latin1'))![1]!;
    // Computing it would take hours: the test would time out instead of failing here.
    const b = s.handle({ type: 'server-data', bytes: auth(11, Buffer.from(`r=${nonce}xyz,s=c2FsdA==,i=2147483647`)) });
    assert.match(sent(b, 'send-client').toString('latin1'), /asks for 2147483647 SCRAM iterations; pgscope computes at most 1000000/);
  });

  it('without --override-auth, warns when a plaintext client is offered SCRAM-SHA-256-PLUS (libpq refuses it)', () => {
    const s = connected({ overrideAuth: null, serverTls: { attempt: true, requireEncryption: false, mode: 'prefer' } });
    const a = s.handle({ type: 'server-data', bytes: auth(10, cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), Buffer.from([0])) });
    assert.match(statuses(a), /^warn: the server offers SCRAM-SHA-256-PLUS \(pgscope reaches it over TLS\) to a client on a plaintext leg/m);
    assert.deepEqual(sent(a, 'send-client'), auth(10, cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), Buffer.from([0])), 'forwarded unchanged');
  });

  it('with every output off (essentialOnly), still authenticates, gives its verdict, and forwards everything unchanged', () => {
    const s = connected({ essentialOnly: true });
    s.handle({ type: 'server-data', bytes: auth(3) });
    s.handle({ type: 'client-data', bytes: passwordMessage(PASSWORD) });
    const rows = Buffer.concat([msg('S', cstr('TimeZone'), cstr('UTC')), msg('K', int32(99), int32(5)), READY]);
    const a = s.handle({ type: 'server-data', bytes: Buffer.concat([AUTH_OK, rows]) });
    assert.deepEqual(sent(a, 'send-client'), Buffer.concat([AUTH_OK, rows]));
    assert.equal(verdicts(a).length, 1);
    const q = msg('Q', cstr('select 1'));
    const b = s.handle({ type: 'client-data', bytes: q });
    assert.deepEqual(sent(b, 'send-server'), q);
    assert.ok(!b.some((x) => x.type === 'log'), 'nothing logged for traffic nobody shows');
  });

  it('takes a hang-up at the password prompt as a normal event', () => {
    const s = connected();
    s.handle({ type: 'server-data', bytes: auth(10, cstr('SCRAM-SHA-256'), Buffer.from([0])) });
    const a = s.handle({ type: 'client-closed' });
    assert.match(statuses(a), /^info: the client hung up at the password prompt/m);
    assert.doesNotMatch(statuses(a), /^(warn|error):/m);
  });
});
