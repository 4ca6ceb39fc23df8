/**
 * The session (sans-I/O) for issue 11, items 1, 7 and 9:
 * - a forwarded CancelRequest keeps the client's side open until the server closes its side
 *   (libpq's guarantee), with a timer after which pgscope closes anyway and says so;
 * - every timer is an action (set-timer / clear-timer) and an input (timer), the setup
 *   timeout included;
 * - the byte counts of the closed connection event are what each peer sent;
 * - why a client gave up: its certificate rejection, the server's refusal of its channel
 *   binding; status lines that say each thing once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelRegistry } from '../../../src/session/cancel-registry.js';
import { CANCEL_WAIT_MS, SETUP_TIMEOUT_MS, Session, type SessionAction, type SessionInput, type SessionSettings } from '../../../src/session/session.js';
import { cstr, int32, msg, startupMessage, startupPacket } from '../../helpers/wire.js';

const PLAIN_SERVER = { attempt: false, requireEncryption: false, mode: 'disable' };
const settings = (over: Partial<SessionSettings> = {}): SessionSettings => ({
  serverHost: 'db',
  serverDeleteSuffix: '.local.neon.build',
  serverConnectPort: 5432,
  serverSslnegotiation: 'mimic',
  clientDenySsl: false,
  serverTls: PLAIN_SERVER,
  ...over,
});

const kinds = (acts: SessionAction[]): string[] => acts.filter((a) => a.type !== 'log').map((a) => a.type);
const sent = (acts: SessionAction[], type: 'send-client' | 'send-server'): Buffer => Buffer.concat(acts.flatMap((a) => (a.type === type ? [a.bytes] : [])));
const statuses = (acts: SessionAction[]): { level: string; text: string }[] => acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'status' ? [{ level: a.event.level, text: a.event.text }] : []));
const statusText = (acts: SessionAction[]): string => statuses(acts).map((s) => s.text).join('\n');
const timers = (acts: SessionAction[]): unknown[] => acts.filter((a) => a.type === 'set-timer' || a.type === 'clear-timer');

const SSL_REQUEST = startupPacket(int32(80877103));
const STARTUP = startupMessage({ user: 'alice', database: 'db' });
const CANCEL = startupPacket(int32(80877102), int32(4242), Buffer.from([1, 2, 3, 4]));
const CONNECTED: SessionInput = { type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 };
const TLS_INFO = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: null, alpn: null };

/** Feed inputs in order; all actions, concatenated. */
function run(s: Session, inputs: SessionInput[]): SessionAction[] {
  return inputs.flatMap((i) => s.handle(i));
}

describe('a forwarded CancelRequest waits for the server to close the connection', () => {
  for (const serverLeg of ['plaintext', 'TLS'] as const) {
    it(`${serverLeg} server leg: forwarded, the client's side left open with a ${CANCEL_WAIT_MS / 1000} s timer, closed when the server closes`, () => {
      const s = new Session(1, settings(serverLeg === 'TLS' ? { serverTls: { attempt: true, requireEncryption: false, mode: 'prefer' } } : {}), new CancelRegistry());
      const a = run(s, [{ type: 'client-data', bytes: CANCEL }, CONNECTED, ...(serverLeg === 'TLS' ? ([{ type: 'server-data', bytes: Buffer.from('S') }, { type: 'server-tls-ready', info: TLS_INFO, certificate: null }] as SessionInput[]) : [])]);
      assert.deepEqual(sent(a, 'send-server').subarray(-CANCEL.length), CANCEL, 'the CancelRequest went to the server as it came');
      assert.ok(!a.some((x) => x.type === 'close'), `not closed yet: ${kinds(a).join(', ')}`);
      assert.equal(sent(a, 'send-client').length, 0, 'nothing is said to the client (PostgreSQL never answers a CancelRequest)');
      assert.deepEqual(timers(a), [
        { type: 'clear-timer', name: 'setup' },
        { type: 'set-timer', name: 'cancel', ms: CANCEL_WAIT_MS },
      ]);
      assert.match(statusText(a), /CancelRequest forwarded: waiting for the server to close the cancel connection/);
      assert.equal(s.isClosed, false);

      // Meanwhile: more from the client is ignored, anything from the server is not forwarded.
      const more = s.handle({ type: 'client-data', bytes: Buffer.from('xy') });
      assert.match(statusText(more), /2 byte\(s\) after the CancelRequest ignored/);
      assert.deepEqual(kinds(more), []);
      const odd = s.handle({ type: 'server-data', bytes: Buffer.from('zzz') });
      assert.match(statusText(odd), /the server sent 3 byte\(s\) on the cancel connection \(PostgreSQL sends none\): not forwarded/);
      assert.deepEqual(kinds(odd), []);
      // A setup timer that fires late changes nothing.
      assert.deepEqual(s.handle({ type: 'timer', name: 'setup' }), []);

      const b = s.handle({ type: 'server-closed' });
      assert.deepEqual(kinds(b), ['close']);
      assert.match(statusText(b), /the server closed the cancel connection: closing the client's side/);
      assert.equal(s.closeReason, 'CancelRequest forwarded; the server closed the connection');
    });
  }

  it(`a server that does not close within ${CANCEL_WAIT_MS / 1000} s: closed anyway, and said so`, () => {
    const s = new Session(1, settings(), new CancelRegistry());
    run(s, [{ type: 'client-data', bytes: CANCEL }, CONNECTED]);
    const a = s.handle({ type: 'timer', name: 'cancel' });
    assert.deepEqual(kinds(a), ['close']);
    assert.deepEqual(statuses(a)[0], { level: 'warn', text: `the server did not close the cancel connection within ${CANCEL_WAIT_MS / 1000} s: closing it anyway (the client may now send its next statement before the cancel has reached the server's backend)` });
    assert.deepEqual(s.handle({ type: 'server-closed' }), [], 'nothing after closing');
  });

  it('a client that hangs up first: closed (the request is already on its way)', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    run(s, [{ type: 'client-data', bytes: CANCEL }, CONNECTED]);
    const a = s.handle({ type: 'client-closed' });
    assert.deepEqual(kinds(a), ['close']);
    assert.match(statusText(a), /the client closed the cancel connection before the server did/);
  });

  it('a cancel the timer never starts for: a server that cannot be reached, or closes during setup', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: CANCEL });
    const a = s.handle({ type: 'server-connect-failed', error: 'ECONNREFUSED' });
    assert.deepEqual(kinds(a), ['close']);
  });
});

describe('timers are actions and inputs', () => {
  it('client-connected: the opened event, "connected from", and the setup timer; forwarding clears it', () => {
    let t = 1_800_000_000_000;
    const s = new Session(3, settings(), new CancelRegistry(), () => t++);
    const a = s.handle({ type: 'client-connected', address: '::1', port: 5555, localAddress: '::1', localPort: 6432 });
    const opened = a.find((x) => x.type === 'log' && x.event.kind === 'connection');
    assert.ok(opened && opened.type === 'log' && opened.event.kind === 'connection');
    assert.deepEqual({ ...opened.event, time: 0 }, { kind: 'connection', conn: 3, time: 0, phase: 'opened', client: { address: '::1', port: 5555 }, local: { address: '::1', port: 6432 } });
    assert.equal(statusText(a), `connected from [::1]:5555 at t0 = ${new Date(1_800_000_000_000).toISOString()}`);
    assert.deepEqual(timers(a), [{ type: 'set-timer', name: 'setup', ms: SETUP_TIMEOUT_MS }]);
    const b = run(s, [{ type: 'client-data', bytes: STARTUP }, CONNECTED]);
    assert.deepEqual(timers(b), [{ type: 'clear-timer', name: 'setup' }]);
    const query = msg('Q', cstr('select 1'));
    assert.deepEqual(s.handle({ type: 'client-data', bytes: query })[0], { type: 'send-server', bytes: query, forwarded: true }, 'forwarding');
    assert.deepEqual(s.handle({ type: 'timer', name: 'setup' }), []);
  });

  it('the setup timer before forwarding: FATAL 08006 to the client, closed', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: STARTUP });
    const a = s.handle({ type: 'timer', name: 'setup' });
    assert.match(sent(a, 'send-client').toString('latin1'), /C08006\0M[^\0]*did not finish its startup within 60 s/);
    assert.ok(a.some((x) => x.type === 'close'));
  });
});

describe('bytesFromClient / bytesFromServer: what each peer sent', () => {
  it('SSLRequest and TLS on both legs: the client\'s SSLRequest counts, pgscope\'s answer to it does not; the server\'s answer to pgscope\'s SSLRequest does', () => {
    const s = new Session(1, settings({ serverTls: { attempt: true, requireEncryption: false, mode: 'prefer' } }), new CancelRegistry());
    const fromServer = Buffer.concat([msg('R', int32(0)), msg('Z', 'I')]);
    const query = msg('Q', cstr('SELECT 1'));
    const a = run(s, [
      { type: 'client-data', bytes: SSL_REQUEST },
      { type: 'client-tls-ready', info: TLS_INFO },
      { type: 'client-data', bytes: STARTUP },
      CONNECTED,
      { type: 'server-data', bytes: Buffer.from('S') },
      { type: 'server-tls-ready', info: TLS_INFO, certificate: null },
      { type: 'server-data', bytes: fromServer },
      { type: 'client-data', bytes: query },
    ]);
    assert.equal(sent(a, 'send-client').toString('latin1', 0, 1), 'S', 'pgscope answered the client itself');
    assert.equal(s.bytesFromClient, SSL_REQUEST.length + STARTUP.length + query.length);
    assert.equal(s.bytesFromServer, 1 + fromServer.length);
  });

  it('plaintext server leg: nothing pgscope wrote itself counts as the server\'s (its S to the client, its ErrorResponse)', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    run(s, [{ type: 'client-data', bytes: SSL_REQUEST }, { type: 'client-tls-ready', info: TLS_INFO }, { type: 'client-data', bytes: STARTUP }]);
    const a = s.handle({ type: 'server-connect-failed', error: 'ECONNREFUSED' });
    assert.ok(sent(a, 'send-client').length > 0, 'pgscope told the client');
    assert.equal(s.bytesFromServer, 0);
    assert.equal(s.bytesFromClient, SSL_REQUEST.length + STARTUP.length);
  });

  it('a direct-TLS ClientHello is TLS, not protocol bytes; what the client sends after its close still counts', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x01]) });
    s.handle({ type: 'client-tls-ready', info: { ...TLS_INFO, alpn: 'postgresql' } });
    assert.equal(s.bytesFromClient, 0);
    s.handle({ type: 'client-data', bytes: STARTUP });
    assert.equal(s.bytesFromClient, STARTUP.length);
    s.handle({ type: 'server-connect-failed', error: 'x' });
    s.handle({ type: 'client-data', bytes: Buffer.from('late') });
    assert.equal(s.bytesFromClient, STARTUP.length + 4);
  });

  it('a CancelRequest: the client sent 16 bytes, the server nothing', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    run(s, [{ type: 'client-data', bytes: CANCEL }, CONNECTED, { type: 'server-closed' }]);
    assert.deepEqual([s.bytesFromClient, s.bytesFromServer], [16, 0]);
  });
});

describe('why a client gave up', () => {
  const tlsFailed = (over: Partial<SessionSettings>, error: string | null, certificateSent = true): SessionAction[] => {
    const s = new Session(1, settings(over), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: SSL_REQUEST });
    const a = s.handle({ type: 'client-tls-failed', error, direct: false, certificateSent });
    assert.ok(a.some((x) => x.type === 'close'));
    return a;
  };
  const ALERT = 'error:0A000418:SSL routines::tlsv1 alert unknown ca (SSL alert number 48) (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA)';

  it('a TLS alert about the certificate (libpq verify-full): what happened and the ways through, for each certificate pgscope may show', () => {
    const self = statuses(tlsFailed({}, ALERT));
    assert.deepEqual(self[0], { level: 'error', text: `TLS handshake with the client failed: ${ALERT}` });
    assert.equal(self[1]!.level, 'warn');
    assert.match(self[1]!.text, /^the client rejected pgscope's certificate \(tlsv1 alert unknown ca\), self-signed, which a verifying client cannot trust\. Ways through: run pgscope with --client-ca and have the client trust that CA \(libpq: sslmode=verify-full sslrootcert=\$\(pgscope ca --print-path\)\), or let the client accept it for this debugging session \(libpq: sslmode=require instead of verify-ca\/verify-full; node-postgres: ssl: \{ rejectUnauthorized: false \}\)$/);
    assert.match(statusText(tlsFailed({ clientCertificate: 'local-ca' }, ALERT)), /signed by pgscope's local CA \(--client-ca\), which the client does not trust \(or the certificate does not name the host[^)]*\): give it that CA as its root \(libpq: sslrootcert=\$\(pgscope ca --print-path\)/);
    assert.match(statusText(tlsFailed({ clientCertificate: 'user-certificate' }, ALERT)), /given with --client-ssl-cert, which the client does not trust or which does not name the host/);
    for (const alert of ['sslv3 alert bad certificate', 'sslv3 alert certificate unknown', 'SSL alert number 42']) {
      assert.match(statusText(tlsFailed({}, `error:0A000412:SSL routines::${alert}`)), /the client rejected pgscope's certificate/, alert);
    }
  });

  it('other TLS failures: said as they are, without a certificate hint', () => {
    const t = statusText(tlsFailed({}, 'error:0A00010B:SSL routines::wrong version number'));
    assert.match(t, /TLS handshake with the client failed: .*wrong version number/);
    assert.doesNotMatch(t, /certificate/);
  });

  it('a close during the handshake after pgscope sent its certificate (node-postgres ssl: true): most likely a rejection; before it: just a hang-up', () => {
    assert.match(statusText(tlsFailed({}, null, true)), /^the client hung up during the TLS handshake, after pgscope had sent its certificate, without a TLS alert: it most likely rejected pgscope's certificate, self-signed/);
    const early = statuses(tlsFailed({}, null, false));
    assert.deepEqual(early, [{ level: 'info', text: 'the client hung up before the TLS handshake got under way' }]);
  });

  it('a close right after the handshake without a byte (libpq\'s host name check): most likely a rejection; after a byte: an ordinary hang-up', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    run(s, [{ type: 'client-data', bytes: SSL_REQUEST }, { type: 'client-tls-ready', info: TLS_INFO }]);
    const a = s.handle({ type: 'client-closed' });
    assert.match(statusText(a), /the client hung up right after the TLS handshake without sending a byte: it most likely rejected pgscope's certificate, self-signed/);
    assert.ok(a.some((x) => x.type === 'close'));

    const t = new Session(1, settings(), new CancelRegistry());
    run(t, [{ type: 'client-data', bytes: SSL_REQUEST }, { type: 'client-tls-ready', info: TLS_INFO }, { type: 'client-data', bytes: STARTUP.subarray(0, 3) }]);
    const b = t.handle({ type: 'client-closed' });
    assert.doesNotMatch(statusText(b), /certificate/);
    assert.match(statusText(b), /client hung up/);
  });

  it('the server refuses the client\'s SCRAM channel binding (bound to pgscope\'s certificate): what happened and the ways through, once', () => {
    const s = new Session(1, settings({ serverTls: { attempt: true, requireEncryption: false, mode: 'prefer' } }), new CancelRegistry());
    run(s, [
      { type: 'client-data', bytes: SSL_REQUEST },
      { type: 'client-tls-ready', info: TLS_INFO },
      { type: 'client-data', bytes: STARTUP },
      CONNECTED,
      { type: 'server-data', bytes: Buffer.from('S') },
      { type: 'server-tls-ready', info: TLS_INFO, certificate: null },
      { type: 'server-data', bytes: msg('R', int32(10), cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), Buffer.from([0])) },
    ]);
    const first = 'p=tls-server-end-point,,n=,r=abcdefgh';
    s.handle({ type: 'client-data', bytes: msg('p', cstr('SCRAM-SHA-256-PLUS'), int32(first.length), first) });
    const refusal = msg('E', cstr('SFATAL'), cstr('VFATAL'), cstr('C08P01'), cstr('MSCRAM channel binding check failed'), Buffer.from([0]));
    const a = s.handle({ type: 'server-data', bytes: refusal });
    assert.deepEqual(sent(a, 'send-client'), refusal, 'the server\'s error reaches the client unchanged');
    const warn = statuses(a).filter((x) => x.level === 'warn');
    assert.equal(warn.length, 1);
    assert.match(warn[0]!.text, /^the server refused the client's SCRAM channel binding \(SCRAM channel binding check failed\): the client bound its proof to pgscope's certificate, not the server's .*Ways through: channel_binding=disable on the client; --override-auth \(pgscope authenticates to the server itself\); or --client-ssl-cert\/--client-ssl-key with the server's own certificate and key$/);

    // A client that did not bind (SCRAM-SHA-256, flag n or y) gets no such hint for another error.
    const t = new Session(2, settings(), new CancelRegistry());
    run(t, [{ type: 'client-data', bytes: STARTUP }, CONNECTED, { type: 'server-data', bytes: msg('R', int32(10), cstr('SCRAM-SHA-256'), Buffer.from([0])) }]);
    const plain = 'n,,n=,r=abcdefgh';
    t.handle({ type: 'client-data', bytes: msg('p', cstr('SCRAM-SHA-256'), int32(plain.length), plain) });
    const b = t.handle({ type: 'server-data', bytes: msg('E', cstr('SFATAL'), cstr('C28P01'), cstr('Mpassword authentication failed for user "alice"'), Buffer.from([0])) });
    assert.doesNotMatch(statusText(b), /channel binding/);
  });
});

describe('status lines say each thing once', () => {
  it('"connected to server": "at ADDRESS" only when the address differs from the target as named', () => {
    const byAddress = new Session(1, settings({ serverHost: '127.0.0.1' }), new CancelRegistry());
    byAddress.handle({ type: 'client-data', bytes: STARTUP });
    assert.match(statusText(byAddress.handle(CONNECTED)), /^connected to server 127\.0\.0\.1:5432$/m);

    const byName = new Session(2, settings({ serverHost: 'localhost' }), new CancelRegistry());
    byName.handle({ type: 'client-data', bytes: STARTUP });
    assert.match(statusText(byName.handle(CONNECTED)), /^connected to server localhost:5432 at 127\.0\.0\.1:5432$/m);

    const v6 = new Session(3, settings({ serverHost: '::1' }), new CancelRegistry());
    v6.handle({ type: 'client-data', bytes: STARTUP });
    assert.match(statusText(v6.handle({ ...CONNECTED, address: '::1' } as SessionInput)), /^connected to server \[::1\]:5432$/m);
  });
});
