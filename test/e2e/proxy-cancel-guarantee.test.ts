/**
 * libpq's cancel guarantee, through the real pgscope process (issue 11, item 1).
 *
 * libpq's PQcancel returns only once the server has closed the cancel connection, and
 * PostgreSQL closes it only after it has signalled the backend: so the statement a client
 * sends after PQcancel returned can never be hit by that cancel. pgscope must keep this:
 * it forwards the CancelRequest, then keeps the client's side open until the server has
 * closed its side (with a generous timeout), and only then closes the client's side.
 *
 * - A real libpq client (Debian's python3-psycopg2, libpq 15) runs 30 × (conn.cancel(),
 *   then `select pg_sleep(0.05)`) and counts the statements that fail with 57014:
 *   directly against the server (0: the guarantee), through pgscope with a plaintext
 *   client leg (the server leg plaintext too: libpq refuses SCRAM-SHA-256-PLUS, which the
 *   server offers over TLS, on a plaintext connection), and with a TLS client leg
 *   (sslmode=require channel_binding=disable; the server leg TLS too). Through
 *   pgscope the count must equal the direct count. (Before the fix pgscope closed the
 *   client's cancel connection as soon as it had written the request, and 20-30 of the 30
 *   statements were cancelled.)
 * - The mechanism alone, timed against a fake server that holds the cancel connection open
 *   for a while before closing it: the client's side (plaintext, and TLS) closes only after
 *   the server's did, and pgscope's log says so.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, startPgServer, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { run } from '../helpers/proc.js';
import { fe, RawClient } from '../helpers/raw-client.js';
import { conninfo, connLines, connsMatching, pgscopeFor, startProxy, waitUntil } from '../helpers/traffic-util.js';

const T = { timeout: 240_000 };
/** Debian's python3 (python3-psycopg2 is a Debian package), not whatever python3 is first on PATH. */
const PYTHON = '/usr/bin/python3';
const ROUNDS = 30;

/**
 * 30 × (cancel, then a short statement) on one connection; prints JSON counts. Any failure
 * other than 57014 counts as `other` (and fails the test), so nothing is hidden.
 */
const LOOP = `
import json, sys
import psycopg2
dsn, rounds = sys.argv[1], int(sys.argv[2])
conn = psycopg2.connect(dsn)
conn.autocommit = True
cur = conn.cursor()
cur.execute("select inet_server_port(), (select ssl from pg_stat_ssl where pid = pg_backend_pid())")
port, ssl = cur.fetchone()
cancelled, ok, other = 0, 0, []
for i in range(rounds):
    conn.cancel()
    try:
        cur.execute("select pg_sleep(0.05)")
        cur.fetchall()
        ok += 1
    except psycopg2.Error as e:
        if e.pgcode == "57014":
            cancelled += 1
        else:
            other.append("%s %s" % (e.pgcode, str(e).strip()))
conn.close()
print(json.dumps({"cancelled": cancelled, "ok": ok, "other": other, "server_ssl": ssl}))
`;

interface LoopResult {
  cancelled: number;
  ok: number;
  other: string[];
  server_ssl: boolean;
}

async function cancelLoop(server: PgServer, params: Record<string, string | number>): Promise<LoopResult> {
  const r = await run(PYTHON, ['-c', LOOP, conninfo(params), String(ROUNDS)], { env: cleanEnv({ ...server.clientEnv, PGCONNECT_TIMEOUT: '60' }), timeoutMs: 120_000, allowFailure: true });
  assert.equal(r.code, 0, `the psycopg2 loop failed (exit ${r.code}); needs Debian's python3-psycopg2 (apt-get install python3-psycopg2):\n${r.stderr}${r.stdout}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as LoopResult;
  assert.deepEqual(res.other, [], 'no failure other than 57014');
  assert.equal(res.cancelled + res.ok, ROUNDS);
  return res;
}

describe('libpq cancel guarantee (psycopg2 conn.cancel() then a statement), PostgreSQL 15 with TLS, SCRAM', () => {
  let server: PgServer;
  const proxies: Partial<Record<'plaintext' | 'TLS', Pgscope>> = {};
  let direct: LoopResult;

  before(async () => {
    server = await startPgServer({ version: 15, ssl: true });
    proxies.plaintext = await pgscopeFor(server, ['--server-sslmode', 'disable']);
    proxies.TLS = await pgscopeFor(server);
  }, T);
  after(async () => {
    await Promise.all([proxies.plaintext?.stop(), proxies.TLS?.stop()]);
    await server?.stop();
  }, T);

  it('directly against the server: no statement is cancelled', T, async () => {
    direct = await cancelLoop(server, { host: '127.0.0.1', port: server.port, user: 'postgres', dbname: 'postgres', sslmode: 'disable', application_name: 'direct-cancel-loop' });
    assert.equal(direct.cancelled, 0, `cancelled statements directly: ${direct.cancelled} of ${ROUNDS}`);
  });

  for (const leg of ['plaintext', 'TLS'] as const) {
    it(`through pgscope, ${leg} client leg: as many statements cancelled as directly (0 of ${ROUNDS})`, T, async () => {
      const proxy = proxies[leg]!;
      const params = { host: '127.0.0.1', port: proxy.port, user: 'postgres', dbname: 'postgres', application_name: `pgscope-cancel-loop-${leg}`, ...(leg === 'TLS' ? { sslmode: 'require', channel_binding: 'disable' } : { sslmode: 'disable' }) };
      const res = await cancelLoop(server, params);
      assert.equal(res.server_ssl, leg === 'TLS', `pgscope reached the server over ${leg}`);
      assert.equal(res.cancelled, direct?.cancelled ?? 0, `cancelled statements through pgscope (${leg}): ${res.cancelled} of ${ROUNDS}, directly ${direct?.cancelled ?? 0}`);
      // Every cancel connection waited for the server to close it, then closed the client's side.
      let conns: number[] = [];
      await waitUntil(
        () => {
          const log = proxy.output();
          conns = connsMatching(log, /CancelRequest forwarded/);
          return conns.length >= ROUNDS && conns.every((c) => connLines(log, c).some((l) => / connection end$/.test(l)));
        },
        60_000,
        'the cancel connections to end in the log',
      );
      const log = proxy.output();
      for (const c of conns) {
        const lines = connLines(log, c).join('\n');
        assert.match(lines, /CancelRequest forwarded: waiting for the server to close the cancel connection[\s\S]*the server closed the cancel connection: closing the client's side/, `connection #${c}:\n${lines}`);
        assert.doesNotMatch(lines, /closing it anyway/);
      }
    });
  }
});

/** A fake server: reads a 16-byte CancelRequest, holds the connection for holdMs, then closes it. */
async function slowCancelServer(holdMs: number): Promise<{ port: number; closedAt: number[]; received: Buffer[]; close(): Promise<void> }> {
  const closedAt: number[] = [];
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    let got = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b]);
      if (got.length < 16) return;
      received.push(got);
      setTimeout(() => {
        closedAt.push(Date.now());
        s.destroy();
      }, holdMs);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    closedAt,
    received,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

describe("pgscope closes the client's cancel connection only after the server closed its side", () => {
  const HOLD_MS = 1500;
  let fake: Awaited<ReturnType<typeof slowCancelServer>>;
  let proxy: Pgscope;

  before(async () => {
    fake = await slowCancelServer(HOLD_MS);
    proxy = await startProxy(['--server-host', '127.0.0.1', '--server-connect-port', String(fake.port), '--server-sslmode', 'disable']);
  }, T);
  after(async () => {
    await proxy?.stop();
    await fake?.close();
  }, T);

  for (const leg of ['plaintext', 'TLS'] as const) {
    it(`${leg} client leg`, T, async () => {
      const before = fake.closedAt.length;
      const k = await RawClient.connect(proxy.port);
      if (leg === 'TLS') {
        k.send(fe.sslRequest());
        assert.equal(await k.readByte(), 'S');
        await k.startTls();
      }
      const sentAt = Date.now();
      k.send(fe.cancelRequest(4242, Buffer.from([1, 2, 3, 4])));
      await k.waitClosed(30_000);
      const clientClosedAt = Date.now();
      assert.equal(fake.closedAt.length, before + 1, 'the fake server got the CancelRequest and closed');
      assert.equal(fake.received[fake.received.length - 1]!.length, 16, 'exactly the 16-byte CancelRequest reached the server');
      const serverClosedAt = fake.closedAt[before]!;
      assert.ok(clientClosedAt >= serverClosedAt, `the client's side closed ${serverClosedAt - clientClosedAt} ms before the server's`);
      assert.ok(clientClosedAt - sentAt >= HOLD_MS - 50, `closed after ${clientClosedAt - sentAt} ms, the server held it ${HOLD_MS} ms`);
    });
  }
});
