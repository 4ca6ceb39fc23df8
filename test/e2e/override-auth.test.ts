/**
 * --override-auth, --server-channel-binding and the per-connection security verdict, end
 * to end: the real pgscope (bin/pgscope.js), real psql (Debian's, libpq 15) and node-postgres
 * clients, real servers:
 *
 * - tls15: PostgreSQL 15, ssl=on, log_connections=on; pg_hba picks the method by user
 *   (test/helpers/auth-users.ts): postgres → scram-sha-256, pw_user → password (cleartext),
 *   md5_user → md5, trust_user → trust, gss_user → gss. The server leg is TLS by default
 *   (--server-sslmode prefer) and plaintext with --server-sslmode disable: both are proved
 *   on the server's side with pg_stat_ssl, and the method the server used with its own
 *   "connection authenticated: … method=…" log line.
 * - plain18: PostgreSQL 18 (embedded), no SSL at all, scram-sha-256.
 *
 * Channel binding is proved by the server: pgscope's SASLInitialResponse says
 * SCRAM-SHA-256-PLUS with p=tls-server-end-point, and the server, which checks the binding
 * data against its own certificate, lets it in. The same psql command without
 * --override-auth fails with the server's "SCRAM channel binding check failed" (the
 * "before"), since psql's default channel_binding=prefer uses -PLUS over TLS.
 *
 * psql runs with sslmode=require and its default channel_binding (prefer) unless a test
 * says otherwise; failure cases use sslmode=require too (sslmode=prefer would make libpq
 * retry without TLS, a second connection).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { AUTH_USERS, startAuthServer } from '../helpers/auth-users.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import type { RunResult } from '../helpers/proc.js';
import { assertInOrder, assertNone, connectionEnded, connHeads, connLines, psqlVia, Scopes, type ViaOptions } from '../helpers/tls-e2e.js';

const T = { timeout: 90_000 };
const SSL_IN_USE = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';
/** TLS to pgscope, psql's default channel_binding (prefer); no GSS encryption attempt. */
const REQUIRE = { sslmode: 'require', gssencmode: 'disable' } as const;
const ECDSA = ['--client-cert-sig', 'ecdsa'];

let tls15: PgServer;
let plain18: PgServer;
const scopes = new Scopes();
const backend = (s: PgServer): string => `127.0.0.1:${s.port}`;

before(async () => {
  [tls15, plain18] = await Promise.all([startAuthServer({ version: 15, ssl: true, settings: { log_connections: 'on' } }), startPgServer({ version: 18 })]);
});

after(async () => {
  await scopes.stopAll();
  await Promise.all([tls15?.stop(), plain18?.stop()]);
});

/** A pgscope and the number of connections it has served, so that each run finds its own `#N` lines. */
class Proxy {
  private n = 0;
  constructor(readonly p: Pgscope) {}

  static async start(args: string[]): Promise<Proxy> {
    return new Proxy(await scopes.start([...ECDSA, ...args]));
  }

  /** One psql -c through this pgscope (never rejects); waits until pgscope logged the connection's end. */
  async psql(server: PgServer, sql: string, o: ViaOptions = {}, extraArgs: string[] = []): Promise<Conn> {
    const r = extraArgs.length
      ? await server.psqlRun(sql, extraArgs, { port: this.p.port, allowFailure: true, timeoutMs: 45_000, params: o.params ?? {}, ...(o.env ? { env: o.env } : {}), ...(o.user ? { user: o.user } : {}) })
      : await psqlVia(server, this.p.port, sql, o);
    return this.ended(r);
  }

  /** Account for a connection made some other way (node-postgres). */
  async ended<R>(r: R): Promise<Conn<R>> {
    const n = ++this.n;
    const out = await connectionEnded(this.p, n);
    return { r, n, lines: connLines(out, n), heads: connHeads(out, n) };
  }

  get running(): boolean {
    return this.p.child.exitCode === null && this.p.child.signalCode === null;
  }
}

interface Conn<R = RunResult> {
  r: R;
  n: number;
  /** Every log line of this connection, continuation lines included. */
  lines: string[];
  /** Status lines and message heads only. */
  heads: string[];
}

function ok(c: Conn): string {
  assert.equal(c.r.code, 0, `psql through pgscope failed (exit ${c.r.code}):\n${c.r.stderr}\n--- log ---\n${c.lines.join('\n')}`);
  return c.r.stdout.trimEnd();
}

function failed(c: Conn, re: RegExp): void {
  assert.notEqual(c.r.code, 0, `psql should have failed:\n${c.r.stdout}`);
  assert.match(c.r.stderr, re);
}

function has(lines: string[], text: string, what: string): void {
  assert.ok(
    lines.some((l) => l.includes(text)),
    `${what}: no line containing ${JSON.stringify(text)}\n--- lines ---\n${lines.join('\n')}`,
  );
}

/** The server's own record of how it authenticated a user (log_connections=on). */
function serverAuthenticated(server: PgServer, user: string, method: string): void {
  const re = new RegExp(`connection authenticated: identity="${user}" method=${method} `);
  assert.match(server.log(), re, `the server log has no ${re}`);
}

const EXPOSED_CLEARTEXT = /security: EXPOSED: this client accepted pgscope's self-signed certificate without verifying it and handed its password over in cleartext \(require_auth=scram-sha-256 would have refused\)/;

describe('--override-auth: psql sslmode=require (default channel_binding) through pgscope, each method, server leg TLS on and off', () => {
  let before_: Proxy; // no --override-auth
  let tlsLeg: Proxy; // --override-auth, server leg TLS (sslmode prefer)
  let plainLeg: Proxy; // --override-auth, --server-sslmode disable
  before(async () => {
    [before_, tlsLeg, plainLeg] = await Promise.all([Proxy.start([backend(tls15)]), Proxy.start(['--override-auth', backend(tls15)]), Proxy.start(['--override-auth', '--server-sslmode', 'disable', backend(tls15)])]);
  });

  it('before: without --override-auth, the same psql command fails against SCRAM over TLS (the server detects the man in the middle)', T, async () => {
    const c = await before_.psql(tls15, 'SELECT 1', { params: REQUIRE });
    failed(c, /FATAL: {1,2}SCRAM channel binding check failed/);
    has(c.lines, '"SCRAM-SHA-256-PLUS\\x00" = SASL mechanism SCRAM-SHA-256-PLUS', 'the client chose -PLUS');
  });

  const cases = [
    { method: 'scram-sha-256', user: 'postgres', request: 'AuthenticationSASL', tls: true, mechanism: 'SCRAM-SHA-256-PLUS', first: 'SASLInitialResponse' },
    { method: 'scram-sha-256', user: 'postgres', request: 'AuthenticationSASL', tls: false, mechanism: 'SCRAM-SHA-256', first: 'SASLInitialResponse' },
    { method: 'md5', user: AUTH_USERS.md5, request: 'AuthenticationMD5Password', tls: true, mechanism: 'MD5', first: 'PasswordMessage' },
    { method: 'md5', user: AUTH_USERS.md5, request: 'AuthenticationMD5Password', tls: false, mechanism: 'MD5', first: 'PasswordMessage' },
    { method: 'password', user: AUTH_USERS.password, request: 'AuthenticationCleartextPassword', tls: true, mechanism: 'cleartext password', first: 'PasswordMessage' },
    { method: 'password', user: AUTH_USERS.password, request: 'AuthenticationCleartextPassword', tls: false, mechanism: 'cleartext password', first: 'PasswordMessage' },
  ] as const;

  for (const k of cases) {
    it(`${k.method}, server leg ${k.tls ? 'TLS' : 'plaintext'}: psql gets in; pgscope authenticated with ${k.mechanism}; the server agrees`, T, async () => {
      const proxy = k.tls ? tlsLeg : plainLeg;
      const c = await proxy.psql(tls15, `${SSL_IN_USE}; SELECT current_user`, { user: k.user, params: REQUIRE });
      assert.equal(ok(c), `${k.tls ? 't' : 'f'}\n${k.user}`, 'pg_stat_ssl: the server leg is encrypted exactly when expected');
      assertInOrder(c.heads, [
        /connection established with client$/,
        /^#\d+  client -> server: .* = protocol 3\.0/,
        k.tls ? /connection established with server$/ : /connected to server/,
        new RegExp(`^#\\d+  server -> script: "R" = ${k.request} `),
        /asking the client for its password in cleartext \(--override-auth\)$/,
        /^#\d+  script -> client: "R" = AuthenticationCleartextPassword /,
        /^#\d+  client -> script: "p" = PasswordMessage /,
        new RegExp(`^#\\d+  script -> server: "p" = ${k.first} `),
        new RegExp(`^#\\d+  authenticated to the server with ${k.mechanism} \\(--override-auth\\)$`),
        /^#\d+  server -> client: "R" = AuthenticationOk /,
        EXPOSED_CLEARTEXT,
        /^#\d+  server -> client: "Z" = ReadyForQuery /,
        /^#\d+  client -> server: "Q" = Query /,
      ]);
      // The client never saw the server's own request, and pgscope's exchange never reached the client.
      assertNone(c.heads, new RegExp(`server -> client: "R" = (${k.request}|AuthenticationSASL)`));
      assertNone(c.heads, /client -> server: "p"/);
      assert.equal(c.heads.filter((l) => /security: /.test(l)).length, 1, 'one security verdict per connection');
      if (k.method === 'scram-sha-256') {
        has(c.lines, `"${k.mechanism}\\x00" = SASL mechanism ${k.mechanism} `, 'SASLInitialResponse mechanism');
        // GS2 header: 'p' binds to the server's certificate; without TLS, 'n'.
        has(c.lines, k.tls ? `"p=tls-server-end-point," = GS2 flag 'p'` : `"n," = GS2 flag 'n'`, 'GS2 flag');
        assertInOrder(c.heads, [/server -> script: "R" = AuthenticationSASLContinue/, /script -> server: "p" = SASLResponse/, /server -> script: "R" = AuthenticationSASLFinal/, /authenticated to the server with/]);
      }
      // MD5: pgscope computed the hash from the cleartext password and the server's salt.
      if (k.method === 'md5') assert.ok(c.heads.some((l) => /script -> server: "p" = PasswordMessage .*"md5[0-9a-f]{32}\\x00" = /.test(l)), 'the MD5 hash pgscope sent');
      if (k.method === 'password') assert.ok(c.heads.some((l) => l.includes('script -> server: "p" = PasswordMessage ') && l.includes(`"${tls15.password}\\x00" = cleartext password`)), 'the cleartext password pgscope sent');
      serverAuthenticated(tls15, k.user, k.method);
    });
  }

  it('channel binding is checked by the server: pgscope bound to the server leg\'s certificate (p=tls-server-end-point) and was let in', T, async () => {
    // Covered above for psql; here the binding data pgscope sent is checked against nothing
    // else than the server's answer: had the hash been wrong, the server would have sent
    // "SCRAM channel binding check failed" (as in the "before" test) instead of SASLFinal.
    const c = await tlsLeg.psql(tls15, SSL_IN_USE, { params: REQUIRE });
    assert.equal(ok(c), 't');
    const final = c.lines.findIndex((l) => /server -> script: "R" = AuthenticationSASLFinal/.test(l));
    const resp = c.lines.findIndex((l) => /script -> server: "p" = SASLResponse/.test(l));
    assert.ok(resp >= 0 && final > resp, 'SASLResponse then SASLFinal');
    assert.ok(
      c.lines.slice(resp, final).some((l) => /"c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws[A-Za-z0-9+/=]{40,}," = SCRAM channel binding: GS2 flag 'p'/.test(l)),
      'the SASLResponse carries base64("p=tls-server-end-point,," + certificate hash)',
    );
    assertNone(c.lines, /channel binding check failed/);
  });

  it('trust passes through: no password is asked for, the server\'s AuthenticationOk reaches the client', T, async () => {
    const c = await tlsLeg.psql(tls15, 'SELECT current_user', { user: AUTH_USERS.trust, params: REQUIRE });
    assert.equal(ok(c), AUTH_USERS.trust);
    assertNone(c.lines, /AuthenticationCleartextPassword|PasswordMessage|asking the client/);
    assertInOrder(c.heads, [/the server let pgscope in without a password \(trust\) \(--override-auth\)$/, /server -> client: "R" = AuthenticationOk/, /security: EXPOSED: this client accepted pgscope's self-signed certificate without verifying it: /]);
    assertNone(c.heads, /handed its password over/);
  });

  it('GSSAPI: the client gets an ErrorResponse naming the method --override-auth cannot do', T, async () => {
    const c = await tlsLeg.psql(tls15, 'SELECT 1', { user: AUTH_USERS.gss, params: REQUIRE });
    failed(c, /FATAL: {1,2}pgscope: the server asks for GSSAPI authentication, which --override-auth cannot do/);
    assertInOrder(c.heads, [/server -> script: "R" = AuthenticationGSS/, /GSSAPI authentication, which --override-auth cannot do/, /script -> client: "E" = ErrorResponse/, /connection end/]);
    assertNone(c.lines, /asking the client/);
  });

  it('a wrong password: the client gets the server\'s own 28P01, pgscope logs it and serves the next connection', T, async () => {
    const c = await tlsLeg.psql(tls15, 'SELECT 1', { params: REQUIRE, env: { PGPASSWORD: 'not-the-password' } });
    failed(c, /FATAL: {1,2}password authentication failed for user "postgres"/);
    assert.doesNotMatch(c.r.stderr, /pgscope:/, 'the error is the server\'s own');
    assertInOrder(c.heads, [/client -> script: "p" = PasswordMessage/, /script -> server: "p" = SASLResponse/, /the server refused: 28P01 password authentication failed for user "postgres"/, /server -> client: "E" = ErrorResponse/, /connection end/]);
    assertNone(c.heads, /security: /);
    // md5 and cleartext: the same.
    const m = await tlsLeg.psql(tls15, 'SELECT 1', { user: AUTH_USERS.md5, params: REQUIRE, env: { PGPASSWORD: 'not-the-password' } });
    failed(m, /FATAL: {1,2}password authentication failed for user "md5_user"/);
    assertInOrder(m.heads, [/the server refused: 28P01 /, /server -> client: "E" = ErrorResponse/]);
    assert.equal(ok(await tlsLeg.psql(tls15, 'SELECT 1', { params: REQUIRE })), '1');
    assert.ok(tlsLeg.running);
  });

  it('psql -w without a password hangs up at the prompt: an info line, and the next connection works', T, async () => {
    const c = await tlsLeg.psql(tls15, 'SELECT 1', { params: REQUIRE, env: { PGPASSWORD: '', PGPASSFILE: '/nonexistent/pgpass' } }, ['-w']);
    failed(c, /no password supplied/);
    assertInOrder(c.heads, [/script -> client: "R" = AuthenticationCleartextPassword/, /^#\d+  the client hung up at the password prompt \(psql does this: it asks the user for the password, then connects again\)$/, /connection end/]);
    assertNone(c.heads, /warn|ErrorResponse|script -> server: "p"/);
    assert.equal(ok(await tlsLeg.psql(tls15, 'SELECT 2', { params: REQUIRE })), '2');
  });

  it('node-postgres (ssl, rejectUnauthorized: false) answers the cleartext request and gets in with SCRAM-SHA-256-PLUS on the server leg', T, async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: tlsLeg.p.port, user: 'postgres', database: 'postgres', password: tls15.password, ssl: { rejectUnauthorized: false } });
    await client.connect();
    let rows: unknown[];
    try {
      rows = (await client.query(`${SSL_IN_USE}`)).rows;
    } finally {
      await client.end();
    }
    assert.deepEqual(rows, [{ ssl: true }]);
    const c = await tlsLeg.ended(null);
    assertInOrder(c.heads, [/script -> client: "R" = AuthenticationCleartextPassword/, /client -> script: "p" = PasswordMessage/, /authenticated to the server with SCRAM-SHA-256-PLUS \(--override-auth\)/, EXPOSED_CLEARTEXT]);
  });
});

describe('--server-channel-binding', () => {
  let disable: Proxy;
  let require15: Proxy;
  let require18: Proxy;
  let prefer18: Proxy;
  before(async () => {
    [disable, require15, require18, prefer18] = await Promise.all([
      Proxy.start(['--override-auth', '--server-channel-binding', 'disable', backend(tls15)]),
      Proxy.start(['--override-auth', '--server-channel-binding', 'require', backend(tls15)]),
      Proxy.start(['--override-auth', '--server-channel-binding', 'require', backend(plain18)]),
      Proxy.start(['--override-auth', backend(plain18)]),
    ]);
  });

  it('disable: SCRAM-SHA-256 with GS2 flag \'n\' although the server leg is TLS and -PLUS is offered', T, async () => {
    const c = await disable.psql(tls15, SSL_IN_USE, { params: REQUIRE });
    assert.equal(ok(c), 't');
    has(c.lines, '"SCRAM-SHA-256-PLUS\\x00" = SASL mechanism SCRAM-SHA-256-PLUS', 'the server offered -PLUS');
    has(c.lines, '"SCRAM-SHA-256\\x00" = SASL mechanism SCRAM-SHA-256 ', 'pgscope chose SCRAM-SHA-256');
    has(c.lines, `"n," = GS2 flag 'n'`, 'GS2 flag n');
    assertNone(c.lines, /p=tls-server-end-point/);
    assertInOrder(c.heads, [/authenticated to the server with SCRAM-SHA-256 \(--override-auth\)$/, /AuthenticationOk/]);
  });

  it('require, TLS server offering -PLUS: SCRAM-SHA-256-PLUS, the client gets in', T, async () => {
    const c = await require15.psql(tls15, SSL_IN_USE, { params: REQUIRE });
    assert.equal(ok(c), 't');
    has(c.lines, `"p=tls-server-end-point," = GS2 flag 'p'`, 'GS2 flag p');
    assertInOrder(c.heads, [/authenticated to the server with SCRAM-SHA-256-PLUS \(--override-auth\)$/, /AuthenticationOk/]);
  });

  it('require, but the server authenticates with MD5 or trust: refused with a clear message', T, async () => {
    const m = await require15.psql(tls15, 'SELECT 1', { user: AUTH_USERS.md5, params: REQUIRE });
    failed(m, /FATAL: {1,2}pgscope: --server-channel-binding require: the server asks for an MD5 password hash, which cannot do channel binding \(no password was sent\)/);
    assertInOrder(m.heads, [/--server-channel-binding require: the server asks for an MD5 password hash/, /script -> client: "E" = ErrorResponse/, /connection end/]);
    assertNone(m.heads, /server -> client: "R" = AuthenticationOk|security: |script -> client: "R" = AuthenticationCleartextPassword|script -> server: "p"/);
    const t = await require15.psql(tls15, 'SELECT 1', { user: AUTH_USERS.trust, params: REQUIRE });
    failed(t, /--server-channel-binding require: the server authenticated pgscope without channel binding \(trust\)/);
    const p = await require15.psql(tls15, 'SELECT 1', { user: AUTH_USERS.password, params: REQUIRE });
    failed(p, /--server-channel-binding require: the server asks for a cleartext password, which cannot do channel binding \(no password was sent\)/);
    assertNone(p.heads, /script -> client: "R" = AuthenticationCleartextPassword|script -> server: "p"/);
  });

  it('require against a server without SSL (PostgreSQL 18): psql gets a clear error, every time; pgscope keeps serving', T, async () => {
    for (let i = 0; i < 2; i++) {
      const c = await require18.psql(plain18, 'SELECT 1', { params: REQUIRE });
      failed(c, /FATAL: {1,2}pgscope: --server-channel-binding require: the server leg is not encrypted, and channel binding needs TLS/);
      assertInOrder(c.heads, [/server -> script: "N"/, /the server refused SSL: continuing unencrypted/, /server -> script: "R" = AuthenticationSASL/, /--server-channel-binding require: the server leg is not encrypted/, /script -> client: "E" = ErrorResponse/, /connection end/]);
      // Refused before the client was asked for its password: none left the client, none reached the server.
      assertNone(c.heads, /script -> server: "p"|client -> script: "p"/);
    }
    assert.ok(require18.running);
  });

  it('prefer (default) against the same PostgreSQL 18 server without SSL: SCRAM-SHA-256, flag \'n\'', T, async () => {
    const c = await prefer18.psql(plain18, `${SSL_IN_USE}; SELECT current_setting('server_version_num')::int >= 180000`, { params: REQUIRE });
    assert.equal(ok(c), 'f\nt');
    has(c.lines, `"n," = GS2 flag 'n'`, 'GS2 flag n');
    assertInOrder(c.heads, [/authenticated to the server with SCRAM-SHA-256 \(--override-auth\)$/, /AuthenticationOk/, EXPOSED_CLEARTEXT]);
  });
});

describe('--client-deny-ssl with --override-auth against a SCRAM-PLUS (TLS) server', () => {
  let deny: Proxy;
  before(async () => {
    deny = await Proxy.start(['--client-deny-ssl', '--override-auth', backend(tls15)]);
  });

  for (const sslmode of ['disable', 'prefer'] as const) {
    it(`psql sslmode=${sslmode}: plaintext client leg, SCRAM-SHA-256-PLUS on the server leg, verdict says unencrypted`, T, async () => {
      const c = await deny.psql(tls15, SSL_IN_USE, { params: { sslmode, gssencmode: 'disable' } });
      assert.equal(ok(c), 't', 'the server leg is TLS');
      if (sslmode === 'prefer') assertInOrder(c.heads, [/client -> script: .*SSL request code/, /script -> client: "N"/]);
      assertNone(c.heads, /connection established with client/);
      assertInOrder(c.heads, [
        /connection established with server$/,
        /script -> client: "R" = AuthenticationCleartextPassword/,
        /authenticated to the server with SCRAM-SHA-256-PLUS \(--override-auth\)$/,
        /security: EXPOSED: this client sent everything unencrypted and handed its password over in cleartext \(require_auth=scram-sha-256 would have refused\): it would accept any man in the middle/,
      ]);
    });
  }
});

describe('security verdict without --override-auth', () => {
  let selfSigned: Proxy;
  let ownCert: Proxy;
  before(async () => {
    [selfSigned, ownCert] = await Promise.all([Proxy.start([backend(tls15)]), Proxy.start(['--client-ssl-cert', tls15.certFile!, '--client-ssl-key', tls15.keyFile!, backend(tls15)])]);
  });

  it('self-signed certificate, SCRAM passed through with channel_binding=disable: EXPOSED, channel binding not used although offered', T, async () => {
    const c = await selfSigned.psql(tls15, SSL_IN_USE, { params: { ...REQUIRE, channel_binding: 'disable' } });
    assert.equal(ok(c), 't');
    assertInOrder(c.heads, [
      /client -> server: "p" = SASLInitialResponse/,
      /server -> client: "R" = AuthenticationOk/,
      /^#\d+  security: EXPOSED: this client accepted pgscope's self-signed certificate without verifying it: it would accept any man in the middle; use sslmode=verify-full \(with the server's CA as sslrootcert\) or channel_binding=require\. It did not use channel binding although SCRAM-SHA-256-PLUS was offered\.$/,
    ]);
    assert.equal(c.heads.filter((l) => /security: /.test(l)).length, 1);
  });

  it('MD5 passed through: EXPOSED, without a word about channel binding', T, async () => {
    const c = await selfSigned.psql(tls15, 'SELECT 1', { user: AUTH_USERS.md5, params: REQUIRE });
    assert.equal(ok(c), '1');
    assertInOrder(c.heads, [/client -> server: "p" = PasswordMessage/, /^#\d+  security: EXPOSED: this client accepted pgscope's self-signed certificate without verifying it: it would accept any man in the middle; use sslmode=verify-full \(with the server's CA as sslrootcert\) or channel_binding=require\.$/]);
  });

  it('cleartext password passed through: EXPOSED, and it says the password went in cleartext', T, async () => {
    const c = await selfSigned.psql(tls15, 'SELECT 1', { user: AUTH_USERS.password, params: REQUIRE });
    assert.equal(ok(c), '1');
    assertInOrder(c.heads, [/client -> server: "p" = PasswordMessage/, EXPOSED_CLEARTEXT]);
  });

  it('--client-ssl-cert/--client-ssl-key = the server\'s own: psql channel_binding=require succeeds; the verdict says what binding proves and what it cannot show', T, async () => {
    const c = await ownCert.psql(tls15, `${SSL_IN_USE}; SELECT 'bound'`, { params: { ...REQUIRE, channel_binding: 'require' } });
    assert.equal(ok(c), 't\nbound');
    has(c.lines, '"SCRAM-SHA-256-PLUS\\x00" = SASL mechanism SCRAM-SHA-256-PLUS', 'the client chose -PLUS');
    has(c.lines, `"p=tls-server-end-point," = GS2 flag 'p'`, "the client's GS2 flag");
    assertInOrder(c.heads, [
      /client -> server: "p" = SASLInitialResponse/,
      /server -> client: "R" = AuthenticationSASLFinal/,
      /server -> client: "R" = AuthenticationOk/,
      /^#\d+  security: the client used channel binding \(SCRAM-SHA-256-PLUS\), which passed only because pgscope holds the server's own certificate and key\. If the client insists on it \(channel_binding=require\), a man in the middle without that key is detected; with libpq's default \(prefer\) it would still hand its password to one that asks for it in cleartext$/,
    ]);
    assertNone(c.heads, /EXPOSED|asking the client/);
  });

  it('--client-ssl-cert = the server\'s own, channel binding disabled by the client: the verdict cannot tell whether it verified', T, async () => {
    const c = await ownCert.psql(tls15, SSL_IN_USE, { params: { ...REQUIRE, channel_binding: 'disable' } });
    assert.equal(ok(c), 't');
    assertInOrder(c.heads, [/server -> client: "R" = AuthenticationOk/, /^#\d+  security: the client accepted the certificate given with --client-ssl-cert; whether it verified it cannot be seen from here\. It did not use channel binding although SCRAM-SHA-256-PLUS was offered\. To be safe against a man in the middle, use sslmode=verify-full/]);
  });
});
