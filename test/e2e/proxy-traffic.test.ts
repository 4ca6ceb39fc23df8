/**
 * Ordinary traffic through the real pgscope process (bin/pgscope.js): psql with DDL,
 * INSERT, SELECT, COPY FROM STDIN and COPY TO STDOUT; node-postgres with $1 parameters;
 * postgres.js with the extended protocol and a pipelined batch. Every workload runs once
 * directly against the server and once through pgscope; the results must be equal, and
 * pgscope's log must show the decoded messages with no decoding trouble.
 *
 * Two set-ups: PostgreSQL 15 with MD5 passwords, plaintext on both legs; PostgreSQL 18
 * with SCRAM, TLS on both legs (psql with channel_binding=disable: SCRAM-SHA-256-PLUS
 * binds to the server's certificate, which a man in the middle cannot show).
 * Last, --send-chunking byte: a psql session still works when every forwarded byte is
 * written on its own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import postgres from 'postgres';
import { startPgServers, type PgAuth, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { psqlSimpleSession } from '../helpers/sessions.js';
import { assertCleanLog, connLines, pgscopeFor, waitConnEnd } from '../helpers/traffic-util.js';

const T = { timeout: 180_000 };
/** psql through pgscope on a loaded machine: a generous connect timeout (the harness sets 10 s). */
const PATIENT = { env: { PGCONNECT_TIMEOUT: '60' }, timeoutMs: 120_000 };

interface Setup {
  name: string;
  version: 15 | 18;
  auth: PgAuth;
  tls: boolean;
}

const SETUPS: Setup[] = [
  { name: 'PostgreSQL 15, md5, plaintext', version: 15, auth: 'md5', tls: false },
  { name: 'PostgreSQL 18, scram-sha-256, TLS on both legs', version: 18, auth: 'scram-sha-256', tls: true },
];

// ---------------------------------------------------------------- workloads

/** libpq parameters for the client leg of a set-up. */
function libpqParams(s: Setup): Record<string, string> {
  return s.tls ? { sslmode: 'require', channel_binding: 'disable', gssencmode: 'disable' } : { sslmode: 'disable', gssencmode: 'disable' };
}

const COPY_IN = '3\tplum\t0.75\n4\tfig\t3.00\n5\t\\N\t9.99\n';

/** One psql session: DDL, INSERT, COPY FROM STDIN, SELECT, COPY TO STDOUT, ALTER, aggregates. */
async function psqlWorkload(server: PgServer, setup: Setup, port: number, table: string): Promise<string> {
  const commands = [
    `CREATE TABLE ${table} (id int PRIMARY KEY, name text, price numeric(10,2))`,
    `INSERT INTO ${table} VALUES (1, 'apple', 1.25), (2, 'pear', 2.50)`,
    `COPY ${table} FROM STDIN`,
    `SELECT id, coalesce(name, '<null>'), price FROM ${table} ORDER BY id`,
    `COPY (SELECT * FROM ${table} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`,
    `ALTER TABLE ${table} ADD COLUMN note text DEFAULT 'n/a'`,
    `UPDATE ${table} SET note = 'cheap' WHERE price < 1`,
    `SELECT count(*), sum(price), string_agg(note, ',' ORDER BY id) FROM ${table}`,
    `COPY ${table} TO STDOUT`,
  ];
  const r = await server.psqlRun(commands[0]!, commands.slice(1).flatMap((c) => ['-c', c]), { ...PATIENT, port, input: COPY_IN, params: libpqParams(setup) });
  return r.stdout;
}

function pgConfig(server: PgServer, setup: Setup, port: number): pg.ClientConfig {
  return {
    host: '127.0.0.1',
    port,
    user: server.superuser,
    password: server.password,
    database: 'postgres',
    application_name: 'pgscope-traffic',
    ...(setup.tls ? { ssl: { rejectUnauthorized: false } } : {}),
  };
}

/** node-postgres: parameterised DDL-free INSERT and SELECT, a named statement, NULL, an error, a transaction. */
async function pgWorkload(server: PgServer, setup: Setup, port: number, table: string): Promise<unknown[]> {
  const client = new pg.Client(pgConfig(server, setup, port));
  await client.connect();
  const out: unknown[] = [];
  try {
    await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text, amount numeric, tags text[])`);
    for (let i = 1; i <= 5; i++) {
      const r = await client.query(`INSERT INTO ${table} (id, label, amount, tags) VALUES ($1, $2, $3, $4) RETURNING id, label`, [i, i === 3 ? null : `label ${i}`, (i * 1.5).toFixed(2), [`t${i}`, 'x']]);
      out.push(r.rows);
    }
    out.push((await client.query(`SELECT id, label, amount, tags FROM ${table} WHERE id >= $1 AND label IS DISTINCT FROM $2 ORDER BY id`, [2, 'label 4'])).rows);
    for (const min of [1, 4]) out.push((await client.query({ name: `count_${table}`, text: `SELECT count(*)::int AS n FROM ${table} WHERE id >= $1`, values: [min] })).rows);
    await assert.rejects(client.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]), /duplicate key value/);
    await client.query('BEGIN');
    await client.query(`UPDATE ${table} SET amount = amount * $1 WHERE id = $2`, [10, 5]);
    await client.query('COMMIT');
    out.push((await client.query(`SELECT sum(amount)::text AS total, $1::text AS echo FROM ${table}`, ['héllo, wörld'])).rows);
  } finally {
    await client.end();
  }
  return out;
}

/** postgres.js: extended protocol with parameters, then a pipelined batch on one connection. */
async function postgresJsWorkload(server: PgServer, setup: Setup, port: number, table: string): Promise<unknown[]> {
  const sql = postgres({
    host: '127.0.0.1',
    port,
    user: server.superuser,
    pass: server.password,
    database: 'postgres',
    max: 1,
    fetch_types: false,
    ssl: setup.tls ? 'require' : false,
    onnotice: () => {},
    connection: { application_name: 'pgscope-traffic-js' },
  });
  const out: unknown[] = [];
  try {
    await sql`CREATE TABLE ${sql(table)} (id int PRIMARY KEY, v text)`;
    await sql`INSERT INTO ${sql(table)} ${sql([1, 2, 3].map((id) => ({ id, v: `value ${id}` })))}`;
    // Each statement once, so that postgres.js knows them (Parse + Describe, then Bind/Execute)…
    const q = (id: number) => sql`SELECT id, v, ${id}::int * 100 AS x FROM ${sql(table)} WHERE id = ${id}`;
    for (const id of [1, 2, 3]) out.push([...(await q(id))]);
    // …and then all three at once: Bind/Execute/Sync ×3 in one write, answers in order.
    const batch = await Promise.all([q(3), q(1), q(2), sql`SELECT count(*)::int AS n FROM ${sql(table)}`]);
    out.push(batch.map((r) => [...r]));
  } finally {
    await sql.end({ timeout: 5 });
  }
  return out;
}

/** The largest number of Sync messages the client sent in one forwarded batch of one connection. */
function maxSyncsPerBatch(lines: string[]): number {
  let max = 0;
  let n = 0;
  for (const l of lines) {
    if (/client -> server: "S" = Sync/.test(l)) n++;
    else if (/\^\^ \d+ bytes forwarded/.test(l)) {
      max = Math.max(max, n);
      n = 0;
    }
  }
  return max;
}

// ---------------------------------------------------------------- the tests

for (const setup of SETUPS) {
  describe(`ordinary traffic through pgscope: ${setup.name}`, () => {
    let server: PgServer;
    let proxy: Pgscope;

    before(async () => {
      [server] = (await startPgServers([{ version: setup.version, auth: setup.auth, ssl: setup.tls }])) as [PgServer];
      proxy = await pgscopeFor(server);
    }, T);

    after(async () => {
      await proxy?.stop();
      await server?.stop();
    }, T);

    it('psql: DDL, INSERT, COPY FROM STDIN, SELECT, COPY TO STDOUT give the same output as directly', T, async () => {
      const direct = await psqlWorkload(server, setup, server.port, 'fruit_direct');
      const proxied = await psqlWorkload(server, setup, proxy.port, 'fruit_proxied');
      assert.match(direct, /^1\|apple\|1\.25$/m, `direct output:\n${direct}`);
      assert.match(direct, /^id,name,price$/m);
      assert.match(direct, /^5\|17\.49\|n\/a,n\/a,cheap,n\/a,n\/a$/m);
      assert.equal(proxied, direct);
      const copied = await server.psql('SELECT count(*) FROM fruit_proxied WHERE id IN (3, 4, 5)');
      assert.equal(copied, '3', 'COPY FROM STDIN through pgscope reached the table');

      const conn = await waitConnEnd(proxy.output, /CREATE TABLE fruit_proxied/);
      const log = proxy.output();
      const lines = connLines(log, conn).join('\n');
      for (const re of [
        /client -> server: "Q" = Query/,
        /server -> client: "T" = RowDescription/,
        /server -> client: "D" = DataRow/,
        /server -> client: "G" = CopyInResponse/,
        /client -> server: "d" = CopyData/,
        /"3\\tplum\\t0\.75\\n/,
        /client -> server: "c" = CopyDone/,
        /server -> client: "H" = CopyOutResponse/,
        /server -> client: "d" = CopyData/,
        /"id,name,price\\n" = COPY data/,
        /server -> client: "c" = CopyDone/,
        /server -> client: "C" = CommandComplete .*"COPY 3\\x00"/,
        /server -> client: "Z" = ReadyForQuery/,
        setup.auth === 'md5' ? /server -> client: "R" = AuthenticationMD5Password/ : /server -> client: "R" = AuthenticationSASL/,
      ]) {
        assert.match(lines, re, `connection #${conn} has no line matching ${re}`);
      }
      if (setup.tls) {
        assert.match(lines, /TLSv1\.[23]\/\S+ connection established with client/);
        assert.match(lines, /TLSv1\.[23]\/\S+ connection established with server/);
      }
      assertCleanLog(log);
    });

    it('node-postgres: parameterised INSERT and SELECT ($1 …), named statements, an error, a transaction', T, async () => {
      const direct = await pgWorkload(server, setup, server.port, 'pg_direct');
      const proxied = await pgWorkload(server, setup, proxy.port, 'pg_proxied');
      assert.deepEqual(proxied, direct);
      assert.deepEqual((direct[5] as unknown[])[0], { id: 2, label: 'label 2', amount: '3.00', tags: ['t2', 'x'] });

      const conn = await waitConnEnd(proxy.output, /INSERT INTO pg_proxied/);
      const log = proxy.output();
      const lines = connLines(log, conn).join('\n');
      for (const re of [
        /client -> server: "P" = Parse/,
        /client -> server: "B" = Bind/,
        /client -> server: "D" = Describe/,
        /client -> server: "E" = Execute/,
        /client -> server: "S" = Sync/,
        /server -> client: "1" = ParseComplete/,
        /server -> client: "2" = BindComplete/,
        /server -> client: "D" = DataRow/,
        /server -> client: "E" = ErrorResponse/,
        /"23505\\x00" = SQLSTATE 23505/,
        /"label 1"/,
      ]) {
        assert.match(lines, re, `connection #${conn} has no line matching ${re}`);
      }
      assertCleanLog(log);
    });

    it('postgres.js: extended protocol with ParameterDescription, and a pipelined batch', T, async () => {
      const direct = await postgresJsWorkload(server, setup, server.port, 'js_direct');
      const proxied = await postgresJsWorkload(server, setup, proxy.port, 'js_proxied');
      assert.deepEqual(proxied, direct);
      const batch = direct[3] as { id?: number; n?: number }[][];
      assert.deepEqual(
        batch.map((r) => r[0]!.id ?? r[0]!.n),
        [3, 1, 2, 3],
      );

      const conn = await waitConnEnd(proxy.output, /js_proxied/);
      const log = proxy.output();
      const lines = connLines(log, conn);
      const text = lines.join('\n');
      for (const re of [/client -> server: "P" = Parse/, /client -> server: "B" = Bind/, /client -> server: "H" = Flush/, /server -> client: "t" = ParameterDescription/, /server -> client: "D" = DataRow/]) {
        assert.match(text, re, `connection #${conn} has no line matching ${re}`);
      }
      // The three known statements go out together (Bind/Execute/Sync ×3 before any answer).
      assert.ok(maxSyncsPerBatch(lines) >= 3, `the pipelined batch reached pgscope as one write with 3 or more Syncs (max seen: ${maxSyncsPerBatch(lines)})`);
      assertCleanLog(log);
    });
  });
}

describe('--send-chunking byte', () => {
  let server: PgServer;
  let proxy: Pgscope;
  const setup: Setup = { name: 'PostgreSQL 15, trust', version: 15, auth: 'trust', tls: false };

  before(async () => {
    [server] = (await startPgServers([{ version: 15, auth: 'trust' }])) as [PgServer];
    proxy = await pgscopeFor(server, ['--send-chunking', 'byte']);
  }, T);

  after(async () => {
    await proxy?.stop();
    await server?.stop();
  }, T);

  it('a psql session (queries, NOTICE, NOTIFY, COPY out and in, an error) completes as directly', T, async () => {
    const direct = await psqlSimpleSession(server, server.port, PATIENT);
    const proxied = await psqlSimpleSession(server, proxy.port, PATIENT);
    const noPid = (out: string): string => out.replace(/server process with PID \d+/g, 'server process with PID N');
    assert.equal(noPid(proxied.stdout), noPid(direct.stdout));
    assert.equal(proxied.code, direct.code);
    const a = await psqlWorkload(server, setup, server.port, 'bytes_direct');
    const b = await psqlWorkload(server, setup, proxy.port, 'bytes_proxied');
    assert.equal(b, a);
    assertCleanLog(proxy.output());
  });

  it('a 300 kB COPY TO STDOUT arrives whole, byte by byte', T, async () => {
    const sql = "COPY (SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 1200) AS g) TO STDOUT";
    const direct = await server.psqlRun(sql, [], { ...PATIENT, params: { sslmode: 'disable' } });
    const proxied = await server.psqlRun(sql, [], { ...PATIENT, port: proxy.port, params: { sslmode: 'disable' } });
    assert.ok(direct.stdoutBytes.length > 300_000);
    assert.ok(proxied.stdoutBytes.equals(direct.stdoutBytes), 'same bytes through pgscope');
  });
});
