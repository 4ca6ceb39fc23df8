/**
 * The query log (--query-log FILE) and typed values in the annotated log, end to end: one
 * PostgreSQL 15 server, one pgscope (plaintext client leg, annotated log on standard
 * output, query log in a file), and real clients:
 *   - psql: a multi-statement query string, DDL, an error (42P01), INSERT, SELECT;
 *   - pgbench -M simple / extended / prepared (-t 10 -c 2): one line per statement of
 *     every transaction, nothing more, nothing less;
 *   - node-postgres: parameterised and named statements, queries queued without awaiting;
 *   - postgres.js: a pipelined batch (Bind/Execute/Sync ×3 in one write);
 *   - a raw client: Parse/Bind/Execute ×3 and one Sync, then the same with an error in the
 *     middle (the server skips what follows until Sync);
 *   - typed values in the annotated log: DataRow columns in text (psql) and binary (pg with
 *     binary: true, raw client with result format 1), and Bind parameters.
 * Every line has the documented shape, durations > 0 and ready ≥ duration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import postgres from 'postgres';
import { pgbench, pgbenchTransactions, QueryLogReader, TPCB_STATEMENTS, tpcbCounts, waitUntil, type QueryLogEntry } from '../helpers/outputs-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { errorFields, fe, RawClient } from '../helpers/raw-client.js';
import { assertCleanLog, connLines, pgscopeFor } from '../helpers/traffic-util.js';
import { int32 } from '../helpers/wire.js';

const T = { timeout: 60_000 };
const PLAIN = { sslmode: 'disable', gssencmode: 'disable' };

let server: PgServer;
let proxy: Pgscope;
let dir: string;
let qlog: QueryLogReader;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-outputs-ql-'));
  server = await startPgServer({ version: 15 });
  // pgbench's tables, made directly (not through pgscope): scale 1, primary keys, no vacuum.
  const [, p] = await Promise.all([pgbench(server, server.port, ['-i', '-s', '1', '-q', '-I', 'dtgp']), pgscopeFor(server, ['--client-deny-ssl', '--query-log', join(dir, 'query.log')])]);
  proxy = p;
  qlog = new QueryLogReader(join(dir, 'query.log'));
}, { timeout: 120_000 });

after(async () => {
  await proxy?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Every line: duration > 0, ready ≥ duration (both as printed, 3 decimals). A statement
 * after the first of a multi-statement query string starts when the one before it ended:
 * when both answers arrive in one read its duration can be 0 (`continued`).
 */
function assertTimes(entries: QueryLogEntry[], continued: string[] = []): void {
  for (const e of entries) {
    if (continued.includes(e.sql)) assert.ok(e.duration >= 0, `duration ≥ 0: ${e.line}`);
    else assert.ok(e.duration > 0, `duration > 0: ${e.line}`);
    assert.ok(e.ready !== null && e.ready >= e.duration, `ready ≥ duration: ${e.line}`);
  }
}

/** A line's start in ms since the epoch, with the microseconds as a fraction. */
function startMs(e: QueryLogEntry): number {
  return Date.parse(e.start.slice(0, 23) + 'Z') + Number(e.start.slice(23, 26)) / 1000;
}

describe('--query-log', () => {
  it('psql: a multi-statement query string gives a line per statement, then DDL, an error with its SQLSTATE, INSERT, SELECT — in order, on one connection', T, async () => {
    qlog.mark();
    const commands = ["SELECT 1 AS one; SELECT 'two' AS two, 2.5::numeric AS n", 'CREATE TEMP TABLE ql_items (id int)', 'SELECT * FROM no_such_table', 'INSERT INTO ql_items VALUES (1), (2), (3)', 'SELECT id FROM ql_items ORDER BY id'];
    const r = await server.psqlRun(commands[0]!, ['-v', 'ON_ERROR_STOP=0', ...commands.slice(1).flatMap((c) => ['-c', c])], { port: proxy.port, params: PLAIN, allowFailure: true });
    assert.match(r.stdout, /^1\ntwo\|2\.5\n1\n2\n3$/m, `psql output:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /relation "no_such_table" does not exist/);

    const lines = await qlog.waitFor((es) => es.length >= 6, 'six query-log lines from psql');
    assert.equal(lines.length, 6, lines.map((l) => l.line).join('\n'));
    assert.ok(lines.every((l) => l.conn === lines[0]!.conn && l.protocol === 'simple' && l.params === null));
    assert.deepEqual(
      lines.map((l) => [l.outcome, l.sql]),
      [
        ['SELECT 1 rows=1', 'SELECT 1 AS one'],
        ['SELECT 1 rows=1', "SELECT 'two' AS two, 2.5::numeric AS n"],
        ['CREATE TABLE', 'CREATE TEMP TABLE ql_items (id int)'],
        ['ERROR 42P01 relation "no_such_table" does not exist', 'SELECT * FROM no_such_table'],
        ['INSERT 0 3', 'INSERT INTO ql_items VALUES (1), (2), (3)'],
        ['SELECT 3 rows=3', 'SELECT id FROM ql_items ORDER BY id'],
      ],
    );
    assertTimes(lines, ["SELECT 'two' AS two, 2.5::numeric AS n"]);
    // In completion order: start times never go back.
    const starts = lines.map((l) => l.start);
    assert.deepEqual([...starts].sort(), starts);
    // The two statements of one query string end at the same ReadyForQuery: the first waits longer for it.
    assert.ok(lines[0]!.ready! >= lines[1]!.ready!, `${lines[0]!.line}\n${lines[1]!.line}`);
  });

  for (const mode of ['simple', 'extended', 'prepared'] as const) {
    it(`pgbench -M ${mode} -t 10 -c 2: one line per statement of every transaction (7 × 20), ${mode === 'simple' ? 'literal values in the SQL' : 'extended protocol with $n parameters'}`, T, async () => {
      qlog.mark();
      const r = await pgbench(server, proxy.port, ['-n', '-M', mode, '-t', '10', '-c', '2'], { PGSSLMODE: 'disable' });
      const tx = pgbenchTransactions(r);
      assert.equal(tx, 20);
      const lines = await qlog.waitFor((es) => Object.values(tpcbCounts(es.map((e) => e.sql))).every((n) => n >= tx), `${tx} query-log lines of each tpcb statement`);
      const counts = tpcbCounts(lines.map((e) => e.sql));
      for (const [name] of TPCB_STATEMENTS) assert.equal(counts[name], tx, `${name}: ${counts[name]} lines for ${tx} transactions`);

      const tpcb = lines.filter((e) => TPCB_STATEMENTS.some(([, re]) => re.test(e.sql)));
      assert.equal(tpcb.length, 7 * tx);
      // Two client connections, ten transactions each; pgbench's own set-up queries ran on a third.
      const perConn = new Map<number, number>();
      for (const e of tpcb) perConn.set(e.conn, (perConn.get(e.conn) ?? 0) + 1);
      assert.deepEqual([...perConn.values()], [70, 70], `lines per connection: ${JSON.stringify([...perConn])}`);
      const other = lines.filter((e) => !tpcb.includes(e));
      assert.ok(other.every((e) => !perConn.has(e.conn) && /^select /.test(e.sql) && e.protocol === 'simple'), `other lines are pgbench's set-up queries:\n${other.map((e) => e.line).join('\n')}`);

      const expectProtocol = mode === 'simple' ? 'simple' : 'extended';
      for (const e of tpcb) {
        assert.equal(e.protocol, expectProtocol, e.line);
        assert.doesNotMatch(e.outcome, /ERROR/, e.line);
      }
      const byName = (name: string): QueryLogEntry[] => tpcb.filter((e) => TPCB_STATEMENTS.find(([n]) => n === name)![1].test(e.sql));
      assert.ok(byName('BEGIN').every((e) => e.outcome === 'BEGIN'));
      assert.ok(byName('END').every((e) => e.outcome === 'COMMIT'));
      assert.ok(byName('UPDATE accounts').every((e) => e.outcome === 'UPDATE 1'));
      assert.ok(byName('SELECT abalance').every((e) => e.outcome === 'SELECT 1 rows=1'));
      assert.ok(byName('INSERT history').every((e) => e.outcome === 'INSERT 0 1'));
      if (mode === 'simple') {
        assert.ok(byName('UPDATE accounts').every((e) => e.params === null && /abalance \+ -?\d+ WHERE aid = \d+;$/.test(e.sql)), byName('UPDATE accounts')[0]!.line);
      } else {
        // pgbench sends its parameters as text of unspecified type and never asks for a
        // ParameterDescription, so their type is unknown: they are shown as the quoted text.
        for (const e of byName('UPDATE accounts')) {
          assert.equal(e.sql, 'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;');
          assert.match(e.params ?? '', /^\$1="-?\d+", \$2="\d+"$/, e.line);
        }
        for (const e of byName('INSERT history')) assert.match(e.params ?? '', /^\$1="\d+", \$2="1", \$3="\d+", \$4="-?\d+"$/, e.line);
        // On each connection, the SELECT binds the aid the UPDATE before it used (pgbench's :aid).
        for (const conn of perConn.keys()) {
          const upd = byName('UPDATE accounts').filter((e) => e.conn === conn);
          const sel = byName('SELECT abalance').filter((e) => e.conn === conn);
          assert.equal(sel.length, upd.length);
          for (let i = 0; i < upd.length; i++) assert.equal(sel[i]!.params, `$1=${/\$2=("\d+")/.exec(upd[i]!.params!)![1]}`);
        }
      }
      assertTimes(tpcb);
    });
  }

  it('node-postgres: parameterised and named statements, and queries queued without awaiting, each resolved with its SQL and parameters', T, async () => {
    qlog.mark();
    const client = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: server.superuser, password: server.password, database: 'postgres', ssl: false });
    await client.connect();
    try {
      const r1 = await client.query('SELECT $1::int + $2::int AS sum, $3::text AS label', [40, 2, 'forty-two']);
      assert.deepEqual(r1.rows, [{ sum: 42, label: 'forty-two' }]);
      for (const v of [21, 50]) await client.query({ name: 'ql_named', text: 'SELECT $1::int * 2 AS doubled', values: [v] });
      // Not awaited one by one: pg queues them on the connection and answers in order.
      const queued = await Promise.all([client.query('SELECT $1::text AS q', ['a']), client.query('SELECT $1::text AS q', ['b']), client.query('SELECT $1::text AS q, $2::int AS n', ['c', null])]);
      assert.deepEqual(
        queued.map((r) => r.rows[0]),
        [{ q: 'a' }, { q: 'b' }, { q: 'c', n: null }],
      );
      await assert.rejects(client.query('SELECT $1::int / 0', [1]), /division by zero/);
      // pg rejects at the ErrorResponse, before the ReadyForQuery that ends the statement's
      // cycle: hanging up now could close the connection before that reached pgscope (the
      // line would then have no ready time). Its line comes out at the ReadyForQuery.
      await qlog.waitFor((es) => es.length >= 7, 'the error line, at its ReadyForQuery');
    } finally {
      await client.end();
    }
    const lines = await qlog.waitFor((es) => es.length >= 7, 'seven lines from node-postgres');
    assert.equal(lines.length, 7, lines.map((l) => l.line).join('\n'));
    assert.ok(lines.every((l) => l.protocol === 'extended' && l.conn === lines[0]!.conn));
    assert.deepEqual(
      lines.map((l) => [l.outcome, l.sql, l.params]),
      [
        ['SELECT 1 rows=1', 'SELECT $1::int + $2::int AS sum, $3::text AS label', '$1="40", $2="2", $3="forty-two"'],
        ['SELECT 1 rows=1', 'SELECT $1::int * 2 AS doubled', '$1="21"'],
        ['SELECT 1 rows=1', 'SELECT $1::int * 2 AS doubled', '$1="50"'],
        ['SELECT 1 rows=1', 'SELECT $1::text AS q', '$1="a"'],
        ['SELECT 1 rows=1', 'SELECT $1::text AS q', '$1="b"'],
        ['SELECT 1 rows=1', 'SELECT $1::text AS q, $2::int AS n', '$1="c", $2=NULL'],
        ['ERROR 22012 division by zero', 'SELECT $1::int / 0', '$1="1"'],
      ],
    );
    assertTimes(lines);
  });

  it('postgres.js: a pipelined batch (Bind/Execute/Sync ×3 in one write) gives three lines in completion order, parameters typed from ParameterDescription', T, async () => {
    const sql = postgres({ host: '127.0.0.1', port: proxy.port, user: server.superuser, pass: server.password, database: 'postgres', max: 1, fetch_types: false, ssl: false, onnotice: () => {} });
    const q = (id: number) => sql`SELECT ${id}::int * 100 AS x, ${`v${id}`}::text AS v`;
    qlog.mark();
    try {
      for (const id of [1, 2]) await q(id); // known statements: the batch below needs no Parse
      const batch = await Promise.all([q(3), q(1), q(2)]);
      assert.deepEqual(
        batch.map((r) => r[0]),
        [
          { x: 300, v: 'v3' },
          { x: 100, v: 'v1' },
          { x: 200, v: 'v2' },
        ],
      );
    } finally {
      await sql.end({ timeout: 5 });
    }
    const all = await qlog.waitFor((es) => es.length >= 5, 'two lines from the warm-up, three from the batch');
    assert.equal(all.length, 5, all.map((l) => l.line).join('\n'));
    const lines = all.slice(2);
    assert.deepEqual(
      lines.map((l) => [l.protocol, l.outcome, l.sql, l.params]),
      [3, 1, 2].map((id) => ['extended', 'SELECT 1 rows=1', 'SELECT $1::int * 100 AS x, $2::text AS v', `$1=int4 ${id}, $2=text v${id}`]),
    );
    assertTimes(lines);
    // Pipelined: the third request was seen before the first one's answer.
    assert.ok(startMs(lines[2]!) <= startMs(lines[0]!) + lines[0]!.duration, lines.map((l) => l.line).join('\n'));
  });

  it('raw client: Parse ×2, Bind/Execute ×3 and one Sync in one write → three lines in order with typed (text and binary) parameters; an error mid-pipeline ends it', T, async () => {
    const c = await RawClient.connect(proxy.port);
    try {
      await c.startup({ user: server.superuser, password: server.password, database: 'postgres' });
      qlog.mark();
      const answers = await c.roundTrip(
        fe.parse('ql_add', 'SELECT $1::int4 + 1 AS n', [23]),
        fe.parse('ql_upper', 'SELECT upper($1) AS u', [25]),
        fe.bind('', 'ql_add', ['41']),
        fe.execute(''),
        fe.bind('', 'ql_upper', ['abc']),
        fe.execute(''),
        fe.bind('', 'ql_add', [int32(7)], [1]),
        fe.execute(''),
        fe.sync(),
      );
      assert.equal(answers.map((m) => m.type).join(''), '112DC2DC2DCZ');
      const lines = await qlog.waitFor((es) => es.length >= 3, 'three lines from the pipeline');
      assert.equal(lines.length, 3, lines.map((l) => l.line).join('\n'));
      assert.deepEqual(
        lines.map((l) => [l.protocol, l.outcome, l.sql, l.params]),
        [
          ['extended', 'SELECT 1 rows=1', 'SELECT $1::int4 + 1 AS n', '$1=int4 41'],
          ['extended', 'SELECT 1 rows=1', 'SELECT upper($1) AS u', '$1=text abc'],
          ['extended', 'SELECT 1 rows=1', 'SELECT $1::int4 + 1 AS n', '$1=int4 7'],
        ],
      );
      assertTimes(lines);
      // One ReadyForQuery ends all three: the earlier a statement started, the longer it waited for it.
      assert.ok(lines[0]!.ready! >= lines[1]!.ready! && lines[1]!.ready! >= lines[2]!.ready!, lines.map((l) => l.line).join('\n'));

      qlog.mark();
      const failed = await c.roundTrip(
        fe.bind('', 'ql_add', ['1']),
        fe.execute(''),
        fe.parse('', 'SELECT 1 / $1::int4', [23]),
        fe.bind('', '', ['0']),
        fe.execute(''),
        fe.bind('', 'ql_add', ['99']),
        fe.execute(''),
        fe.sync(),
      );
      assert.equal(failed.map((m) => m.type).join(''), '2DC1EZ', 'the division by zero fails at Bind (constant folding with the value known)');
      assert.equal(errorFields(failed.find((m) => m.type === 'E')!.body)['C'], '22012');
      // The third Execute was skipped by the server: no line for it.
      const lines2 = await qlog.waitFor((es) => es.length >= 2, 'two lines from the failed pipeline');
      await c.roundTrip(fe.query('SELECT 1'));
      const all = await qlog.waitFor((es) => es.length >= 3, 'the line of the query after it');
      assert.deepEqual(
        all.map((l) => [l.protocol, l.outcome, l.sql, l.params]),
        [
          ['extended', 'SELECT 1 rows=1', 'SELECT $1::int4 + 1 AS n', '$1=int4 1'],
          ['extended', 'ERROR 22012 division by zero', 'SELECT 1 / $1::int4', '$1=int4 0'],
          ['simple', 'SELECT 1 rows=1', 'SELECT 1', null],
        ],
        `lines:\n${all.map((l) => l.line).join('\n')}`,
      );
      assertTimes(lines2);
    } finally {
      await c.terminate();
    }
  });
  it('raw client: PortalSuspended (Execute with a row limit), an empty query, and a multi-statement query string failing in the middle', T, async () => {
    const c = await RawClient.connect(proxy.port);
    try {
      await c.startup({ user: server.superuser, password: server.password, database: 'postgres' });
      qlog.mark();
      const suspended = await c.roundTrip(fe.parse('', 'SELECT g FROM generate_series(1, 5) AS g', []), fe.bind('p1', '', []), fe.execute('p1', 2), fe.execute('p1', 0), fe.sync());
      assert.equal(suspended.map((m) => m.type).join(''), '12DDsDDDCZ');
      const empty = await c.roundTrip(fe.query(''));
      assert.equal(empty.map((m) => m.type).join(''), 'IZ');
      const multi = await c.roundTrip(fe.query('SELECT 1 AS a; SELECT 1/0 AS boom; SELECT 3 AS never'));
      assert.equal(multi.map((m) => m.type).join(''), 'TDCEZ');
      await c.roundTrip(fe.query("SELECT 'last' AS l"));
      const lines = await qlog.waitFor((es) => es.some((e) => e.sql === "SELECT 'last' AS l"), 'the line of the last query');
      assert.deepEqual(
        lines.map((l) => [l.protocol, l.outcome, l.sql]),
        [
          ['extended', 'SUSPENDED rows=2', 'SELECT g FROM generate_series(1, 5) AS g'],
          ['extended', 'SELECT 3 rows=3', 'SELECT g FROM generate_series(1, 5) AS g'],
          ['simple', 'EMPTY', ''],
          ['simple', 'SELECT 1 rows=1', 'SELECT 1 AS a'],
          ['simple', 'ERROR 22012 division by zero', 'SELECT 1/0 AS boom'],
          ['simple', 'SELECT 1 rows=1', "SELECT 'last' AS l"],
        ],
        `lines:\n${lines.map((l) => l.line).join('\n')}`,
      );
      assertTimes(lines, ['SELECT 1/0 AS boom']);
    } finally {
      await c.terminate();
    }
  });
});

describe('typed values in the annotated log', () => {
  /** The annotated lines of the connection that sent a message matching re. */
  async function linesOf(re: RegExp): Promise<string> {
    let conn = 0;
    await waitUntil(
      () => {
        const out = proxy.output();
        const m = out.split('\n').find((l) => re.test(l));
        conn = m ? Number(/^#(\d+)/.exec(m)![1]) : 0;
        return conn > 0 && connLines(out, conn).some((l) => / connection end$/.test(l));
      },
      20_000,
      `the end of the connection matching ${re}`,
    );
    return connLines(proxy.output(), conn).join('\n');
  }

  it('text format (psql): DataRow columns read as int4, text, bool, numeric, timestamptz, uuid, int4[], int8, jsonb, NULL', T, async () => {
    const out = await server.psql(
      "SELECT 'typed-text' AS marker, 42 AS i, 'hello'::text AS t, true AS b, 1.50::numeric AS n, '2026-01-02 03:04:05.678+00'::timestamptz AS ts, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, ARRAY[1,NULL,3]::int4[] AS arr, NULL::int AS nothing, 9007199254740993::int8 AS big, '{\"k\": [1, 2]}'::jsonb AS j",
      [],
      { port: proxy.port, params: PLAIN },
    );
    assert.equal(out, 'typed-text|42|hello|t|1.50|2026-01-02 03:04:05.678+00|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{1,NULL,3}||9007199254740993|{"k": [1, 2]}');
    const log = await linesOf(/"SELECT 'typed-text' AS marker/);
    for (const re of [
      /column 1: 10 bytes: .* "typed-text" = text typed-text$/m,
      /column 2: 2 bytes: "\\x00\\x00\\x00\\x02" = length: 2 "42" = int4 42$/m,
      /column 3: 5 bytes: .* "hello" = text hello$/m,
      /column 4: 1 byte: .* "t" = bool t$/m,
      /column 5: 4 bytes: .* "1\.50" = numeric 1\.50$/m,
      /column 6: 26 bytes: .* "2026-01-02 03:04:05\.678\+00" = timestamptz 2026-01-02 03:04:05\.678\+00$/m,
      /column 7: 36 bytes: .* = uuid a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11$/m,
      /column 8: 10 bytes: .* "\{1,NULL,3\}" = int4\[\] \{1,NULL,3\}$/m,
      /column 9: NULL: "\\xff\\xff\\xff\\xff" = NULL$/m,
      /column 10: 16 bytes: .* = int8 9007199254740993$/m,
      /column 11: \d+ bytes: .* = jsonb \{"k": \[1, 2\]\}$/m,
    ]) {
      assert.match(log, re, `no line matching ${re} in:\n${log.split('\n').filter((l) => /column \d+:/.test(l)).join('\n')}`);
    }
    assertCleanLog(log);
  });

  it('binary format (node-postgres binary: true): the same types read from their binary encoding; Bind parameters read as text of unknown type', T, async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: server.superuser, password: server.password, database: 'postgres', ssl: false });
    await client.connect();
    try {
      // `binary` (result format 1 for every column) is a pg option @types/pg does not declare.
      const config: pg.QueryConfig & { binary: boolean } = {
        text: "SELECT $1::int4 AS i, 'hello'::text AS t, true AS b, 1.50::numeric AS n, '2026-01-02 03:04:05.678+00'::timestamptz AS ts, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, ARRAY[1,NULL,3]::int4[] AS arr, NULL::int AS nothing /* binary-marker */",
        values: [42],
        binary: true,
        // The raw bytes: pg's own binary parsers are slow (seconds) and misread numeric and arrays.
        types: { getTypeParser: () => (v: unknown) => v } as unknown as pg.CustomTypesConfig,
      };
      const r = await client.query(config);
      assert.equal(r.rows.length, 1);
      assert.deepEqual(r.rows[0].i, Buffer.from([0, 0, 0, 42]));
    } finally {
      await client.end();
    }
    const log = await linesOf(/binary-marker/);
    for (const re of [
      /column 1: 4 bytes: "\\x00\\x00\\x00\\x04" = length: 4 "\\x00\\x00\\x00\*" = int4 42$/m,
      /column 2: 5 bytes: .* "hello" = text hello$/m,
      /column 3: 1 byte: .* "\\x01" = bool t$/m,
      /column 4: \d+ bytes: .* = numeric 1\.50$/m,
      /column 5: 8 bytes: .* = timestamptz 2026-01-02 03:04:05\.678\+00$/m,
      /column 6: 16 bytes: .* = uuid a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11$/m,
      /column 7: \d+ bytes: .* = int4\[\] \{1,NULL,3\}$/m,
      /column 8: NULL: "\\xff\\xff\\xff\\xff" = NULL$/m,
    ]) {
      assert.match(log, re, `no line matching ${re} in:\n${log.split('\n').filter((l) => /column \d+:|"B" = Bind|parameter/.test(l)).join('\n')}`);
    }
    // pg's Parse gives no parameter types and it never asks for a ParameterDescription: the text parameter stays untyped.
    assert.match(log, /client -> server: "B" = Bind/);
    assert.match(log, /parameter 1: 2 bytes: "\\x00\\x00\\x00\\x02" = length: 2 "42" = text value$/m);
    assertCleanLog(log);
  });

  it('raw client: Bind parameters of known types (Parse OIDs) read as their type, text and binary; binary results too', T, async () => {
    const c = await RawClient.connect(proxy.port);
    try {
      await c.startup({ user: server.superuser, password: server.password, database: 'postgres' });
      const answers = await c.roundTrip(
        fe.parse('', "SELECT $1::int4 * 2 AS twice, $2::bool AS flag, $3::text AS label, now() > '2000-01-01' AS recent", [23, 16, 25]),
        fe.bind('', '', [int32(21), Buffer.from([1]), 'raw-bind-marker'], [1, 1, 0], [1, 0, 1, 0]),
        fe.describe('P', ''),
        fe.execute(''),
        fe.sync(),
      );
      assert.equal(answers.map((m) => m.type).join(''), '12TDCZ');
    } finally {
      await c.terminate();
    }
    const log = await linesOf(/raw-bind-marker/);
    for (const re of [
      /parameter 1: 4 bytes: .*"\\x00\\x00\\x00\\x15" = int4 21$/m,
      /parameter 2: 1 byte: .*"\\x01" = bool t$/m,
      /parameter 3: 15 bytes: .*"raw-bind-marker" = text raw-bind-marker$/m,
      /column 1: 4 bytes: .*"\\x00\\x00\\x00\*" = int4 42$/m,
      /column 2: 1 byte: .*"t" = bool t$/m,
      /column 3: 15 bytes: .*"raw-bind-marker" = text raw-bind-marker$/m,
      /column 4: 1 byte: .*"t" = bool t$/m,
    ]) {
      assert.match(log, re, `no line matching ${re} in:\n${log.split('\n').filter((l) => /column \d+:|parameter \d+:/.test(l)).join('\n')}`);
    }
    assertCleanLog(log);
  });
});
