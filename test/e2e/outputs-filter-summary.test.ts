/**
 * --filter and --summary, end to end: one PostgreSQL 15 server and, in front of it, one
 * pgscope per filter (queries, conn=2, errors, a list of names with --jsonl) and one
 * unfiltered pgscope with --summary. The same psql session (rows, an error, a query after
 * it) runs through each:
 *   - forwarding never changes: psql's output, errors and exit status are the same as
 *     directly against the server;
 *   - each filter shows what docs/jsonl.md says and nothing else, in the text log and in
 *     --jsonl; a bad expression stops pgscope at start-up with status 2;
 *   - the summary groups statements that differ only in literals, is printed on SIGUSR1
 *     while pgscope keeps serving, and is printed last at exit; without --summary (stdout
 *     not a terminal) there is none.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { checkJsonlLines } from '../helpers/jsonl-check.js';
import { readText, startPgscopeSilent, waitAllEnded, waitUntil, type JsonObj } from '../helpers/outputs-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { startPgscope, type Pgscope } from '../helpers/pgscope.js';
import type { RunResult } from '../helpers/proc.js';
import { assertCleanLog, pgscopeFor } from '../helpers/traffic-util.js';

const T = { timeout: 60_000 };
const PLAIN = { sslmode: 'disable', gssencmode: 'disable' };
const COMMANDS = ["SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 3) AS g", 'SELECT * FROM missing_table', "SELECT 'after the error' AS still"];

let server: PgServer;
let dir: string;
let jsonlFile: string;
/** The same workload directly against the server: what every client must see through pgscope. */
let direct: RunResult;
const scopes: Record<'summary' | 'queries' | 'conn2' | 'errors' | 'names', Pgscope> = {} as never;

function workload(port: number): Promise<RunResult> {
  return server.psqlRun(COMMANDS[0]!, ['-v', 'ON_ERROR_STOP=0', ...COMMANDS.slice(1).flatMap((c) => ['-c', c])], { port, params: PLAIN, allowFailure: true });
}

function assertSameAsDirect(r: RunResult, what: string): void {
  assert.equal(r.stdout, direct.stdout, `${what}: psql's output`);
  assert.equal(r.stderr, direct.stderr, `${what}: psql's errors`);
  assert.equal(r.code, direct.code, `${what}: psql's exit status`);
}

/** Lines of the text log that belong to a connection (#N …). */
const connLinesOf = (log: string): string[] => log.split('\n').filter((l) => /^#\d+ {2}/.test(l));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-outputs-fs-'));
  jsonlFile = join(dir, 'names.jsonl');
  server = await startPgServer({ version: 15 });
  const via = (extra: string[]): Promise<Pgscope> => pgscopeFor(server, ['--client-deny-ssl', ...extra]);
  const started = {
    summary: via(['--summary']),
    queries: via(['--filter', 'queries']),
    conn2: via(['--filter', 'conn=2']),
    // --filter errors hides the "listening on" line too: readiness is the port answering.
    errors: startPgscopeSilent(['--server-host', server.host, '--server-connect-port', String(server.port), '--client-deny-ssl', '--filter', 'errors', '--query-log', join(dir, 'errors-query.log')]),
    names: via(['--filter', 'Query,ErrorResponse or server and CommandComplete', '--jsonl', jsonlFile]),
  };
  // Keep every one that started, so that after() stops them even if another failed.
  const settled = await Promise.allSettled(Object.values(started));
  Object.keys(started).forEach((k, i) => {
    const r = settled[i]!;
    if (r.status === 'fulfilled') scopes[k as keyof typeof scopes] = r.value;
  });
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  direct = await workload(server.port);
  assert.match(direct.stdout, /^1\|row 1\n2\|row 2\n3\|row 3\nafter the error$/m);
  assert.match(direct.stderr, /relation "missing_table" does not exist/);
}, { timeout: 120_000 });

after(async () => {
  await Promise.all(Object.values(scopes).map((p) => p?.stop()));
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('--filter', () => {
  it('queries: Query and CommandComplete/ErrorResponse lines, status lines; no DataRow, RowDescription, ParameterStatus, authentication or forwarded-batch lines', T, async () => {
    const p = scopes.queries;
    assertSameAsDirect(await workload(p.port), '--filter queries');
    await waitAllEnded(p.output, 1);
    const lines = connLinesOf(p.output());
    const heads = lines.filter((l) => /-> (server|client): "/.test(l));
    assert.deepEqual(
      heads.map((l) => /^#1 {2}(\S+ -> \S+): "(.)" = (\w+)/.exec(l)?.slice(1).join(' ')),
      ['client -> server Q Query', 'server -> client C CommandComplete', 'client -> server Q Query', 'server -> client E ErrorResponse', 'client -> server Q Query', 'server -> client C CommandComplete'],
      lines.join('\n'),
    );
    for (const re of [/"D" = DataRow/, /"T" = RowDescription/, /"S" = ParameterStatus/, /"R" = Authentication/, /"Z" = ReadyForQuery/, /\^\^ \d+ bytes forwarded/, /StartupMessage|protocol 3\.0/]) {
      assert.ok(!lines.some((l) => re.test(l)), `no line matching ${re}:\n${lines.filter((l) => re.test(l)).join('\n')}`);
    }
    // Status lines stay, and the ErrorResponse keeps its fields.
    assert.ok(lines.some((l) => /^#1 {2}connected from /.test(l)));
    assert.ok(lines.some((l) => /"C" = Code "42P01\\x00" = SQLSTATE 42P01/.test(l)));
  });

  it('conn=2: only connection #2\'s lines, all of them', T, async () => {
    const p = scopes.conn2;
    assertSameAsDirect(await workload(p.port), '--filter conn=2, connection #1');
    assertSameAsDirect(await workload(p.port), '--filter conn=2, connection #2');
    await p.waitFor(/^#2 {2}connection end$/);
    const lines = connLinesOf(p.output());
    assert.deepEqual([...new Set(lines.map((l) => l.slice(0, 3)))], ['#2 '], `only #2:\n${lines.filter((l) => !l.startsWith('#2 ')).join('\n')}`);
    const text = lines.join('\n');
    for (const re of [/connected from/, /"R" = AuthenticationSASL/, /"Q" = Query/, /"T" = RowDescription/, /"D" = DataRow/, /"E" = ErrorResponse/, /"Z" = ReadyForQuery/, /\^\^ \d+ bytes forwarded/, /connection end/]) {
      assert.match(text, re);
    }
    assert.equal(lines.filter((l) => /"D" = DataRow/.test(l)).length, 4);
  });

  it('errors: the ErrorResponse and its fields only; no queries, rows or info status lines', T, async () => {
    const p = scopes.errors;
    assertSameAsDirect(await workload(p.port), '--filter errors');
    // Connection #1 was the readiness probe: psql is #2.
    await p.waitFor(/^#2 {2}server -> client: "E" = ErrorResponse/);
    // "connection end" is an info line, filtered out: wait for the server to see the client gone instead.
    await waitUntil(async () => (await server.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name = 'psql' AND pid <> pg_backend_pid()")) === '0', 20_000, 'psql to leave');
    const lines = connLinesOf(p.output());
    assert.match(lines[0]!, /^#2 {2}server -> client: "E" = ErrorResponse /);
    assert.ok(
      lines.slice(1).every((l) => /^#2 {20,}(?:"\w" = [\w ()]+ ".*\\x00" = |"\\x00" = end of fields)/.test(l)),
      `only the ErrorResponse's field lines follow:\n${lines.join('\n')}`,
    );
    assert.ok(lines.some((l) => /"M" = Message "relation \\"missing_table\\" does not exist\\x00"/.test(l)));
    assert.doesNotMatch(p.output(), /connected from|"Q" = Query|"D" = DataRow|\^\^/);
    // The filter is for the text log and --jsonl: the query log still has every statement.
    await waitUntil(() => readText(join(dir, 'errors-query.log')).split('\n').length > COMMANDS.length, 20_000, 'three query-log lines');
    const queryLog = readText(join(dir, 'errors-query.log')).trimEnd().split('\n');
    assert.deepEqual(
      queryLog.map((l) => l.split(' | ')[1]),
      COMMANDS,
    );
    assert.match(queryLog[1]!, /ERROR 42P01 relation "missing_table" does not exist \| /);
  });

  it('names and operators, with --jsonl: the same filter applies to JSON lines (messages by name, statements and status kept)', T, async () => {
    const p = scopes.names;
    assertSameAsDirect(await workload(p.port), '--filter with --jsonl');
    await waitAllEnded(p.output, 1);
    await waitUntil(() => /"phase":"closed"/.test(readText(jsonlFile)), 20_000, 'the closed connection line in the JSON lines');
    const heads = connLinesOf(p.output()).filter((l) => /-> (server|client): "/.test(l));
    assert.deepEqual(
      heads.map((l) => /: "(.)" = (\w+)/.exec(l)?.[2]),
      ['Query', 'CommandComplete', 'Query', 'ErrorResponse', 'Query', 'CommandComplete'],
    );
    const objs = checkJsonlLines(readFileSync(jsonlFile, 'utf8')) as JsonObj[];
    assert.deepEqual(
      objs.filter((o) => o.type === 'message').map((o) => o.msg),
      ['Query', 'CommandComplete', 'Query', 'ErrorResponse', 'Query', 'CommandComplete'],
    );
    assert.deepEqual(
      objs.filter((o) => o.type === 'statement').map((o) => o.sql),
      COMMANDS,
    );
    assert.ok(objs.some((o) => o.type === 'connection' && o.phase === 'opened'));
    assert.ok(objs.some((o) => o.type === 'status' && /listening on/.test(String(o.text))));
  });

  it('a bad expression: exit status 2 and one line "pgscope: --filter: …" before listening', T, async () => {
    for (const [expr, re] of [
      ['Qurey', /Query/],
      ['conn=2 and (', /expected/i],
      ['conn=x', /conn/],
    ] as const) {
      const p = await startPgscope(['--server-host', server.host, '--server-connect-port', String(server.port), '--client-deny-ssl', '--filter', expr], { waitListening: false });
      const code = await p.exited;
      assert.equal(code, 2, `--filter ${JSON.stringify(expr)}: exit status`);
      const err = p.stderr().trim();
      assert.match(err, /^pgscope: --filter: /, `--filter ${JSON.stringify(expr)}: ${err}`);
      assert.match(err, re, `--filter ${JSON.stringify(expr)}: ${err}`);
      assert.doesNotMatch(p.output(), /listening on/);
    }
  });
});

// ---------------------------------------------------------------- summary

interface Group {
  count: number;
  total: number;
  errors: number;
  sql: string;
}

/** The summaries printed so far: their head line, the statements line and the group rows. */
function summaries(out: string): { head: string; statements: string; groups: Group[]; text: string }[] {
  const blocks: { head: string; statements: string; groups: Group[]; text: string }[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('pgscope summary: ')) continue;
    const block = [lines[i]!];
    for (let j = i + 1; j < lines.length && lines[j] !== '' && !/^(#\d+ |received |stopping|pgscope summary: )/.test(lines[j]!); j++) block.push(lines[j]!);
    const groups = block
      .map((l) => /^ +(\d+) +([\d.]+) +[\d.]+ +~?[\d.]+ +~?[\d.]+ +[\d.]+ +(\d+) {2}(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ count: Number(m[1]), total: Number(m[2]), errors: Number(m[3]), sql: m[4]! }));
    blocks.push({ head: block[0]!, statements: block[1] ?? '', groups, text: block.join('\n') });
  }
  return blocks;
}

async function usr1(p: Pgscope): Promise<ReturnType<typeof summaries>[number]> {
  const before = summaries(p.output()).length;
  p.child.kill('SIGUSR1');
  await waitUntil(() => summaries(p.output()).length > before, 20_000, 'a summary after SIGUSR1');
  return summaries(p.output())[before]!;
}

describe('--summary', () => {
  const LITERALS = (i: number): string => `SELECT ${i} * 2 AS doubled, 'literal ${i}' AS label`;
  const GROUP = 'SELECT ? * ? AS doubled, ? AS label';

  it('forwarding is the same through the unfiltered pgscope', T, async () => {
    assertSameAsDirect(await workload(scopes.summary.port), 'no filter');
  });

  it('SIGUSR1: statements that differ only in literals make one group with their count; pgscope keeps running and serving', T, async () => {
    const p = scopes.summary;
    const r = await server.psqlRun(LITERALS(1), [2, 3, 4, 5].flatMap((i) => ['-c', LITERALS(i)]), { port: p.port, params: PLAIN });
    assert.equal(r.stdout, '2|literal 1\n4|literal 2\n6|literal 3\n8|literal 4\n10|literal 5\n');
    await waitAllEnded(p.output, 2);
    const s = await usr1(p);
    assert.match(s.head, /^pgscope summary: 2 connections, \d+ bytes from clients, [\d.]+ (bytes|KiB) from servers$/);
    assert.match(s.statements, /^8 statements in 4 groups, 1 error; by total time:$/, s.text);
    const g = s.groups.find((x) => x.sql === GROUP);
    assert.ok(g, `a group ${GROUP}:\n${s.text}`);
    assert.equal(g.count, 5);
    assert.equal(g.errors, 0);
    const failed = s.groups.find((x) => x.sql === 'SELECT * FROM missing_table');
    assert.deepEqual([failed?.count, failed?.errors], [1, 1], s.text);
    // Sorted by total time.
    const totals = s.groups.map((x) => x.total);
    assert.deepEqual([...totals].sort((a, b) => b - a), totals, s.text);

    // Still running, still serving.
    assert.equal(p.child.exitCode, null);
    assert.equal(await server.psql(LITERALS(6), [], { port: p.port, params: PLAIN }), '12|literal 6');
  });

  it('node-postgres with parameters: one group per statement text ($1 kept), counted with the earlier ones', T, async () => {
    const p = scopes.summary;
    const client = new pg.Client({ host: '127.0.0.1', port: p.port, user: server.superuser, password: server.password, database: 'postgres', ssl: false });
    await client.connect();
    try {
      for (const v of [1, 2, 3]) assert.deepEqual((await client.query('SELECT $1::int * 2 AS doubled', [v])).rows, [{ doubled: v * 2 }]);
    } finally {
      await client.end();
    }
    await waitAllEnded(p.output, 4);
    const s = await usr1(p);
    assert.equal(s.groups.find((x) => x.sql === 'SELECT $1::int * ? AS doubled')?.count, 3, s.text);
    assert.equal(s.groups.find((x) => x.sql === GROUP)?.count, 6, s.text);
    assert.match(s.statements, /^12 statements in 5 groups, 1 error;/);
  });

  it(
    'negative literals group with positive ones, as in pg_stat_statements',
    T,
    async () => {
      const p = scopes.summary;
      await server.psql('SELECT abs(7) AS sign_test', ['-c', 'SELECT abs(-7) AS sign_test'], { port: p.port, params: PLAIN });
      await waitAllEnded(p.output, 5);
      const s = await usr1(p);
      const groups = s.groups.filter((x) => x.sql.includes('sign_test'));
      assert.deepEqual(
        groups.map((x) => [x.sql, x.count]),
        [['SELECT abs(?) AS sign_test', 2]],
      );
    },
  );

  it('at exit (SIGTERM): the summary is printed last, with every statement; without --summary there is none', T, async () => {
    const p = scopes.summary;
    const code = await p.stop();
    assert.equal(code, 0);
    const out = p.output();
    const all = summaries(out);
    const last = all[all.length - 1]!;
    assert.ok(out.trimEnd().endsWith(last.text), `the summary is the end of the output:\n${out.slice(-2000)}`);
    assert.ok(out.lastIndexOf('stopping: closing the listener') < out.lastIndexOf(last.head));
    assert.match(last.head, /^pgscope summary: 5 connections, /);
    assert.match(last.statements, /^14 statements in \d+ groups, 1 error; by total time:$/);
    assert.equal(last.groups.find((x) => x.sql === GROUP)?.count, 6);
    assertCleanLog(out);

    // The filtered pgscopes ran without --summary (standard output is not a terminal): none printed.
    const errors = scopes.errors;
    assert.equal(await errors.stop(), 0);
    assert.doesNotMatch(errors.output(), /pgscope summary/);
  });

  it('SIGUSR1 without --summary says so, and never opens the Node inspector', T, async () => {
    const p = scopes.queries;
    p.child.kill('SIGUSR1');
    await p.waitFor(/SIGUSR1: no summary to print \(start pgscope with --summary\)/);
    assert.doesNotMatch(p.stderr(), /Debugger listening/);
    assert.equal(p.child.exitCode, null, 'still running');
  });
});

describe('--filter with sql terms', () => {
  it('sql ~* keeps the Query and the statement whose SQL matches, in the text log and --jsonl', T, async () => {
    const file = join(dir, 'sql.jsonl');
    const p = await pgscopeFor(server, ['--client-deny-ssl', '--filter', 'sql ~* "from\\s+MISSING_TABLE"', '--jsonl', file]);
    try {
      assertSameAsDirect(await workload(p.port), '--filter sql ~*');
      await waitAllEnded(p.output, 1);
      await waitUntil(() => /"phase":"closed"/.test(readText(file)), 20_000, 'the closed connection line in the JSON lines');
      const heads = connLinesOf(p.output()).filter((l) => /-> (server|client): "/.test(l));
      assert.deepEqual(heads.map((l) => /: "(.)" = (\w+)/.exec(l)?.[2]), ['Query']);
      const objs = checkJsonlLines(readFileSync(file, 'utf8')) as JsonObj[];
      assert.deepEqual(objs.filter((o) => o.type === 'message').map((o) => o.msg), ['Query']);
      assert.deepEqual(objs.filter((o) => o.type === 'statement').map((o) => o.sql), [COMMANDS[1]]);
      assert.ok(objs.some((o) => o.type === 'connection' && o.phase === 'opened'));
    } finally {
      await p.stop();
    }
  });
});
