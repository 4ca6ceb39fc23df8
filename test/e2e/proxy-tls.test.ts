/**
 * The live proxy's TLS behaviour, end to end: real psql / openssl clients, the real pgscope
 * process (bin/pgscope.js), real PostgreSQL 15 (Debian) and 18 (embedded) servers.
 *
 * Covers: a basic TLS session and its log; the server leg's sslmode (disable, prefer,
 * require, verify-ca, verify-full, sslrootcert=system); sslnegotiation (postgres, direct,
 * mimic with both client styles); the client leg (--client-deny-ssl, GSSENCRequest, a wrong
 * ALPN, bytes after SSLRequest); the certificates pgscope shows; key-log files; SCRAM
 * channel binding failing through the man in the middle.
 *
 * psql over TLS to a SCRAM server picks SCRAM-SHA-256-PLUS, which a MITM necessarily
 * breaks: every connection here uses channel_binding=disable except the test about that.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { libpq18Env, startPgServers, type PgServer } from '../helpers/pg-server.js';
import { fe, RawClient } from '../helpers/raw-client.js';
import { makeSelfSigned, probeTls, spki } from '../helpers/tls-certs.js';
import { assertInOrder, assertNone, connectionEnded, connHeads, connLines, psqlOk, psqlVia, Scopes, WAIT_MS } from '../helpers/tls-e2e.js';

const T = { timeout: 120_000 };
/** Client parameters for TLS to pgscope without channel binding (see the header). */
const TLS = { sslmode: 'require', channel_binding: 'disable' } as const;
/** Debian's libpq (psql 15): SSLRequest style, no sslnegotiation parameter. */
const DEBIAN_LIBPQ = { LD_LIBRARY_PATH: '' };

let tls15: PgServer; // PostgreSQL 15, ssl=on, SCRAM, listening on 127.0.0.1 and ::1
let tls18: PgServer; // PostgreSQL 18, ssl=on, SCRAM
let plain15: PgServer; // PostgreSQL 15, no SSL, MD5
let dir: string;
const scopes = new Scopes();

const backend = (s: PgServer): string => `127.0.0.1:${s.port}`;
const SSL_IN_USE = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-proxy-tls-'));
  [tls15, tls18, plain15] = (await startPgServers([
    { version: 15, ssl: true, settings: { listen_addresses: "'127.0.0.1,::1'" }, hba: ['host all all ::1/128 scram-sha-256'] },
    { version: 18, ssl: true },
    { version: 15, auth: 'md5' },
  ])) as [PgServer, PgServer, PgServer];
});

afterEach(() => scopes.stopAll());

after(async () => {
  await scopes.stopAll();
  await Promise.all([tls15?.stop(), tls18?.stop(), plain15?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('a TLS session through pgscope', () => {
  it('psql sslmode=require → pgscope → TLS server (PG 15): the log shows both handshakes, every message, the forwarded batches and the end', T, async () => {
    const p = await scopes.start([backend(tls15)]);
    assert.equal(await psqlOk(tls15, p.port, `${SSL_IN_USE}; SELECT 'through pgscope'`, { params: TLS }), 't\nthrough pgscope');
    const out = await connectionEnded(p, 1);
    const heads = connHeads(out, 1);
    assertInOrder(heads, [
      /^#1  connected from 127\.0\.0\.1:\d+ at t0 = \d{4}-\d\d-\d\dT/,
      /^#1  client -> script: "\\x00\\x00\\x00\\x08" = 8 bytes .*SSL request code/,
      /^#1  script -> client: "S" = /,
      /^#1  TLSv1\.[23]\/\S+ connection established with client$/,
      /^#1  client -> server: "\\x00\\x00\\x00.+" = \d+ bytes "\\x00\\x03\\x00\\x00" = protocol 3\.0/,
      new RegExp(`^#1  connecting to server 127\\.0\\.0\\.1:${tls15.port} \\(fixed by --server-host\\)$`),
      /^#1  script -> server: .*SSL request code/,
      /^#1  server -> script: "S" = /,
      /^#1  TLSv1\.[23]\/\S+ connection established with server$/,
      /^#1  \^\^ \d+ bytes forwarded at \+\d+\.\d\ds$/,
      /^#1  server -> client: "R" = AuthenticationSASL /,
      /^#1  client -> server: "p" = SASLInitialResponse /,
      /^#1  server -> client: "R" = AuthenticationOk /,
      /^#1  server -> client: "K" = BackendKeyData /,
      /^#1  server -> client: "Z" = ReadyForQuery .*"I" = idle/,
      /^#1  \^\^ \d+ bytes forwarded at \+\d+\.\d\ds$/,
      /^#1  client -> server: "Q" = Query .*pg_stat_ssl/,
      /^#1  server -> client: "D" = DataRow /,
      /^#1  client -> server: "X" = Terminate /,
      /^#1  client hung up$/,
      /^#1  connection end$/,
    ]);
    // The StartupMessage is annotated field by field on continuation lines.
    assert.ok(connLines(out, 1).some((l) => /^#1 {3,}"user\\x00" = user/.test(l)), 'StartupMessage parameters are annotated');
    // Each forwarded batch's byte count is the sum of what was logged: at least check the sizes are sane.
    const sizes = heads.map((l) => /\^\^ (\d+) bytes/.exec(l)?.[1]).filter((x): x is string => !!x).map(Number);
    assert.ok(sizes.length >= 6 && sizes.every((n) => n > 0), `forwarded batches: ${sizes.join(', ')}`);
  });
});

describe('server leg: --server-sslmode', () => {
  it('disable: no SSLRequest is sent to the server, the server leg is plaintext', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslmode', 'disable', backend(tls15)]);
    assert.equal(await psqlOk(tls15, p.port, SSL_IN_USE, { params: TLS }), 'f');
    const out = await connectionEnded(p, 1);
    assert.match(out, /server sslmode disable/);
    const heads = connHeads(out, 1);
    assertNone(heads, /script -> server:|server -> script:|connection established with server/);
    assertInOrder(heads, [/connection established with client/, /connected to server/, /client -> server: "p" = SASLInitialResponse/]);
  });

  it('prefer: TLS against a TLS server; against a server without SSL it continues unencrypted', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend(tls15)]);
    assert.equal(await psqlOk(tls15, p.port, SSL_IN_USE, { params: TLS }), 't');
    assert.match(connHeads(await connectionEnded(p, 1), 1).join('\n'), /connection established with server/);

    const q = await scopes.start(['--client-cert-sig', 'ecdsa', backend(plain15)]);
    assert.equal(await psqlOk(plain15, q.port, 'SELECT 42', { params: { sslmode: 'require' } }), '42');
    const heads = connHeads(await connectionEnded(q, 1), 1);
    assertInOrder(heads, [/script -> server: .*SSL request code/, /server -> script: "N" = /, /the server refused SSL: continuing unencrypted \(--server-sslmode prefer\)/, /server -> client: "R" = AuthenticationMD5Password/]);
  });

  it('require against a server without SSL: the client gets pgscope\'s FATAL, and pgscope serves the next connection', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslmode', 'require', backend(plain15)]);
    for (const n of [1, 2]) {
      const r = await psqlVia(plain15, p.port, 'SELECT 1', { params: { sslmode: 'require' } });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /FATAL: {1,2}pgscope: the server does not support SSL, but --server-sslmode require requires it/);
      const heads = connHeads(await connectionEnded(p, n), n);
      assertInOrder(heads, [/server -> script: "N"/, /the server does not support SSL/, new RegExp(`^#${n}  script -> client: "E" = ErrorResponse`), /connection end/]);
    }
    assert.equal(p.child.exitCode, null, 'pgscope is still running');
  });

  it('verify-ca: the right root passes; a wrong root fails cleanly with the reason', T, async () => {
    const ok = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslmode', 'verify-ca', '--server-sslrootcert', tls15.caFile!, backend(tls15)]);
    assert.equal(await psqlOk(tls15, ok.port, SSL_IN_USE, { params: TLS }), 't');

    const bad = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslmode', 'verify-ca', '--server-sslrootcert', tls18.caFile!, backend(tls15)]);
    const r = await psqlVia(tls15, bad.port, 'SELECT 1', { params: TLS });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /FATAL: {1,2}pgscope: TLS with server 127\.0\.0\.1:\d+ failed: the server certificate is not trusted: [A-Z_]+/);
    assert.match(r.stderr, /--server-sslmode verify-ca with --server-sslrootcert /);
    const heads = connHeads(await connectionEnded(bad, 1), 1);
    assertInOrder(heads, [/server -> script: "S"/, /the server certificate is not trusted/, /script -> client: "E" = ErrorResponse/, /connection end/]);
    assertNone(heads, /client -> server: "p"|server -> client:/); // nothing reached the server's authentication
    // And it serves the next connection.
    assert.notEqual((await psqlVia(tls15, bad.port, 'SELECT 1', { params: TLS })).code, 0);
    await connectionEnded(bad, 2);
  });

  it('verify-full: a host name the certificate carries passes; an address it does not carry (::1) fails', T, async () => {
    const ok = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslmode', 'verify-full', '--server-sslrootcert', tls15.caFile!, `localhost:${tls15.port}`]);
    assert.equal(await psqlOk(tls15, ok.port, SSL_IN_USE, { params: TLS }), 't');
    // The server's certificate names localhost and 127.0.0.1, not ::1 (the server also listens there).
    const bad = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslmode', 'verify-full', '--server-sslrootcert', tls15.caFile!, `[::1]:${tls15.port}`]);
    const r = await psqlVia(tls15, bad.port, 'SELECT 1', { params: TLS });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pgscope: TLS with server \[::1\]:\d+ failed: the server certificate does not match host name "::1"/);
    await connectionEnded(bad, 1);
    // verify-ca does not check the name: the same address passes.
    const ca = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslmode', 'verify-ca', '--server-sslrootcert', tls15.caFile!, `[::1]:${tls15.port}`]);
    assert.equal(await psqlOk(tls15, ca.port, "SELECT inet_client_addr() = '::1'", { params: TLS }), 't');
  });

  it('--server-sslrootcert system: verify-full against the system roots, so the test CA fails', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslrootcert', 'system', backend(tls15)]);
    assert.match(p.output(), /server sslmode verify-full/);
    const r = await psqlVia(tls15, p.port, 'SELECT 1', { params: TLS });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pgscope: TLS with server 127\.0\.0\.1:\d+ failed: the server certificate is not trusted: .*--server-sslmode verify-full with --server-sslrootcert system/);
    await connectionEnded(p, 1);
  });
});

describe('server leg: --server-sslnegotiation', () => {
  it('postgres: SSLRequest to the server even when the client used direct TLS (libpq 18 → PG 18)', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslnegotiation', 'postgres', backend(tls18)]);
    assert.equal(await psqlOk(tls18, p.port, SSL_IN_USE, { params: { ...TLS, sslnegotiation: 'direct' }, env: libpq18Env() }), 't');
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/client -> script: "\\x16" = TLS handshake record \(direct TLS\)/, /connection established with client \(direct TLS\)/, /script -> server: .*SSL request code/, /server -> script: "S"/, /connection established with server$/]);
    assertNone(heads, /starting direct TLS/);
  });

  it('direct: TLS at once with ALPN postgresql to PG 18, for an SSLRequest-style client', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslnegotiation', 'direct', backend(tls18)]);
    assert.equal(await psqlOk(tls15, p.port, SSL_IN_USE, { params: TLS, env: DEBIAN_LIBPQ }), 't');
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/client -> script: .*SSL request code/, /connection established with client$/, /starting direct TLS with the server \(ALPN postgresql\)/, /connection established with server \(ALPN postgresql\)/]);
    assertNone(heads, /script -> server:/);
  });

  it('direct to PG 15: the client gets an ErrorResponse that suggests --server-sslnegotiation postgres; pgscope keeps serving', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-sslnegotiation', 'direct', backend(tls15)]);
    for (const n of [1, 2]) {
      const r = await psqlVia(tls15, p.port, 'SELECT 1', { params: TLS });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /FATAL: {1,2}pgscope: TLS with server 127\.0\.0\.1:\d+ failed: .*try --server-sslnegotiation postgres/);
      const heads = connHeads(await connectionEnded(p, n), n);
      assertInOrder(heads, [/starting direct TLS with the server/, /TLS with server .* failed/, /script -> client: "E" = ErrorResponse/, /connection end/]);
    }
    assert.equal(p.child.exitCode, null);
  });

  it('mimic (default), SSLRequest-style client (Debian psql): SSLRequest on both legs', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend(tls18)]);
    assert.equal(await psqlOk(tls15, p.port, SSL_IN_USE, { params: TLS, env: DEBIAN_LIBPQ }), 't');
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/client -> script: .*SSL request code/, /script -> client: "S"/, /connection established with client$/, /script -> server: .*SSL request code/, /server -> script: "S"/, /connection established with server$/]);
    assertNone(heads, /direct TLS/);
  });

  it('mimic (default), direct-TLS client (libpq 18 psql, sslnegotiation=direct): direct TLS on both legs', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend(tls18)]);
    assert.equal(await psqlOk(tls18, p.port, SSL_IN_USE, { params: { ...TLS, sslnegotiation: 'direct' }, env: libpq18Env() }), 't');
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [
      /client -> script: "\\x16" = TLS handshake record \(direct TLS\)/,
      /connection established with client \(direct TLS\)/,
      /starting direct TLS with the server \(ALPN postgresql\)/,
      /connection established with server \(ALPN postgresql\)/,
      /server -> client: "Z" = ReadyForQuery/,
    ]);
    assertNone(heads, /SSL request code|script -> server:/);
  });
});

describe('client leg', () => {
  it('--client-deny-ssl: sslmode=require fails, sslmode=prefer works in plaintext; a SCRAM-PLUS-offering server is refused by libpq', T, async () => {
    const p = await scopes.start(['--client-deny-ssl', backend(plain15)]);
    assert.doesNotMatch(p.output(), /generated a/, 'no certificate is made when the client leg never uses TLS');
    const req = await psqlVia(plain15, p.port, 'SELECT 1', { params: { sslmode: 'require' } });
    assert.notEqual(req.code, 0);
    assert.match(req.stderr, /server does not support SSL, but SSL was required/);
    const heads1 = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads1, [/client -> script: .*SSL request code/, /script -> client: "N"/, /refused SSL to the client \(--client-deny-ssl\)/, /client hung up/, /connection end/]);
    assertNone(heads1, /connecting to server/);

    assert.equal(await psqlOk(plain15, p.port, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', { params: { sslmode: 'prefer' } }), 'f');
    const heads2 = connHeads(await connectionEnded(p, 2), 2);
    assertInOrder(heads2, [/script -> client: "N"/, /refused SSL to the client/, /client -> server: .*protocol 3\.0/, /server -> client: "Z" = ReadyForQuery/]);
    assertNone(heads2, /connection established with client/);

    // The server leg is TLS and the server offers SCRAM-SHA-256-PLUS over what libpq sees as
    // plaintext: libpq refuses (SSL stripped by a proxy?), as with Elephantshark.
    const q = await scopes.start(['--client-deny-ssl', backend(tls15)]);
    const plus = await psqlVia(tls15, q.port, 'SELECT 1', { params: { sslmode: 'prefer' } });
    assert.notEqual(plus.code, 0);
    assert.match(plus.stderr, /server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection/);
    await connectionEnded(q, 1);
  });

  it('--client-deny-ssl with a direct-TLS client (libpq 18, sslnegotiation=direct): refused cleanly, nothing sent to the server', T, async () => {
    const p = await scopes.start(['--client-deny-ssl', backend(tls18)]);
    const r = await psqlVia(tls18, p.port, 'SELECT 1', { params: { ...TLS, sslnegotiation: 'direct' }, env: libpq18Env() });
    assert.notEqual(r.code, 0);
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/client -> script: "\\x16" = TLS handshake record \(direct TLS\)/, /started TLS directly \(direct TLS\), but --client-deny-ssl keeps the client leg unencrypted/, /connection end/]);
    assertNone(heads, /internal error|connecting to server/);
    // The same client without direct TLS is told N and goes on in plaintext (no SCRAM-PLUS: md5 server).
    const q = await scopes.start(['--client-deny-ssl', backend(plain15)]);
    assert.equal(await psqlOk(tls18, q.port, 'SELECT 1', { params: { sslmode: 'prefer' }, env: libpq18Env() }), '1');
  });

  it('GSSENCRequest is answered N and annotated; the client then starts up normally', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend(plain15)]);
    const c = await RawClient.connect(p.port);
    try {
      c.send(fe.gssencRequest());
      assert.equal(await c.readByte(), 'N');
      const res = await c.startup({ user: 'postgres', database: 'postgres', password: plain15.password });
      assert.deepEqual(res.authCodes, [5, 0]);
      const rows = await c.roundTrip(fe.query('SELECT 7'));
      assert.ok(rows.some((m) => m.type === 'D' && m.body.toString().endsWith('7')));
      await c.terminate();
    } finally {
      c.destroy();
    }
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/^#1  client -> script: "\\x00\\x00\\x00\\x08" = 8 bytes .*GSSAPI encryption request code/, /^#1  script -> client: "N" = /, /^#1  client -> server: .*protocol 3\.0/, /connecting to server/, /server -> client: "Z" = ReadyForQuery/]);
  });

  it('direct TLS with a wrong ALPN (http/1.1) gets the no_application_protocol alert; pgscope logs it and keeps serving', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend(plain15)]);
    const r = await probeTls(p.port, { direct: true, alpn: 'http/1.1' });
    assert.equal(r.certs.length, 0, 'no handshake completed');
    assert.match(r.stdout + r.stderr, /no application protocol/i);
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/client -> script: "\\x16" = TLS handshake record \(direct TLS\)/, /TLS handshake with the client failed \(direct TLS\)/, /connection end/]);
    assertNone(heads, /connecting to server/);
    // Direct TLS with the right ALPN completes the handshake (the client then hangs up).
    const good = await probeTls(p.port, { direct: true, alpn: 'postgresql' });
    assert.equal(good.certs.length, 1, good.stderr);
    assert.match(good.stdout, /ALPN protocol: postgresql/);
    assertInOrder(connHeads(await connectionEnded(p, 2), 2), [/connection established with client \(direct TLS\)/, /client hung up/]);
    // Direct TLS without ALPN: the handshake completes, then pgscope refuses the connection
    // as PostgreSQL 17+ does.
    const noAlpn = await probeTls(p.port, { direct: true });
    assert.equal(noAlpn.certs.length, 1, noAlpn.stderr);
    assertInOrder(connHeads(await connectionEnded(p, 3), 3), [/connection established with client \(direct TLS\)/, /direct TLS connection without ALPN "postgresql"/, /connection end/]);
    // And a normal client still gets through.
    assert.equal(await psqlOk(plain15, p.port, 'SELECT 1', { params: { sslmode: 'require' } }), '1');
  });

  it('bytes right after SSLRequest, in the same packet (CVE-2021-23214): closed, nothing forwarded, pgscope keeps serving', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend(plain15)]);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = new Socket();
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error('pgscope did not close the connection'));
      }, WAIT_MS);
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', () => {
        /* a reset is a close too */
      });
      s.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
      s.connect(p.port, '127.0.0.1', () => s.write(Buffer.concat([fe.sslRequest(), fe.startup({ user: 'postgres', database: 'postgres' })])));
    });
    assert.equal(got.includes(Buffer.from('S')), false, `pgscope must not agree to TLS; it sent ${JSON.stringify(got.toString('latin1'))}`);
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/client -> script: .*SSL request code/, /unencrypted byte\(s\) after SSLRequest.*CVE-2021-23214/, /connection end/]);
    assertNone(heads, /connecting to server|client -> server:|\^\^/);
    assert.equal(await psqlOk(plain15, p.port, 'SELECT 2', { params: { sslmode: 'require' } }), '2');
  });
});

describe('the certificates pgscope shows clients', () => {
  it('the generated certificate names the SNI host (subjectAltName), and one RSA key serves every connection', T, async () => {
    const p = await scopes.start([backend(plain15)]);
    const foo = await probeTls(p.port, { servername: 'foo.example' });
    const bar = await probeTls(p.port, { servername: 'bar.example' });
    const none = await probeTls(p.port);
    for (const r of [foo, bar, none]) assert.equal(r.certs.length, 1, r.stderr);
    const [f, b, n] = [foo.certs[0]!, bar.certs[0]!, none.certs[0]!];
    assert.equal(f.subjectAltName, 'DNS:foo.example');
    assert.equal(b.subjectAltName, 'DNS:bar.example');
    assert.match(n.subjectAltName ?? '', /DNS:localhost/);
    assert.deepEqual(spki(f), spki(b), 'same public key for both names');
    assert.deepEqual(spki(f), spki(n));
    assert.equal(f.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(f.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.notEqual(f.fingerprint256, b.fingerprint256, 'one certificate per name');
    // A second connection for the same name: the same certificate.
    const again = await probeTls(p.port, { servername: 'foo.example' });
    assert.equal(again.certs[0]?.fingerprint256, f.fingerprint256);
    await connectionEnded(p, 4);
    assert.match(connHeads(p.output(), 1).join('\n'), /server name via SNI: foo\.example/);
  });

  it('--client-cert-sig ecdsa: an EC P-256 key', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend(plain15)]);
    assert.match(p.output(), /generated a ECDSA P-256 key/);
    const r = await probeTls(p.port, { servername: 'ec.example' });
    const cert = r.certs[0];
    assert.ok(cert, r.stderr);
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(cert.subjectAltName, 'DNS:ec.example');
  });

  for (const key of ['ed25519', 'ec'] as const) {
    it(`--client-ssl-cert/--client-ssl-key with an ${key === 'ec' ? 'EC P-256' : 'Ed25519'} pair made by openssl: served, and psql verify-full accepts it`, T, async () => {
      const files = await makeSelfSigned(dir, `client-leg-${key}`, { key, dns: ['localhost'], ips: ['127.0.0.1'] });
      const p = await scopes.start(['--client-ssl-cert', files.certFile, '--client-ssl-key', files.keyFile, backend(plain15)]);
      assert.doesNotMatch(p.output(), /generated a/);
      const r = await probeTls(p.port, { servername: 'anything.example' });
      const mine = new X509Certificate(readFileSync(files.certFile));
      assert.equal(r.certs[0]?.fingerprint256, mine.fingerprint256, 'the given certificate, whatever the SNI name');
      assert.equal(r.certs[0]?.publicKey.asymmetricKeyType, key);
      const out = await psqlOk(plain15, p.port, 'SELECT 3', { host: 'localhost', params: { sslmode: 'verify-full', sslrootcert: files.certFile } });
      assert.equal(out, '3');
    });
  }

  for (const sig of ['rsa', 'ecdsa'] as const) {
    it(`--log-certs prints both legs' certificates (${sig})`, T, async () => {
      const p = await scopes.start(['--log-certs', '--client-cert-sig', sig, backend(tls15)]);
      assert.equal(await psqlOk(tls15, p.port, 'SELECT 1', { params: TLS }), '1');
      const heads = connHeads(await connectionEnded(p, 1), 1);
      const client = heads.filter((l) => l.includes('client-leg certificate: ')).join('\n');
      const server = heads.filter((l) => l.includes('server certificate: ')).join('\n');
      assert.match(client, /subject: CN=pgscope localhost/);
      assert.match(client, /subjectAltName: DNS:localhost, IP Address:127\.0\.0\.1/);
      assert.match(client, sig === 'rsa' ? /public key: RSA 2048 bits/ : /public key: EC P-256 \(256 bits\)/);
      assert.match(client, /SHA-256 fingerprint: [0-9A-F:]{95}/);
      assert.match(server, /subject: CN=localhost/);
      assert.match(server, /issuer: CN=pgscope test CA/);
      assert.match(server, /subjectAltName: DNS:localhost, IP Address:127\.0\.0\.1/);
      assert.match(server, /public key: EC P-256/);
      const fp = new X509Certificate(readFileSync(tls15.certFile!)).fingerprint256;
      assert.ok(server.includes(`SHA-256 fingerprint: ${fp}`), 'the server certificate is the server\'s');
    });
  }
});

describe('key logs', () => {
  it('--client-sslkeylogfile and --server-sslkeylogfile: created 0600, NSS lines for each leg', T, async () => {
    const clientLog = join(dir, 'client.keys');
    const serverLog = join(dir, 'server.keys');
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--client-sslkeylogfile', clientLog, '--server-sslkeylogfile', serverLog, backend(tls15)]);
    for (const f of [clientLog, serverLog]) assert.equal(statSync(f).mode & 0o777, 0o600, `${f} is private`);
    assert.equal(await psqlOk(tls15, p.port, 'SELECT 1', { params: TLS }), '1');
    await connectionEnded(p, 1);
    const nss = /^(CLIENT_RANDOM|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,}$/;
    const randoms: string[][] = [];
    for (const f of [clientLog, serverLog]) {
      const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
      assert.ok(lines.length > 0, `${f} has lines`);
      for (const l of lines) assert.match(l, nss, `${f}: ${l}`);
      assert.ok(lines.some((l) => /^(CLIENT_TRAFFIC_SECRET_0|CLIENT_RANDOM) /.test(l)), `${f} has the client traffic secret`);
      randoms.push([...new Set(lines.map((l) => l.split(' ')[1]!))]);
    }
    assert.equal(randoms[0]!.length, 1, 'one handshake on the client leg');
    assert.equal(randoms[1]!.length, 1, 'one handshake on the server leg');
    assert.notEqual(randoms[0]![0], randoms[1]![0], 'two different handshakes');
    // A second session appends.
    const before = readFileSync(clientLog, 'utf8').length;
    assert.equal(await psqlOk(tls15, p.port, 'SELECT 1', { params: TLS }), '1');
    await connectionEnded(p, 2);
    assert.ok(readFileSync(clientLog, 'utf8').length > before);
  });
});

describe('SCRAM channel binding through the man in the middle', () => {
  it('fails with the server\'s own FATAL reaching the client, and pgscope keeps serving', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend(tls15)]);
    const r = await psqlVia(tls15, p.port, 'SELECT 1', { params: { sslmode: 'require' } }); // channel_binding=prefer: SCRAM-SHA-256-PLUS
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /FATAL: {1,2}SCRAM channel binding check failed/);
    assert.doesNotMatch(r.stderr, /pgscope:/, 'the error is the server\'s, not pgscope\'s');
    const out = await connectionEnded(p, 1);
    const heads = connHeads(out, 1);
    // After the FATAL both ends close at once: which EOF pgscope reads first is a race.
    assertInOrder(heads, [/client -> server: "p" = SASLInitialResponse/, /server -> client: "E" = ErrorResponse/, /(server|client) hung up|client connection ended/, /connection end/]);
    assert.ok(connLines(out, 1).some((l) => l.includes('"SCRAM-SHA-256-PLUS\\x00" = SASL mechanism SCRAM-SHA-256-PLUS')), 'the client chose SCRAM-SHA-256-PLUS');
    assert.ok(connLines(out, 1).some((l) => l.includes('"SCRAM channel binding check failed\\x00"')), 'the server\'s message is logged');
    // channel_binding=require fails the same way; disable works.
    const req = await psqlVia(tls15, p.port, 'SELECT 1', { params: { sslmode: 'require', channel_binding: 'require' } });
    assert.match(req.stderr, /SCRAM channel binding check failed/);
    assert.equal(await psqlOk(tls15, p.port, 'SELECT 1', { params: TLS }), '1');
  });
});
