/**
 * The decode thread (issue 16), end to end: pgscope as a user runs it (annotated log to a
 * file, --jsonl, --query-log) decodes on a second thread, named pgscope-decode, and writes
 * the same messages and statements as with --inline-decoding, for the same workload run
 * through each: psql (simple protocol, an error, a multi-statement string, COPY both ways)
 * and node-postgres (extended protocol, a named statement run twice).
 * A 60 MB COPY with every message logged passes whole, its log complete (the hand-off to
 * the decode thread is bounded: the traffic waits for decoding, nothing is dropped), in
 * bounded memory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { clientBin, psqlBin, startPgServer, type PgServer } from '../helpers/pg-server.js';
import { run } from '../helpers/proc.js';
import { clientEnv, conninfo, hashStdout, peakRssMiB, startPgscopeLogfile, waitUntil, type FileLoggedPgscope } from '../helpers/traffic-util.js';

const T = { timeout: 180_000 };

interface Line {
  type: string;
  conn?: number;
  label?: string;
  msg?: string;
  size?: number;
  sql?: string;
  rows?: number;
  fields?: { name: string; typed?: unknown }[];
}

const jsonl = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);

/** Each connection's messages as "label msg size", and its statements as "sql rows", in order. */
function transcript(lines: Line[]): string[][] {
  const byConn = new Map<number, string[]>();
  for (const l of lines) {
    if (l.conn === undefined || (l.type !== 'message' && l.type !== 'statement')) continue;
    // Startup and authentication differ between runs (nonces, keys); everything after is the workload's.
    if (l.type === 'message' && /^(Authentication|SASL|BackendKeyData|ParameterStatus)/.test(l.msg ?? '')) continue;
    const list = byConn.get(l.conn) ?? [];
    byConn.set(l.conn, list);
    list.push(l.type === 'message' ? `${l.label} ${l.msg} ${l.msg === 'StartupMessage' ? '' : l.size}` : `statement ${l.sql} ${l.rows}`);
  }
  return [...byConn.values()];
}

describe('the decode thread', () => {
  let server: PgServer;
  let dir: string;
  const scopes: FileLoggedPgscope[] = [];

  const start = async (name: string, extra: string[]): Promise<{ scope: FileLoggedPgscope; jsonlFile: string; queryLog: string }> => {
    const jsonlFile = join(dir, `${name}.jsonl`);
    const queryLog = join(dir, `${name}.query.log`);
    const scope = await startPgscopeLogfile(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--client-deny-ssl', '--jsonl', jsonlFile, '--query-log', queryLog, ...extra], join(dir, `${name}.log`));
    scopes.push(scope);
    return { scope, jsonlFile, queryLog };
  };

  const workload = async (port: number): Promise<void> => {
    const env = clientEnv(server);
    const info = conninfo({ host: '127.0.0.1', port, user: 'postgres', dbname: 'postgres', sslmode: 'disable' });
    const script = [
      'CREATE TEMP TABLE t (a int, b text);',
      "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 50) g;",
      'SELECT count(*), sum(a) FROM t; SELECT 1/0;',
      "\\copy t FROM PROGRAM 'printf \"100\\\\tcopied\\\\n101\\\\tcopied\\\\n\"'",
      '\\copy (SELECT * FROM t ORDER BY a) TO /dev/null',
      "SELECT a, b, now() - now() AS zero FROM t WHERE a % 10 = 0 ORDER BY a;",
    ].join('\n');
    const r = await run(psqlBin(), ['-X', '-d', info, '-c', script.split('\n')[0]!, ...script.split('\n').slice(1).flatMap((s) => ['-c', s])], { env, allowFailure: true, timeoutMs: 60_000 });
    assert.match(r.stderr, /division by zero/);
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', ssl: false });
    await c.connect();
    try {
      for (const n of [3, 4]) {
        const res = await c.query({ name: 'pick', text: 'SELECT g AS n, g::text AS s, g * 1.5 AS f FROM generate_series(1, $1::int) g', values: [n] });
        assert.equal(res.rows.length, n);
      }
      await c.query('SELECT $1::int4 + 1 AS bin', [41]);
    } finally {
      await c.end();
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgscope-decode-thread-'));
    server = await startPgServer({ version: 15, auth: 'trust' });
    await run(clientBin('pgbench'), ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', 'postgres'], { env: clientEnv(server), timeoutMs: 120_000 });
  }, T);

  after(async () => {
    for (const s of scopes) await s.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, T);

  it('decodes on a thread of its own, writing what --inline-decoding writes', T, async () => {
    const threaded = await start('threaded', []);
    const inline = await start('inline', ['--inline-decoding']);
    const threads = (pid: number): string[] => readdirSync(`/proc/${pid}/task`).map((t) => readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim());
    assert.ok(threads(threaded.scope.pid).includes('pgscope-decode'), `a thread named pgscope-decode: ${threads(threaded.scope.pid).join(', ')}`);
    assert.ok(!threads(inline.scope.pid).includes('pgscope-decode'), '--inline-decoding has no decode thread');
    await workload(threaded.scope.port);
    await workload(inline.scope.port);
    await threaded.scope.stop();
    await inline.scope.stop();
    const a = jsonl(threaded.jsonlFile);
    const b = jsonl(inline.jsonlFile);
    const ta = transcript(a);
    assert.equal(ta.length, 2, 'two connections (psql, node-postgres)');
    assert.deepEqual(ta, transcript(b));
    // Decoded after the hand-over with statements followed: typed values.
    const typed = a.filter((l) => l.msg === 'DataRow' && JSON.stringify(l.fields).includes('"typed"'));
    assert.ok(typed.length >= 10, `typed DataRow columns (${typed.length})`);
    assert.ok(a.some((l) => l.type === 'statement' && l.sql?.startsWith('SELECT $1::int4 + 1')), 'the last statement');
    const strip = (s: string): string[] => s.split('\n').map((l) => l.replace(/^#\d+\s+\S+\s+/, '').replace(/[\d.]+ ms/g, '').replace(/\s+/g, ' '));
    assert.deepEqual(strip(readFileSync(threaded.queryLog, 'utf8')), strip(readFileSync(inline.queryLog, 'utf8')));
    // The text log too: each connection's message lines the same (times, connection facts
    // and which side hung up first aside).
    const text = (s: FileLoggedPgscope): string[][] => {
      const byConn = new Map<string, string[]>();
      for (const l of s.log().split('\n')) {
        const m = /^#(\d+) {2}((client|server|script) .*)$/.exec(l);
        if (!m || / hung up$/.test(l) || /Authentication|SASL|BackendKeyData|ParameterStatus|StartupMessage|"p" =|"R" =|"S" =|"K" =|Startup/.test(l)) continue;
        byConn.set(m[1]!, [...(byConn.get(m[1]!) ?? []), m[2]!]);
      }
      return [...byConn.values()];
    };
    assert.ok(text(threaded.scope).flat().length > 50);
    assert.deepEqual(text(threaded.scope), text(inline.scope));
  });

  it('--ui: the inspector is fed on the decode thread (on the forwarding thread with --inline-decoding), and both show the same', T, async () => {
    const threads = (pid: number): string[] => readdirSync(`/proc/${pid}/task`).map((t) => readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim());
    const startUi = async (name: string, extra: string[]): Promise<{ scope: FileLoggedPgscope; url: URL }> => {
      // Nothing but the inspector shows messages: without --ui there would be no decode thread.
      const scope = await startPgscopeLogfile(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--client-deny-ssl', '--log-forwarded', 'none', '--ui', ...extra], join(dir, `${name}.log`));
      scopes.push(scope);
      let line = '';
      await waitUntil(() => (line = /inspector: open (http:\S+)/.exec(scope.log())?.[1] ?? '') !== '', 30_000, `the inspector's address in ${name}.log`);
      return { scope, url: new URL(line) };
    };
    const api = async <R>(url: URL, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: R }> => {
      const r = await fetch(new URL(path, url), {
        method: init.method ?? 'GET',
        headers: { 'X-Pgscope-Token': url.searchParams.get('token')!, ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await r.text();
      return { status: r.status, json: (text === '' ? null : JSON.parse(text)) as R };
    };
    const threaded = await startUi('ui-threaded', []);
    const inline = await startUi('ui-inline', ['--inline-decoding']);
    assert.ok(threads(threaded.scope.pid).includes('pgscope-decode'), `--ui alone decodes on a thread named pgscope-decode: ${threads(threaded.scope.pid).join(', ')}`);
    assert.ok(!threads(inline.scope.pid).includes('pgscope-decode'), '--inline-decoding has no decode thread');
    const statements = async (u: URL): Promise<string[]> => {
      let page: { conn: number; sql: string; rows: number | null; error: unknown }[] = [];
      await waitUntil(
        async () => {
          page = (await api<{ rows: typeof page }>(u, '/api/statements?offset=0&limit=500')).json.rows;
          return page.some((s) => s.sql.includes('faultme'));
        },
        30_000,
        'the last statement in the inspector',
      );
      return page.map((s) => `${s.sql} ${s.rows} ${s.error ? 'error' : ''}`);
    };
    for (const { scope, url } of [threaded, inline]) {
      await workload(scope.port);
      // A fault rule added over the page's API acts on the forwarding thread's traffic.
      const added = await api<{ id: number }>(url, '/api/faults', { method: 'POST', body: { rule: 'error 40001 when sql contains "faultme"' } });
      assert.equal(added.status, 201);
      const bad = await api<{ error: string }>(url, '/api/faults', { method: 'POST', body: { rule: 'explode when Query' } });
      assert.equal(bad.status, 400);
      assert.match(bad.json.error, /at character 1/);
      const c = new pg.Client({ host: '127.0.0.1', port: scope.port, user: 'postgres', database: 'postgres', ssl: false });
      await c.connect();
      try {
        await assert.rejects(c.query("SELECT 'faultme'"), (e: { code?: string }) => e.code === '40001');
        // (node-postgres rejects at the ErrorResponse: one more statement waits for its ReadyForQuery.)
        await c.query('SELECT 1');
      } finally {
        await c.end();
      }
      const rules = await api<{ id: number; acted: number }[]>(url, '/api/faults');
      assert.deepEqual(rules.json.map((r) => [r.id, r.acted]), [[added.json.id, 1]]);
    }
    const a = await statements(threaded.url);
    assert.ok(a.length >= 8, a.join('\n'));
    assert.ok(a.some((s) => s.includes('1/0') && s.endsWith('error')), 'the failed statement, as failed');
    assert.deepEqual(a, await statements(inline.url));

    // Under load the inspector on the decode thread misses nothing: the traffic waits for
    // it (the hand-off's bound) rather than it dropping events.
    type Overview = { counts: { statements: number; messages: number } };
    const before = (await api<Overview>(threaded.url, '/api/overview')).json.counts;
    const bench = await run(clientBin('pgbench'), ['-n', '-S', '-M', 'prepared', '-T', '4', '-c', '4', '-j', '1', '-h', '127.0.0.1', '-p', String(threaded.scope.port), '-U', 'postgres', 'postgres'], { env: clientEnv(server), timeoutMs: 60_000 });
    const tx = Number(/number of transactions actually processed: (\d+)/.exec(bench.stdout)?.[1]);
    assert.ok(tx > 100, bench.stdout);
    let after = before;
    await waitUntil(
      async () => (after = (await api<Overview>(threaded.url, '/api/overview')).json.counts).statements >= before.statements + tx,
      30_000,
      `${tx} statements more than ${before.statements} in the inspector (last: ${JSON.stringify(after)})`,
    );
    // Each transaction: Bind, Execute, Sync; BindComplete, DataRow, CommandComplete, ReadyForQuery.
    assert.ok(after.messages - before.messages >= 7 * tx, `messages: ${JSON.stringify({ before, after, tx })}`);

    await threaded.scope.stop();
    await inline.scope.stop();
  });

  it('a 60 MB COPY logged message by message: whole, its log complete, memory bounded', T, async () => {
    const rows = 60_000;
    const { scope, jsonlFile } = await start('bulk', ['--log-forwarded', 'annotated']);
    const sql = `COPY (SELECT repeat('x', 1000) || g FROM generate_series(1, ${rows}) g) TO STDOUT`;
    const args = (port: number): string[] => ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo({ host: '127.0.0.1', port, user: 'postgres', dbname: 'postgres', sslmode: 'disable' }), '-c', sql];
    const direct = await hashStdout(psqlBin(), args(server.port), clientEnv(server));
    const through = await hashStdout(psqlBin(), args(scope.port), clientEnv(server));
    assert.equal(through.code, 0, through.stderr);
    assert.equal(through.sha256, direct.sha256);
    const peak = peakRssMiB(scope.pid);
    await scope.stop();
    const copyData = jsonl(jsonlFile).filter((l) => l.msg === 'CopyData').length;
    assert.equal(copyData, rows, 'every CopyData in --jsonl');
    assert.equal((scope.log().match(/"d" = CopyData/g) ?? []).length, rows, 'every CopyData in the annotated log');
    assert.doesNotMatch(scope.log(), /dropped here/);
    assert.ok(peak < 300, `peak RSS ${peak.toFixed(0)} MiB`);
  });
});
