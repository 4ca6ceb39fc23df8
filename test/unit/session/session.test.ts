/**
 * The session state machine, without sockets: inputs in, actions out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelRegistry } from '../../../src/session/cancel-registry.js';
import { serverHostFor } from '../../../src/session/routing.js';
import { Session, type SessionAction, type SessionSettings } from '../../../src/session/session.js';
import { cstr, int32, msg, startupMessage, startupPacket } from '../../helpers/wire.js';

const settings = (over: Partial<SessionSettings> = {}): SessionSettings => ({
  serverHost: null,
  serverDeleteSuffix: '.local.neon.build',
  serverConnectPort: 5432,
  serverSslnegotiation: 'mimic',
  clientDenySsl: false,
  serverTls: { attempt: true, requireEncryption: false, mode: 'prefer' },
  ...over,
});

const kinds = (acts: SessionAction[]): string[] => acts.filter((a) => a.type !== 'log').map((a) => a.type);
const sent = (acts: SessionAction[], type: 'send-client' | 'send-server'): Buffer =>
  Buffer.concat(acts.flatMap((a) => (a.type === type ? [a.bytes] : [])));
const logText = (acts: SessionAction[]): string =>
  acts
    .flatMap((a) => (a.type === 'log' && a.event.kind === 'status' ? [a.event.text] : a.type === 'log' && a.event.kind === 'codec' && a.event.event.kind === 'message' ? [`${a.event.label} ${a.event.event.message.name}`] : []))
    .join('\n');

const SSL_REQUEST = startupPacket(int32(80877103));
const GSSENC_REQUEST = startupPacket(int32(80877104));
const STARTUP = startupMessage({ user: 'alice', database: 'db' });

describe('Session', () => {
  it('answers SSLRequest with S and starts TLS, then routes by SNI minus the suffix', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    const a1 = s.handle({ type: 'client-data', bytes: SSL_REQUEST });
    assert.deepEqual(kinds(a1), ['send-client', 'start-client-tls']);
    assert.equal(sent(a1, 'send-client').toString(), 'S');
    assert.match(logText(a1), /client -> script SSLRequest/);
    assert.match(logText(a1), /script -> client SSLResponse/);
    s.handle({ type: 'client-tls-ready', info: { protocol: 'TLSv1.3', cipher: 'X', sni: 'db1.local.neon.build', alpn: 'postgresql' } });
    const a2 = s.handle({ type: 'client-data', bytes: STARTUP });
    const connect = a2.find((a) => a.type === 'connect-server');
    assert.deepEqual(connect, { type: 'connect-server', host: 'db1', port: 5432 });
    // prefer + the client used SSLRequest → pgscope sends its own SSLRequest to the server.
    const a3 = s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    assert.deepEqual(sent(a3, 'send-server'), SSL_REQUEST);
    const a4 = s.handle({ type: 'server-data', bytes: Buffer.from('S') });
    assert.deepEqual(a4.find((a) => a.type === 'start-server-tls'), { type: 'start-server-tls', host: 'db1', alpn: false });
    const a5 = s.handle({ type: 'server-tls-ready', info: { protocol: 'TLSv1.3', cipher: 'X', sni: null, alpn: null }, certificate: null });
    assert.deepEqual(sent(a5, 'send-server'), STARTUP, 'the StartupMessage goes on unchanged');
  });

  it('closes without forwarding when bytes arrive after SSLRequest before the handshake', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    const a = s.handle({ type: 'client-data', bytes: Buffer.concat([SSL_REQUEST, STARTUP]) });
    assert.deepEqual(kinds(a), ['close']);
    assert.match(logText(a), /unencrypted byte\(s\) after SSLRequest/);
    assert.equal(sent(a, 'send-server').length, 0);
  });

  it('answers N to SSLRequest with --client-deny-ssl and keeps reading plaintext', () => {
    const s = new Session(1, settings({ clientDenySsl: true }), new CancelRegistry());
    const a = s.handle({ type: 'client-data', bytes: Buffer.concat([SSL_REQUEST, STARTUP]) });
    assert.equal(sent(a, 'send-client').toString(), 'N');
    assert.ok(a.some((x) => x.type === 'connect-server'));
  });

  it('answers N to GSSENCRequest and goes on with the startup that follows', () => {
    const s = new Session(1, settings({ serverHost: 'db' }), new CancelRegistry());
    const a = s.handle({ type: 'client-data', bytes: GSSENC_REQUEST });
    assert.equal(sent(a, 'send-client').toString(), 'N');
    assert.match(logText(a), /client -> script GSSENCRequest/);
    const b = s.handle({ type: 'client-data', bytes: STARTUP });
    assert.deepEqual(b.find((x) => x.type === 'connect-server'), { type: 'connect-server', host: 'db', port: 5432 });
  });

  it('starts TLS directly for a direct-TLS client and mimics it toward the server', () => {
    const s = new Session(1, settings({ serverHost: 'db' }), new CancelRegistry());
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x01]);
    const a = s.handle({ type: 'client-data', bytes: hello });
    assert.deepEqual(a.find((x) => x.type === 'start-client-tls'), { type: 'start-client-tls', initial: hello, direct: true });
    s.handle({ type: 'client-tls-ready', info: { protocol: 'TLSv1.3', cipher: 'X', sni: null, alpn: 'postgresql' } });
    s.handle({ type: 'client-data', bytes: STARTUP });
    const b = s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    assert.deepEqual(b.find((x) => x.type === 'start-server-tls'), { type: 'start-server-tls', host: 'db', alpn: true });
  });

  it('refuses direct TLS without ALPN postgresql', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, 0x01]) });
    const a = s.handle({ type: 'client-tls-ready', info: { protocol: 'TLSv1.3', cipher: 'X', sni: null, alpn: null } });
    assert.ok(a.some((x) => x.type === 'close'));
    const err = sent(a, 'send-client');
    assert.equal(err[0], 0x45, 'an ErrorResponse');
    assert.match(err.toString('latin1'), /ALPN/);
  });

  it('fails with an ErrorResponse (FATAL 08001) when the server says N under require', () => {
    const s = new Session(1, settings({ serverHost: 'db', serverTls: { attempt: true, requireEncryption: true, mode: 'require' } }), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: STARTUP });
    s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    const a = s.handle({ type: 'server-data', bytes: Buffer.from('N') });
    const err = sent(a, 'send-client').toString('latin1');
    assert.match(err, /SFATAL\0VFATAL\0C08001\0M[^\0]*does not support SSL/);
    assert.ok(a.some((x) => x.type === 'close'));
  });

  it('continues unencrypted when the server says N under prefer', () => {
    const s = new Session(1, settings({ serverHost: 'db' }), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: STARTUP });
    s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    const a = s.handle({ type: 'server-data', bytes: Buffer.from('N') });
    assert.deepEqual(sent(a, 'send-server'), STARTUP);
  });

  it('tells the client with an ErrorResponse when the server is unreachable', () => {
    const s = new Session(1, settings({ serverHost: 'db' }), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: STARTUP });
    const a = s.handle({ type: 'server-connect-failed', error: 'connect ECONNREFUSED 127.0.0.1:5432' });
    assert.match(sent(a, 'send-client').toString('latin1'), /C08001\0M[^\0]*could not connect to server db:5432: connect ECONNREFUSED/);
  });

  it('forwards bytes unchanged both ways and remembers BackendKeyData for cancel routing', () => {
    const cancels = new CancelRegistry();
    const s = new Session(7, settings({ serverHost: 'db', serverTls: { attempt: false, requireEncryption: false, mode: 'disable' } }), cancels);
    s.handle({ type: 'client-data', bytes: STARTUP });
    s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    const key = msg('K', int32(4242), Buffer.from([1, 2, 3, 4]));
    const fromServer = Buffer.concat([msg('R', int32(0)), key, msg('Z', 'I')]);
    // Split mid-message: forwarding must not wait for message boundaries.
    const a = s.handle({ type: 'server-data', bytes: fromServer.subarray(0, 11) });
    const b = s.handle({ type: 'server-data', bytes: fromServer.subarray(11) });
    assert.deepEqual(Buffer.concat([sent(a, 'send-client'), sent(b, 'send-client')]), fromServer);
    assert.deepEqual(cancels.lookup(4242, Buffer.from([1, 2, 3, 4])), { host: 'db', port: 5432, conn: 7 });

    // A plaintext CancelRequest on another connection goes where the key came from.
    const c = new Session(8, settings({ serverHost: null }), cancels);
    const cancel = startupPacket(int32(80877102), int32(4242), Buffer.from([1, 2, 3, 4]));
    const r = c.handle({ type: 'client-data', bytes: cancel });
    assert.deepEqual(r.find((x) => x.type === 'connect-server'), { type: 'connect-server', host: 'db', port: 5432 });
    assert.match(logText(r), /the key of connection #7/);
  });

  it('in the forwarding phase, writes each chunk first, then decodes, logs and watches it', () => {
    const cancels = new CancelRegistry();
    const s = new Session(9, settings({ serverHost: 'db', serverTls: { attempt: false, requireEncryption: false, mode: 'disable' } }), cancels);
    s.handle({ type: 'client-data', bytes: STARTUP });
    s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40001 });
    const key = msg('K', int32(77), Buffer.from([9, 9, 9, 9]));
    const chunk = Buffer.concat([msg('R', int32(0)), key, msg('Z', 'I')]);
    const r = s.handle({ type: 'server-data', bytes: chunk });
    assert.deepEqual(r[0], { type: 'send-client', bytes: chunk, forwarded: true }, 'the chunk goes out first, as it came');
    assert.equal(sent(r, 'send-client').length, chunk.length, 'once');
    assert.match(logText(r), /server -> client BackendKeyData/, 'then decoded and logged');
    assert.deepEqual(cancels.lookup(77, Buffer.from([9, 9, 9, 9])), { host: 'db', port: 5432, conn: 9 }, 'and watched');
    const query = msg('Q', cstr('select 1'));
    const q = s.handle({ type: 'client-data', bytes: query });
    assert.deepEqual(q[0], { type: 'send-server', bytes: query, forwarded: true });
    assert.match(logText(q), /client -> server Query/);
    s.handle({ type: 'client-closed' });
    assert.deepEqual(s.handle({ type: 'client-data', bytes: query }), [], 'nothing once closed');
  });

  it('sends the client an ErrorResponse when the server vanishes at a message boundary', () => {
    const s = new Session(1, settings({ serverHost: 'db', serverTls: { attempt: false, requireEncryption: false, mode: 'disable' } }), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: STARTUP });
    s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    s.handle({ type: 'server-data', bytes: Buffer.concat([msg('R', int32(0)), msg('Z', 'I')]) });
    s.handle({ type: 'client-data', bytes: msg('Q', cstr('SELECT pg_sleep(10)')) });
    const a = s.handle({ type: 'server-closed' });
    assert.match(sent(a, 'send-client').toString('latin1'), /C08006\0M[^\0]*closed the connection unexpectedly/);
  });

  it('gives up on a client that does not finish its startup in time, but not once forwarding', () => {
    const slow = new Session(1, settings(), new CancelRegistry());
    slow.handle({ type: 'client-data', bytes: STARTUP.subarray(0, 5) });
    const a = slow.handle({ type: 'timer', name: 'setup' });
    assert.ok(a.some((x) => x.type === 'close'));
    assert.match(logText(a), /did not finish its startup within 60 s/);
    assert.match(logText(a), /ended in the middle of a startup packet from the client at offset 0 \(5 of its 32 bytes received\); those bytes were not forwarded/);

    const busy = new Session(2, settings({ serverHost: 'db', serverTls: { attempt: false, requireEncryption: false, mode: 'disable' } }), new CancelRegistry());
    busy.handle({ type: 'client-data', bytes: STARTUP });
    busy.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    assert.deepEqual(busy.handle({ type: 'timer', name: 'setup' }), []);
  });

  it('says so when a connection ends inside a message', () => {
    const s = new Session(1, settings({ serverHost: 'db', serverTls: { attempt: false, requireEncryption: false, mode: 'disable' } }), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: STARTUP });
    s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    const big = msg('D', int32(1), Buffer.alloc(100));
    s.handle({ type: 'server-data', bytes: big.subarray(0, 20) });
    const a = s.handle({ type: 'client-closed' });
    assert.match(logText(a), /ended in the middle of a "D" message from the server at offset 0 \(20 of its 109 bytes received\); those bytes were forwarded as they came/);
  });

  it('forwards a StartupMessage that arrived split over several chunks whole', () => {
    for (const cuts of [[4], [1, 2, 3], Array.from({ length: STARTUP.length - 1 }, (_, i) => i + 1)]) {
      const s = new Session(1, settings({ serverHost: 'db', serverTls: { attempt: false, requireEncryption: false, mode: 'disable' } }), new CancelRegistry());
      let prev = 0;
      for (const c of [...cuts, STARTUP.length]) {
        s.handle({ type: 'client-data', bytes: STARTUP.subarray(prev, c) });
        prev = c;
      }
      const a = s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
      assert.deepEqual(sent(a, 'send-server'), STARTUP, `cut at ${cuts.join(',')}`);
    }
  });

  it('forwards a CancelRequest split over two chunks whole, and ignores what follows it', () => {
    const cancel = startupPacket(int32(80877102), int32(4242), Buffer.from([1, 2, 3, 4]));
    const s = new Session(1, settings({ serverHost: 'db', serverTls: { attempt: false, requireEncryption: false, mode: 'disable' } }), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: cancel.subarray(0, 4) });
    const b = s.handle({ type: 'client-data', bytes: Buffer.concat([cancel.subarray(4), Buffer.from('junk')]) });
    assert.match(logText(b), /4 byte\(s\) after the CancelRequest ignored/);
    const a = s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    assert.deepEqual(sent(a, 'send-server'), cancel);
  });

  it('refuses a second SSLRequest after TLS, as PostgreSQL does', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: SSL_REQUEST });
    s.handle({ type: 'client-tls-ready', info: { protocol: 'TLSv1.3', cipher: 'X', sni: null, alpn: null } });
    const a = s.handle({ type: 'client-data', bytes: SSL_REQUEST });
    assert.match(sent(a, 'send-client').toString('latin1'), /C08P01\0M[^\0]*SSLRequest/);
    assert.ok(a.some((x) => x.type === 'close'));
  });

  it('does not answer a failed CancelRequest (PostgreSQL never answers one)', () => {
    const s = new Session(1, settings({ serverHost: 'db' }), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: startupPacket(int32(80877102), int32(1), Buffer.from([1, 2, 3, 4])) });
    const a = s.handle({ type: 'server-connect-failed', error: 'ECONNREFUSED' });
    assert.equal(sent(a, 'send-client').length, 0);
    assert.ok(a.some((x) => x.type === 'close'));
  });

  it('fails rather than buffer without bound while the server leg is not ready', () => {
    const s = new Session(1, settings({ serverHost: 'db' }), new CancelRegistry());
    s.handle({ type: 'client-data', bytes: STARTUP });
    const a = s.handle({ type: 'client-data', bytes: Buffer.alloc(2 * 1024 * 1024) });
    assert.ok(a.some((x) => x.type === 'close'));
    assert.match(logText(a), /before the server was ready/);
  });

  it('never answers an invalid startup packet with anything but an error', () => {
    const s = new Session(1, settings(), new CancelRegistry());
    const a = s.handle({ type: 'client-data', bytes: Buffer.from([0, 0, 0, 2, 1, 2, 3, 4]) });
    assert.match(sent(a, 'send-client').toString('latin1'), /C08P01/);
    assert.ok(a.some((x) => x.type === 'close'));
  });
});

describe('serverHostFor', () => {
  it('follows Elephantshark: fixed host, else SNI minus the suffix, else localhost', () => {
    assert.equal(serverHostFor('fixed', 'x.local.neon.build', '.local.neon.build').host, 'fixed');
    assert.equal(serverHostFor(null, 'x.local.neon.build', '.local.neon.build').host, 'x');
    assert.equal(serverHostFor(null, 'x.example.com', '.local.neon.build').host, 'x.example.com');
    assert.equal(serverHostFor(null, 'x.B.CD', '.b.cd').host, 'x.B.CD', 'exact, case-sensitive');
    assert.equal(serverHostFor(null, null, '.b.cd').host, 'localhost');
  });
});
