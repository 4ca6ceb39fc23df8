/**
 * Query cancellation through the real pgscope process. A CancelRequest arrives on a new
 * connection that carries only a process ID and a secret key; libpq sends it unencrypted
 * and without SNI, so pgscope must route it by the BackendKeyData it saw earlier (its
 * CancelRegistry), whatever the logging settings — Elephantshark's routing breaks with
 * --log-forwarded raw/none.
 *
 * - psql 15 (libpq 15) runs `SELECT pg_sleep(60)`; SIGINT makes libpq send a plaintext
 *   CancelRequest: the query ends with 57014 at once. With annotated logging and with
 *   --log-forwarded none.
 * - Two servers behind one pgscope, told apart by SNI (PostgreSQL 15 on 127.0.0.1:P,
 *   PostgreSQL 18 on 127.0.0.2:P): both run a long query; the plaintext cancel for the
 *   second server (which without the registry would go to "localhost", the first) cancels
 *   its query only.
 * - Encrypted CancelRequests (postgres.js with ssl, and a raw client over TLS with a 32-byte
 *   protocol 3.2 key), and libpq 18 with max_protocol_version=3.2: BackendKeyData with a
 *   32-byte key, and a cancel that uses it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { startPgServers, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { errorFields, fe, RawClient } from '../helpers/raw-client.js';
import { assertCleanLog, backgroundPsql, connLines, connsMatching, pgscopeFor, startProxy, waitActive, waitUntil, type Background } from '../helpers/traffic-util.js';
import { moveServer, type MovedServer } from '../helpers/traffic-servers.js';

const T = { timeout: 180_000 };
/** A cancelled pg_sleep(60) must end long before the 60 s are up. */
const CANCEL_WITHIN_MS = 20_000;

const CANCELLED = /ERROR: {2}57014: canceling statement due to user request/;

/** SIGINT to psql (its query running), then the time until psql exits, and its output. */
async function interruptPsql(bg: Background): Promise<{ code: number | string; ms: number; output: string }> {
  const t0 = Date.now();
  bg.child.kill('SIGINT');
  const timer = setTimeout(() => bg.kill(), 90_000);
  const code = await bg.exited;
  clearTimeout(timer);
  return { code, ms: Date.now() - t0, output: bg.output() };
}

function assertCancelled(r: { code: number | string; ms: number; output: string }, what: string): void {
  assert.match(r.output, /Cancel request sent/, `${what}: psql sent a cancel request:\n${r.output}`);
  assert.match(r.output, CANCELLED, `${what}: the query was cancelled:\n${r.output}`);
  assert.equal(r.code, 1, `${what}: psql exit code`);
  assert.ok(r.ms < CANCEL_WITHIN_MS, `${what}: cancelled after ${r.ms} ms`);
}

/** The CancelRequest connection routed by the key of connection #owner (waits for its end). */
async function cancelConnFor(proxy: Pgscope, owner: number, target: string): Promise<number> {
  const re = new RegExp(`connecting to server ${target.replace(/\./g, '\\.')} \\(the key of connection #${owner}\\)`);
  let conn = 0;
  await waitUntil(
    () => {
      const log = proxy.output();
      conn = connsMatching(log, re)[0] ?? 0;
      return conn > 0 && connLines(log, conn).some((l) => / connection end$/.test(l));
    },
    20_000,
    `a CancelRequest routed by the key of #${owner} to ${target}`,
  );
  assert.ok(connLines(proxy.output(), conn).some((l) => /CancelRequest forwarded/.test(l)));
  return conn;
}

/** The number of the first connection whose log matches re (waiting for it to be logged). */
async function connOf(proxy: Pgscope, re: RegExp): Promise<number> {
  let conn = 0;
  await waitUntil(() => (conn = connsMatching(proxy.output(), re)[0] ?? 0) > 0, 20_000, `a connection matching ${re} in the log`);
  return conn;
}

describe('plaintext CancelRequest from psql 15 (PostgreSQL 15, password auth)', () => {
  let server: PgServer;

  before(async () => {
    [server] = (await startPgServers([{ version: 15, auth: 'password' }])) as [PgServer];
  }, T);
  after(async () => {
    await server?.stop();
  }, T);

  for (const logging of ['annotated', 'none'] as const) {
    it(`SIGINT to psql cancels pg_sleep(60) at once (--log-forwarded ${logging})`, T, async () => {
      const proxy = await pgscopeFor(server, ['--log-forwarded', logging]);
      try {
        const app = `cancel-${logging}`;
        const bg = backgroundPsql(server, { host: '127.0.0.1', port: proxy.port, user: 'postgres', dbname: 'postgres', sslmode: 'disable', application_name: app }, 'SELECT pg_sleep(60)');
        await waitActive(server, app);
        const r = await interruptPsql(bg);
        assertCancelled(r, logging);
        const c = await cancelConnFor(proxy, 1, `127.0.0.1:${server.port}`);
        const lines = connLines(proxy.output(), c).join('\n');
        if (logging === 'annotated') {
          assert.match(lines, /client -> server: "\\x00\\x00\\x00\\x10" = 16 bytes "\\x04\\xd2\\x16\." = cancel request code/);
          assert.match(lines, /= secret key: 4 bytes/);
          assert.match(connLines(proxy.output(), 1).join('\n'), /server -> client: "K" = BackendKeyData/);
          assertCleanLog(proxy.output());
        } else {
          assert.doesNotMatch(proxy.output(), /BackendKeyData|cancel request code/, 'nothing forwarded is logged with none');
        }
        // The session ended with the server's error, and the server is fine.
        assert.equal(await server.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${app}'`), '0');
      } finally {
        await proxy.stop();
      }
    });
  }
});

describe('two servers behind one pgscope, routed by SNI; the plaintext cancel finds its server by key', () => {
  let a: PgServer;
  let b: PgServer;
  let movedB: MovedServer;
  let proxy: Pgscope;

  before(async () => {
    [a, b] = (await startPgServers([
      { version: 15, auth: 'trust' },
      { version: 18, auth: 'md5', settings: { listen_addresses: "'127.0.0.2'" } },
    ])) as [PgServer, PgServer];
    movedB = await moveServer(b, '127.0.0.2', a.port);
    // No --server-host: the SNI name minus .local.neon.build picks the server; the port is shared.
    proxy = await startProxy(['--server-connect-port', String(a.port), '--log-forwarded', 'none']);
  }, T);

  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  }, T);

  it('cancelling the query on 127.0.0.2 leaves the one on 127.0.0.1 running, then cancels that one', T, async () => {
    const session = (ip: string, app: string): Background =>
      // libpq sends SNI for a host name (not for an address); hostaddr says where to connect.
      backgroundPsql(a, { host: `${ip}.local.neon.build`, hostaddr: '127.0.0.1', port: proxy.port, user: 'postgres', dbname: 'postgres', sslmode: 'require', application_name: app }, `SELECT pg_sleep(60), '${app}'`);
    const onA = session('127.0.0.1', 'on-a');
    const onB = session('127.0.0.2', 'on-b');
    try {
      await waitActive(a, 'on-a');
      // waitActive on the moved server: query it at its new address.
      await waitUntil(async () => (await movedB.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'on-b' AND state = 'active'")) === '1', 30_000, 'the query on server B');
      // Each session went to its server by SNI (the log can trail the queries by a moment).
      let connA = 0;
      let connB = 0;
      await waitUntil(
        () => {
          const log = proxy.output();
          connA = connsMatching(log, new RegExp(`connecting to server 127\\.0\\.0\\.1:${a.port} \\(SNI name 127\\.0\\.0\\.1\\.local\\.neon\\.build minus suffix`))[0] ?? 0;
          connB = connsMatching(log, new RegExp(`connecting to server 127\\.0\\.0\\.2:${a.port} \\(SNI name 127\\.0\\.0\\.2\\.local\\.neon\\.build minus suffix`))[0] ?? 0;
          return connA > 0 && connB > 0;
        },
        30_000,
        'both sessions routed by SNI in the log',
      );
      assert.match(await movedB.psql('SHOW server_version'), /^18\./);

      const rB = await interruptPsql(onB);
      assertCancelled(rB, 'server B');
      await cancelConnFor(proxy, connB, `127.0.0.2:${a.port}`);
      // The cancel went to B only: A's query is still running.
      assert.equal(await a.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'on-a' AND state = 'active'"), '1');

      const rA = await interruptPsql(onA);
      assertCancelled(rA, 'server A');
      await cancelConnFor(proxy, connA, `127.0.0.1:${a.port}`);

      // The control: a key pgscope never saw goes where any plaintext connection without
      // SNI goes, "localhost" (server A). So B's cancel reached B by its key alone.
      const k = await RawClient.connect(proxy.port);
      k.send(fe.cancelRequest(4242, Buffer.from([1, 2, 3, 4])));
      await k.waitClosed(20_000);
      await waitUntil(() => /connecting to server localhost:\d+ \(no --server-host and no SNI name \(the key was not seen by this pgscope\)\)/.test(proxy.output()), 20_000, 'the unknown key routed to localhost');
    } finally {
      onA.kill();
      onB.kill();
    }
  });
});

describe('encrypted CancelRequests and protocol 3.2 long keys (PostgreSQL 18, TLS)', () => {
  let server: PgServer;
  let proxy: Pgscope;

  before(async () => {
    [server] = (await startPgServers([{ version: 18, auth: 'trust', ssl: true }])) as [PgServer];
    proxy = await pgscopeFor(server);
  }, T);
  after(async () => {
    await proxy?.stop();
    await server?.stop();
  }, T);

  it('postgres.js with ssl sends its CancelRequest over TLS; the query ends with 57014', T, async () => {
    const sql = postgres({ host: '127.0.0.1', port: proxy.port, user: 'postgres', database: 'postgres', max: 1, ssl: 'require', fetch_types: false, onnotice: () => {}, connection: { application_name: 'pj-cancel' } });
    try {
      const q = sql`SELECT pg_sleep(60)`;
      const outcome = q.then(
        () => null,
        (e: unknown) => e as { code?: string; message?: string },
      );
      await waitActive(server, 'pj-cancel');
      const t0 = Date.now();
      await q.cancel();
      const e = await outcome;
      assert.equal(e?.code, '57014', `postgres.js got ${JSON.stringify(e)}`);
      assert.ok(Date.now() - t0 < CANCEL_WITHIN_MS);
    } finally {
      await sql.end({ timeout: 5 });
    }
    const owner = await connOf(proxy, /"pj-cancel\\x00"/);
    const c = await cancelConnFor(proxy, owner, `127.0.0.1:${server.port}`);
    const lines = connLines(proxy.output(), c).join('\n');
    assert.match(lines, /client -> script: .*SSL request code/);
    assert.match(lines, /TLSv1\.[23]\/\S+ connection established with client/);
    assert.match(lines, /cancel request code \(1234\/5678\)/);
    assert.match(lines, /TLSv1\.[23]\/\S+ connection established with server/);
    assertCleanLog(proxy.output());
  });

  it('libpq 18 with max_protocol_version=3.2: a 32-byte key in BackendKeyData, and psql\'s cancel with it works', T, async () => {
    const app = 'pq32-cancel';
    const bg = backgroundPsql(server, { host: '127.0.0.1', port: proxy.port, user: 'postgres', dbname: 'postgres', sslmode: 'require', max_protocol_version: '3.2', application_name: app }, 'SELECT pg_sleep(60)');
    await waitActive(server, app);
    const r = await interruptPsql(bg);
    assertCancelled(r, 'libpq 18, protocol 3.2');
    const owner = await connOf(proxy, /"pq32-cancel\\x00"/);
    const log = proxy.output();
    const ownerLines = connLines(log, owner).join('\n');
    assert.match(ownerLines, /client -> server: .*protocol 3\.2/);
    assert.match(ownerLines, /server -> client: "K" = BackendKeyData "\\x00\\x00\\x00\(" = 40 bytes/);
    assert.match(ownerLines, /= 32 bytes secret key \(protocol 3\.2\+/);
    const c = await cancelConnFor(proxy, owner, `127.0.0.1:${server.port}`);
    assert.match(connLines(proxy.output(), c).join('\n'), /= 44 bytes "\\x04\\xd2\\x16\." = cancel request code[\s\S]*= secret key: 32 bytes/);
    assertCleanLog(proxy.output());
  });

  it('a raw client over TLS, protocol 3.2: the 32-byte-key CancelRequest sent over TLS works', T, async () => {
    const c = await RawClient.connect(proxy.port);
    try {
      c.send(fe.sslRequest());
      assert.equal(await c.readByte(), 'S');
      await c.startTls();
      const r = await c.startup({ user: 'postgres', database: 'postgres', minor: 2, params: { application_name: 'raw-tls-cancel' } });
      assert.equal(r.key.length, 32);
      c.send(fe.query('SELECT pg_sleep(60)'));
      await waitActive(server, 'raw-tls-cancel');
      const k = await RawClient.connect(proxy.port);
      k.send(fe.sslRequest());
      assert.equal(await k.readByte(), 'S');
      await k.startTls();
      k.send(fe.cancelRequest(r.pid, r.key));
      await k.waitClosed(20_000);
      const answer = await c.readUntilReady(CANCEL_WITHIN_MS);
      const err = answer.find((m) => m.type === 'E');
      assert.ok(err, `an ErrorResponse, got ${answer.map((m) => m.type).join('')}`);
      assert.equal(errorFields(err.body)['C'], '57014');
    } finally {
      await c.terminate();
    }
    const owner = await connOf(proxy, /"raw-tls-cancel\\x00"/);
    const cc = await cancelConnFor(proxy, owner, `127.0.0.1:${server.port}`);
    const lines = connLines(proxy.output(), cc).join('\n');
    assert.match(lines, /connection established with client/);
    assert.match(lines, /secret key: 32 bytes/);
    assertCleanLog(proxy.output());
  });
});
