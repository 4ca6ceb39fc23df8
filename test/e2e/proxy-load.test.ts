/**
 * Many connections through the real pgscope process: 50 node-postgres clients at once,
 * each checking its own answer (a mixed-up connection would hand one client another's
 * row), then pgbench: initialisation (a client-side COPY of 100 000 rows), select-only
 * with 4 clients, a new connection per transaction (-C), and the extended and prepared
 * query modes. PostgreSQL 15 with SCRAM; pgscope logs everything annotated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { clientBin, startPgServer, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { run, type RunResult } from '../helpers/proc.js';
import { assertCleanLog, clientEnv, connLines, pgscopeFor, waitLogLine, waitUntil } from '../helpers/traffic-util.js';

const T = { timeout: 180_000 };

describe('sequential and parallel connections through pgscope', () => {
  let server: PgServer;
  let proxy: Pgscope;

  before(async () => {
    server = await startPgServer({ version: 15, auth: 'scram-sha-256', settings: { max_connections: '100' } });
    proxy = await pgscopeFor(server);
  }, T);

  after(async () => {
    await proxy?.stop();
    await server?.stop();
  }, T);

  it('50 parallel node-postgres connections each get their own answer; #1 … #50 in the log', T, async () => {
    const N = 50;
    const one = async (i: number): Promise<void> => {
      const c = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: server.superuser, password: server.password, database: 'postgres', application_name: `parallel-${i}` });
      await c.connect();
      try {
        const r = await c.query('SELECT $1::int AS i, $2::text AS tag, current_setting($3) AS app, repeat($2, 50) AS big', [i, `tag-${i}`, 'application_name']);
        assert.deepEqual(r.rows, [{ i, tag: `tag-${i}`, app: `parallel-${i}`, big: `tag-${i}`.repeat(50) }]);
      } finally {
        await c.end();
      }
    };
    const results = await Promise.allSettled(Array.from({ length: N }, (_, k) => one(k + 1)));
    const failed = results.map((r, k) => (r.status === 'rejected' ? `client ${k + 1}: ${String(r.reason)}` : null)).filter(Boolean);
    assert.deepEqual(failed, [], 'every parallel client succeeded');

    await waitUntil(() => (proxy.output().match(/^#\d+ {2}connection end$/gm) ?? []).length >= N, 30_000, `${N} "connection end" lines`);
    const log = proxy.output();
    for (let k = 1; k <= N; k++) {
      const lines = connLines(log, k);
      assert.ok(lines.some((l) => /connected from 127\.0\.0\.1:\d+/.test(l)), `#${k} connected`);
      assert.ok(lines.some((l) => /client -> server: "B" = Bind/.test(l)), `#${k} shows its Bind`);
      assert.ok(lines.some((l) => / connection end$/.test(l)), `#${k} ended`);
      // Each connection's log names only its own application_name (no interleaving of sessions).
      const apps = new Set(lines.flatMap((l) => [...l.matchAll(/parallel-(\d+)/g)].map((m) => m[1])));
      assert.equal(apps.size, 1, `#${k} mentions one client only, got ${[...apps].join(', ')}`);
    }
    assert.doesNotMatch(log, /^#51 /m);
    assertCleanLog(log);
  });

  const pgbench = (args: string[], timeoutMs = 120_000): Promise<RunResult> =>
    run(clientBin('pgbench'), ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', server.superuser, ...args, 'postgres'], {
      env: clientEnv(server, { PGSSLMODE: 'disable', PGGSSENCMODE: 'disable' }),
      timeoutMs,
      allowFailure: true,
    });

  const transactions = (r: RunResult): number => {
    const m = /number of transactions actually processed: (\d+)/.exec(r.stdout);
    assert.ok(m, `pgbench printed no transaction count:\n${r.stdout}\n${r.stderr}`);
    return Number(m[1]);
  };

  it('pgbench: -i, then -S with 4 clients, -C (connect per transaction), -M extended and -M prepared', T, async (t) => {
    const init = await pgbench(['-i', '-q']);
    assert.equal(init.code, 0, `pgbench -i:\n${init.stderr}`);
    assert.equal(await server.psql('SELECT count(*) FROM pgbench_accounts'), '100000');

    const runs: [string, string[]][] = [
      ['-c 4 -T 5 -S', ['-c', '4', '-j', '2', '-T', '5', '-S']],
      ['-C -c 2 -T 3', ['-C', '-c', '2', '-T', '3']],
      ['-M extended -T 3', ['-M', 'extended', '-c', '2', '-T', '3']],
      ['-M prepared -T 3', ['-M', 'prepared', '-c', '2', '-T', '3']],
    ];
    for (const [name, args] of runs) {
      const r = await pgbench(args);
      assert.equal(r.code, 0, `pgbench ${name} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
      const n = transactions(r);
      assert.ok(n > 0, `pgbench ${name}: ${n} transactions`);
      assert.doesNotMatch(r.stdout, /number of failed transactions: [1-9]/);
      t.diagnostic(`pgbench ${name}: ${n} transactions, ${/tps = ([\d.]+)/.exec(r.stdout)?.[1] ?? '?'} tps (annotated logging)`);
    }
    await waitLogLine(proxy.output, /"SELECT abalance FROM pgbench_accounts WHERE aid = \$1;\\x00"/);
    const log = proxy.output();
    assert.match(log, /"1\\t1\\t0\\t\\n" = COPY data/, 'the COPY of pgbench -i is in the log');
    assert.match(log, /"SELECT abalance FROM pgbench_accounts WHERE aid = \$1;\\x00"/, 'the prepared statement of -M prepared is in the log');
    assertCleanLog(log);
  });
});
