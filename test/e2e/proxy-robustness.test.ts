/**
 * One bad connection must cost that connection only (Elephantshark dies with any error in
 * any connection, and its clients get a bare closed socket). Through the real pgscope
 * process:
 *
 * - the server backend is SIGKILLed mid-query: the client gets an error at once (pgscope's
 *   own FATAL 08006, since the server said nothing), and pgscope serves the next connection
 *   once the server has recovered;
 * - the server is stopped with `pg_ctl stop -m immediate` mid-query: the client gets what
 *   the server said and then an error; while the server is down clients get an
 *   ErrorResponse 08001; after a restart, pgscope serves again;
 * - an unreachable server (a closed port): the client gets an ErrorResponse 08001;
 * - a log reader slower than the traffic (stdout a pipe that fills up): pgscope waits for
 *   it instead of failing connections or dropping lines;
 * - garbage clients (random bytes, HTTP, a startup packet of length 2, a 1 GB length
 *   claim, an unknown request code, plaintext where a TLS handshake should be, a 1 GB
 *   message after startup) are closed with a log line, while normal sessions through the
 *   same pgscope run undisturbed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startPgServers, type PgServer } from '../helpers/pg-server.js';
import { PGSCOPE_BIN, type Pgscope } from '../helpers/pgscope.js';
import { freePort } from '../helpers/ports.js';
import { errorFields, fe, PgError, RawClient } from '../helpers/raw-client.js';
import { psqlSimpleSession } from '../helpers/sessions.js';
import { assertCleanLog, backgroundPsql, connLines, connsMatching, pgscopeFor, startProxy, waitActive, waitConnEnd, waitUntil, type Background } from '../helpers/traffic-util.js';
import { pgCtl } from '../helpers/traffic-servers.js';

const T = { timeout: 180_000 };
/** A client whose server vanished must hear about it long before its 60 s query would end. */
const ERROR_WITHIN_MS = 20_000;
/** psql through pgscope on a loaded machine: a generous connect timeout (the harness sets 10 s). */
const PATIENT = { env: { PGCONNECT_TIMEOUT: '60' }, timeoutMs: 120_000 };

async function exitOf(bg: Background): Promise<{ code: number | string; ms: number; output: string }> {
  const t0 = Date.now();
  const timer = setTimeout(() => bg.kill(), 90_000);
  const code = await bg.exited;
  clearTimeout(timer);
  return { code, ms: Date.now() - t0, output: bg.output() };
}

/** Wait until the server answers a direct query again (after a crash or restart). */
async function serverBack(server: PgServer): Promise<void> {
  await waitUntil(async () => (await server.psqlRun('SELECT 1', [], { allowFailure: true, timeoutMs: 10_000 })).code === 0, 60_000, 'the server to accept connections again');
}

/** The startup of a raw client through `port` must fail with this SQLSTATE; returns the fields. */
async function startupFails(port: number, code: string): Promise<Record<string, string>> {
  const c = await RawClient.connect(port);
  try {
    await c.startup({ user: 'postgres', database: 'postgres' });
    assert.fail('the startup succeeded');
  } catch (e) {
    assert.ok(e instanceof PgError, `expected an ErrorResponse, got ${String(e)}`);
    assert.equal(e.fields['C'], code, JSON.stringify(e.fields));
    assert.equal(e.fields['S'], 'FATAL');
    await c.waitClosed(10_000);
    return e.fields;
  } finally {
    c.destroy();
  }
}

/**
 * A PG 15 server (trust) with pgscope in front, for the tests of one describe block: the
 * hooks start them before its tests and stop them after.
 */
function trustServerBehindPgscope(): { server: () => PgServer; proxy: () => Pgscope } {
  let server: PgServer | undefined;
  let proxy: Pgscope | undefined;
  before(async () => {
    [server] = (await startPgServers([{ version: 15, auth: 'trust' }])) as [PgServer];
    proxy = await pgscopeFor(server);
  }, T);
  after(async () => {
    await proxy?.stop();
    await server?.stop();
  }, T);
  return { server: () => server!, proxy: () => proxy! };
}

describe('a server that dies mid-query', () => {
  const setup = trustServerBehindPgscope();
  let server: PgServer;
  let proxy: Pgscope;
  before(() => {
    server = setup.server();
    proxy = setup.proxy();
  });

  const viaProxy = (app: string, sql: string): Background => backgroundPsql(server, { host: '127.0.0.1', port: proxy.port, user: 'postgres', dbname: 'postgres', sslmode: 'disable', application_name: app }, sql);

  it('SIGKILL of the backend: the client gets FATAL 08006 at once; pgscope serves the next connection', T, async () => {
    const bg = viaProxy('doomed', 'SELECT pg_sleep(60)');
    const pid = await waitActive(server, 'doomed');
    process.kill(pid, 'SIGKILL');
    const r = await exitOf(bg);
    assert.notEqual(r.code, 0);
    assert.ok(r.ms < ERROR_WITHIN_MS, `psql ended ${r.ms} ms after the kill`);
    assert.match(r.output, /FATAL: {2}08006: pgscope: the server 127\.0\.0\.1:\d+ closed the connection unexpectedly/, r.output);

    const conn = await waitConnEnd(proxy.output, /"doomed\\x00"/);
    const lines = connLines(proxy.output(), conn).join('\n');
    assert.match(lines, /server hung up/);
    assert.match(lines, /script -> client: "E" = ErrorResponse/);

    await serverBack(server);
    assert.equal(await server.psql('SELECT 42', [], { ...PATIENT, port: proxy.port, params: { sslmode: 'disable' } }), '42');
    assert.equal(proxy.child.exitCode, null, 'pgscope still runs');
    assertCleanLog(proxy.output());
  });

  it('pg_ctl stop -m immediate: the client hears it; 08001 while the server is down; served again after a restart', T, async () => {
    const bg = viaProxy('shutdown', 'SELECT pg_sleep(60)');
    await waitActive(server, 'shutdown');
    await pgCtl(server, 'stop', '-m', 'immediate');
    const r = await exitOf(bg);
    assert.notEqual(r.code, 0);
    assert.ok(r.ms < ERROR_WITHIN_MS, `psql ended ${r.ms} ms after the shutdown`);
    // The server's own word (a WARNING 57P01 since PostgreSQL 14) reaches the client, then the end.
    assert.match(r.output, /57P01: terminating connection due to immediate shutdown command/, r.output);
    // The server said nothing fatal, so pgscope does, as for the SIGKILL.
    assert.match(r.output, /FATAL: {2}08006: pgscope: the server 127\.0\.0\.1:\d+ closed the connection unexpectedly/);

    // Nothing listens now: pgscope answers the client itself.
    const fields = await startupFails(proxy.port, '08001');
    assert.match(fields['M'] ?? '', /^pgscope: could not connect to server 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    const psqlDown = await server.psqlRun('SELECT 1', [], { ...PATIENT, port: proxy.port, params: { sslmode: 'disable' }, allowFailure: true });
    assert.notEqual(psqlDown.code, 0);
    assert.match(psqlDown.stderr, /pgscope: could not connect to server/);

    await pgCtl(server, 'start');
    await serverBack(server);
    assert.equal(await server.psql("SELECT 'back'", [], { ...PATIENT, port: proxy.port, params: { sslmode: 'disable' } }), 'back');
    assert.equal(proxy.child.exitCode, null, 'pgscope still runs');
    assertCleanLog(proxy.output());
  });
});

describe('a startup packet split across TCP segments', () => {
  const setup = trustServerBehindPgscope();

  it('reaches the server whole: the session starts and answers a query', T, async () => {
    const proxy = setup.proxy();
    const startup = fe.startup({ user: 'postgres', database: 'postgres', application_name: 'split-startup' }, 0);
    const c = await RawClient.connect(proxy.port);
    try {
      // The first 6 bytes, then (once pgscope has surely read them on their own) the rest.
      c.send(startup.subarray(0, 6));
      await proxy.waitFor(/connected from/);
      await new Promise((r) => setTimeout(r, 200));
      c.send(startup.subarray(6));
      const msgs = await c.readUntil('Z', 60_000);
      assert.ok(msgs.some((m) => m.type === 'R'), 'AuthenticationOk from the server');
      c.send(fe.query('SELECT 42'));
      const rows = await c.readUntil('Z', 60_000);
      assert.ok(rows.some((m) => m.type === 'D' && m.body.includes(Buffer.from('42'))));
      await proxy.waitFor(/split-startup/);
    } finally {
      c.destroy();
    }
  });
});

describe('an unreachable server', () => {
  let proxy: Pgscope;
  let closedPort: number;

  before(async () => {
    closedPort = await freePort();
    proxy = await startProxy(['--server-host', '127.0.0.1', '--server-connect-port', String(closedPort)]);
  }, T);
  after(async () => {
    await proxy?.stop();
  }, T);

  it('the client gets an ErrorResponse 08001 (twice: pgscope stays up)', T, async () => {
    for (let i = 0; i < 2; i++) {
      const fields = await startupFails(proxy.port, '08001');
      assert.equal(fields['M'], `pgscope: could not connect to server 127.0.0.1:${closedPort}: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
    }
    await waitUntil(() => (proxy.output().match(/^#\d+ {2}connection end$/gm) ?? []).length === 2, 20_000, 'two connection ends');
    assert.match(proxy.output(), new RegExp(`#1  could not connect to server 127\\.0\\.0\\.1:${closedPort}`));
    assert.match(proxy.output(), /#2  script -> client: "E" = ErrorResponse/);
    assert.equal(proxy.child.exitCode, null);
  });
});

describe('a slow reader of the log (stdout a pipe)', () => {
  let server: PgServer;
  let child: ChildProcess | undefined;

  before(async () => {
    [server] = (await startPgServers([{ version: 15, auth: 'trust' }])) as [PgServer];
  }, T);
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
    await server?.stop();
  }, T);

  it('slows pgscope down but loses no connection and no log line', T, async () => {
    // stdout is a pipe that fills up (the reader stops for a moment after every chunk): a
    // non-blocking write then fails with EAGAIN, which used to close the connection.
    child = spawn(process.execPath, [PGSCOPE_BIN, '-p', '0', '--bw', '--server-host', '127.0.0.1', '--server-connect-port', String(server.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const out = child.stdout!;
    out.on('data', (d: Buffer) => {
      log += d.toString('utf8');
      out.pause();
      setTimeout(() => out.resume(), 40).unref();
    });
    await waitUntil(() => /listening on 127\.0\.0\.1:\d+/.test(log), 90_000, '"listening on"');
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(log)![1]);

    const rows = 5000;
    const sql = `COPY (SELECT repeat('s', 1000) || g FROM generate_series(1, ${rows}) g) TO STDOUT`;
    const direct = await server.psqlRun(sql, [], { ...PATIENT, params: { sslmode: 'disable' } });
    const proxied = await server.psqlRun(sql, [], { ...PATIENT, port, params: { sslmode: 'disable' }, allowFailure: true });
    assert.equal(proxied.code, 0, `psql through pgscope:\n${proxied.stderr}`);
    assert.ok(proxied.stdoutBytes.equals(direct.stdoutBytes), 'the same bytes as directly');

    await waitUntil(() => /^#1 {2}connection end$/m.test(log), 60_000, 'the end of the connection in the log');
    assert.doesNotMatch(log, /internal error|EAGAIN/, stderr);
    assert.equal(log.match(/server -> client: "d" = CopyData/g)?.length, rows, 'every CopyData is in the log');
    assert.match(log, /"COPY 5000\\x00" = COPY 5000: 5000 rows copied/);
    assertCleanLog(log);
    assert.equal(child.exitCode, null, 'pgscope still runs');
  });
});

describe('garbage clients next to normal sessions', () => {
  let server: PgServer;
  let proxy: Pgscope;

  before(async () => {
    [server] = (await startPgServers([{ version: 15, auth: 'md5' }])) as [PgServer];
    proxy = await pgscopeFor(server);
  }, T);
  after(async () => {
    await proxy?.stop();
    await server?.stop();
  }, T);

  interface Probe {
    name: string;
    bytes: Buffer;
    /** The SQLSTATE of pgscope's answer, or null: closed without an answer. */
    code: string | null;
    /** The log line that explains the close. */
    logged: RegExp;
  }

  const garbage = randomBytes(200);
  garbage[0] = 0xff; // a negative length: no waiting for more bytes
  const PROBES: Probe[] = [
    { name: 'random bytes', bytes: garbage, code: '08P01', logged: /invalid startup packet: a length of at least 8 .*got -\d+$/ },
    { name: 'an HTTP request', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), code: '08P01', logged: /invalid startup packet: a length of at most 10000, got 1195725856/ },
    { name: 'a startup packet of length 2', bytes: Buffer.from([0, 0, 0, 2]), code: '08P01', logged: /invalid startup packet: a length of at least 8 .*got 2$/ },
    { name: 'a 1 GB length claim', bytes: Buffer.from([0x40, 0, 0, 0, 0, 3, 0, 0]), code: '08P01', logged: /invalid startup packet: a length of at most 10000, got 1073741824/ },
    { name: 'an unknown request code', bytes: Buffer.from([0, 0, 0, 16, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 0]), code: '08P01', logged: /invalid startup packet: a protocol 3\.x version, SSLRequest, GSSENCRequest or CancelRequest code, got 305419896/ },
    { name: 'plaintext right after SSLRequest', bytes: Buffer.concat([fe.sslRequest(), Buffer.from('not a TLS ClientHello')]), code: null, logged: /unencrypted byte\(s\) after SSLRequest, before the TLS handshake: closing the connection/ },
  ];

  /** Send the bytes, collect what comes back until pgscope closes the connection. */
  function probe(bytes: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      const got: Buffer[] = [];
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`still open after 20 s; received ${JSON.stringify(Buffer.concat(got).toString('latin1'))}`));
      }, 20_000);
      s.on('data', (d: Buffer) => got.push(d));
      s.on('error', () => {
        /* a reset after the close counts as closed */
      });
      s.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(got));
      });
      s.connect(proxy.port, '127.0.0.1', () => s.write(bytes));
    });
  }

  /** A TLS handshake that is not one: pgscope says S, then gets plaintext garbage. */
  async function badHandshake(): Promise<void> {
    const c = await RawClient.connect(proxy.port);
    c.send(fe.sslRequest());
    assert.equal(await c.readByte(), 'S');
    c.send(Buffer.from('GARBAGE, NOT TLS\r\n'.repeat(4)));
    await c.waitClosed(20_000);
  }

  /** After a normal startup, a message claiming 1 GB: the server hangs up, pgscope tells the client. */
  async function hugeMessageAfterStartup(): Promise<Record<string, string>> {
    const c = await RawClient.connect(proxy.port);
    try {
      await c.startup({ user: 'postgres', database: 'postgres', password: server.password, params: { application_name: 'huge-sync' } });
      c.send(Buffer.from([0x53, 0x40, 0, 0, 0, 1, 2, 3])); // Sync with a length of 1 GB
      const m = await c.readMessage(20_000);
      assert.equal(m.type, 'E');
      await c.waitClosed(20_000);
      return errorFields(m.body);
    } finally {
      c.destroy();
    }
  }

  it('each is closed with a log line while normal sessions through the same pgscope complete', T, async () => {
    // A normal session that stays open across the garbage.
    const client = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'postgres', password: server.password, database: 'postgres', application_name: 'steady' });
    await client.connect();
    try {
      assert.equal((await client.query('SELECT $1::int AS n', [1])).rows[0].n, 1);
      // A big result streams while the garbage arrives, plus a whole psql session.
      const big = client.query("SELECT g, repeat('z', 500) AS pad FROM generate_series(1, 5000) AS g");
      const session = psqlSimpleSession(server, proxy.port, PATIENT);
      // Awaited below; a failure meanwhile must not become an unhandled rejection.
      session.catch(() => {});
      big.catch(() => {});
      const answers = await Promise.all(PROBES.map((p) => probe(p.bytes)));
      await badHandshake();
      const huge = await hugeMessageAfterStartup();
      const bigResult = await big;
      await session;

      assert.equal(bigResult.rows.length, 5000);
      assert.equal(bigResult.rows[4999].g, 5000);
      assert.equal((await client.query('SELECT $1::text AS t', ['still here'])).rows[0].t, 'still here');

      for (const [i, p] of PROBES.entries()) {
        const a = answers[i]!;
        if (p.code === null) assert.equal(a.length, 0, `${p.name}: no answer, just the close`);
        else {
          assert.equal(String.fromCharCode(a[0]!), 'E', `${p.name}: an ErrorResponse, got ${JSON.stringify(a.toString('latin1'))}`);
          assert.equal(errorFields(a.subarray(5))['C'], p.code, p.name);
        }
      }
      assert.equal(huge['C'], '08006');
      assert.match(huge['M'] ?? '', /pgscope: the server 127\.0\.0\.1:\d+ closed the connection unexpectedly/);
    } finally {
      await client.end();
    }

    await waitUntil(() => (proxy.output().match(/^#\d+ {2}connection end$/gm) ?? []).length >= PROBES.length + 4, 20_000, 'every connection to end');
    const log = proxy.output();
    for (const p of PROBES) assert.ok(connsMatching(log, p.logged).length === 1, `${p.name}: one connection logged ${p.logged}`);
    assert.equal(connsMatching(log, /TLS handshake with the client failed: .*(wrong version number|WRONG_VERSION)/).length, 1, 'the bad TLS handshake is logged');
    const [hugeConn] = connsMatching(log, /"huge-sync\\x00"/);
    assert.match(connLines(log, hugeConn!).join('\n'), /server hung up/);
    assert.equal(proxy.child.exitCode, null, 'pgscope still runs');
  });
});
