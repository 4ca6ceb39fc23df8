/**
 * `error SQLSTATE` fault rules make the server fail the request too, so that client and
 * server agree: in a transaction block the server's transaction is aborted (the next
 * statement gets 25P02, nothing is committed), outside one the statement has no effect.
 * One PostgreSQL 15 server, pgscope as a library (startProxy) in front of it, and:
 *   - psql (simple protocol) in and out of a transaction block;
 *   - node-postgres (extended protocol, parameterised queries) in and out of a block, with
 *     the server's own view of the aborted transaction (pg_stat_activity);
 *   - postgres.js (extended protocol, named prepared statements): a retry loop that
 *     succeeds after one injected 40001, first preparing, then with the statement prepared;
 *   - a raw client pipelining Parse/Bind/Execute groups (a Sync each, or one Sync for all),
 *     the fault on the second Execute: the exact answer sequence, the same as the server's
 *     for a real error in that place;
 *   - psql COPY FROM STDIN with an injected error on the data.
 * What was committed is always read over a second connection straight to the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import postgres from 'postgres';
import { backendsNamed, bareNames, endQuietly, faultProxy, names, PLAIN, pgClient, rejection, ruleLines, type FaultProxy } from '../helpers/faults-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { errorFields, fe, RawClient, type BackendMessage } from '../helpers/raw-client.js';
import { waitUntil } from '../helpers/traffic-util.js';

const T = { timeout: 60_000 };
const SERIALIZE = 'could not serialize access due to concurrent update';

// Rule ids follow this order (1-based).
const RULES = [
  'error 40001 when sql contains "psql-auto-marker"',
  'error 40001 when sql contains "psql-tx-marker"',
  'error 40001 when sql contains "pg-auto-marker"',
  'error 40001 when sql contains "pg-tx-marker"',
  'error 40001 when Execute and sql contains "pipe-marker"',
];

let server: PgServer;
let fp: FaultProxy;
let direct: pg.Client;

before(async () => {
  server = await startPgServer({ auth: 'trust' });
  fp = await faultProxy(server, RULES);
  direct = await pgClient(server.port);
  await direct.query(`create table psql_t (id int primary key, note text);
    create table pg_t (id int primary key, note text);
    create table pipe_t (id int primary key, note text);
    create table acct (id int primary key, bal int not null);
    insert into acct values (1, 100), (2, 100);
    create table copy_t (id int, note text)`);
}, { timeout: 120_000 });

after(async () => {
  await endQuietly(direct);
  await fp?.proxy.close();
  await server?.stop();
});

const ids = async (table: string): Promise<number[]> => (await direct.query<{ id: number }>(`select id from ${table} order by id`)).rows.map((r) => r.id);

/** psql through pgscope, every -c its own Query, going on after errors. */
function psql(commands: string[], input?: string) {
  return server.psqlRun(commands[0]!, ['-v', 'ON_ERROR_STOP=0', ...commands.slice(1).flatMap((c) => ['-c', c])], { port: fp.proxy.port, params: PLAIN, allowFailure: true, timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
}

describe('psql (simple protocol)', () => {
  it('outside a transaction block: the client gets 40001 and the statement has no effect on the server', T, async () => {
    const r = await psql(["insert into psql_t values (1, 'psql-auto-marker')", "insert into psql_t values (2, 'plain')", "select 'after'"]);
    assert.equal(r.stdout, 'after\n', r.stderr);
    assert.match(r.stderr, new RegExp(`^ERROR:  ${SERIALIZE}\\nDETAIL:  Injected by pgscope: fault rule 1 \\(error 40001 when sql contains "psql-auto-marker"\\)\\.\\n$`), r.stderr);
    assert.deepEqual(await ids('psql_t'), [2]);
    assert.ok(ruleLines(fp.statuses, 1).length >= 1, fp.statuses.join('\n'));
  });

  it('in a transaction block: the server aborts the transaction (25P02 next), COMMIT rolls back, nothing is committed', T, async () => {
    const r = await psql(['begin', "insert into psql_t values (10, 'in tx')", "insert into psql_t values (11, 'psql-tx-marker')", 'select 1', 'commit', "select 'after', count(*) from psql_t where id >= 10"]);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('ERROR:'));
    assert.deepEqual(errors, [`ERROR:  ${SERIALIZE}`, 'ERROR:  current transaction is aborted, commands ignored until end of transaction block'], r.stderr);
    assert.equal(r.stdout, 'after|0\n', r.stderr);
    assert.deepEqual((await ids('psql_t')).filter((i) => i >= 10), []);
  });
});

describe('node-postgres (extended protocol, parameters)', () => {
  it('outside a transaction block: 40001 with the rule in Detail; no row on the server; the next query works', T, async () => {
    const c = await pgClient(fp.proxy.port, { application_name: 'faults-pg-auto' });
    try {
      const e = await rejection(c.query("insert into pg_t values ($1, 'pg-auto-marker')", [20]));
      assert.equal(e.code, '40001', String(e));
      assert.equal(e.message, SERIALIZE);
      assert.equal(e.detail, 'Injected by pgscope: fault rule 3 (error 40001 when sql contains "pg-auto-marker").');
      assert.deepEqual((await c.query('select $1::int + 1 as v', [41])).rows, [{ v: 42 }]);
      assert.deepEqual((await c.query("insert into pg_t values ($1, 'plain') returning id", [21])).rows, [{ id: 21 }]);
      assert.deepEqual(await ids('pg_t'), [21]);
    } finally {
      await endQuietly(c);
    }
  });

  it('in a transaction block: the server holds an aborted transaction (pg_stat_activity), then 25P02, ROLLBACK; nothing committed', T, async () => {
    const c = await pgClient(fp.proxy.port, { application_name: 'faults-pg-tx' });
    try {
      await c.query('begin');
      await c.query("insert into pg_t values ($1, 'in tx')", [30]);
      const e = await rejection(c.query("insert into pg_t values ($1, 'pg-tx-marker')", [31]));
      assert.equal(e.code, '40001', String(e));
      // The server's side of it, seen from another connection: its transaction is aborted.
      // (node-postgres reports the error on ErrorResponse; the server gets to Sync a moment later.)
      let state: string[] = [];
      await waitUntil(
        async () => {
          state = (await backendsNamed(direct, 'faults-pg-tx')).map((b) => b.state ?? '');
          return state[0] === 'idle in transaction (aborted)';
        },
        15_000,
        'the server to show the transaction aborted',
      ).catch((e: Error) => assert.fail(`${e.message}; pg_stat_activity says ${JSON.stringify(state)}`));
      const again = await rejection(c.query('select $1::int', [1]));
      assert.equal(again.code, '25P02');
      const rb = await c.query('commit');
      assert.equal(rb.command, 'ROLLBACK');
      assert.deepEqual((await c.query('select $1::text as v', ['ok'])).rows, [{ v: 'ok' }]);
      assert.deepEqual((await ids('pg_t')).filter((i) => i >= 30), []);
    } finally {
      await endQuietly(c);
    }
  });
});

describe('postgres.js (extended protocol, named prepared statements)', () => {
  it('a retry loop succeeds after one injected 40001, whether the statement was being prepared or already prepared; applied exactly once each', T, async () => {
    const sql = postgres({ host: '127.0.0.1', port: fp.proxy.port, user: 'postgres', database: 'postgres', max: 1, fetch_types: false, ssl: false, prepare: true, onnotice: () => {}, connect_timeout: 30 });
    const transfer = async (amount: number): Promise<{ attempts: number; failures: string[]; seenAtFailure: string[] }> => {
      const failures: string[] = [];
      const seenAtFailure: string[] = [];
      for (let attempts = 1; ; attempts++) {
        try {
          await sql.begin(async (tx) => {
            await tx`update acct set bal = bal - ${amount} where id = ${1}`;
            await tx`update acct set bal = bal + ${amount} where id = ${2} /* pgjs-transfer-marker */`;
          });
          return { attempts, failures, seenAtFailure };
        } catch (e) {
          const err = e as { code?: string; message: string };
          failures.push(`${err.code}: ${err.message}`);
          seenAtFailure.push((await direct.query<{ b: string }>("select string_agg(bal::text, ',' order by id) as b from acct")).rows[0]!.b);
          if (err.code !== '40001' || attempts >= 3) throw e;
        }
      }
    };
    try {
      // 1. The first time: the statements are parsed (named) in this attempt; the Parse fails.
      const id1 = fp.proxy.addFault('error 40001 when sql contains "pgjs-transfer-marker" once');
      const first = await transfer(10);
      assert.deepEqual(first, { attempts: 2, failures: [`40001: ${SERIALIZE}`], seenAtFailure: ['100,100'] });
      assert.equal((await direct.query<{ b: string }>("select string_agg(bal::text, ',' order by id) as b from acct")).rows[0]!.b, '90,110');
      fp.proxy.removeFault(id1);
      // 2. Prepared already: only Bind/Execute are sent; the Bind fails, the statement survives.
      const id2 = fp.proxy.addFault('error 40001 when sql contains "pgjs-transfer-marker" times 1');
      const second = await transfer(5);
      assert.deepEqual(second, { attempts: 2, failures: [`40001: ${SERIALIZE}`], seenAtFailure: ['90,110'] });
      assert.equal((await direct.query<{ b: string }>("select string_agg(bal::text, ',' order by id) as b from acct")).rows[0]!.b, '85,115');
      const info = fp.proxy.faults().find((f) => f.id === id2)!;
      assert.equal(info.hits, 1);
      fp.proxy.removeFault(id2);
      // 3. And once more without faults: the prepared statements still work.
      assert.deepEqual(await transfer(1), { attempts: 1, failures: [], seenAtFailure: [] });
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('a raw client pipelining Parse/Bind/Execute (fault on the second Execute)', () => {
  let c: RawClient;
  let d: RawClient;
  before(async () => {
    c = await RawClient.connect(fp.proxy.port);
    await c.startup({ user: 'postgres', database: 'postgres' });
    // The same pipelines straight to the server, with a real error in the fault's place.
    d = await RawClient.connect(server.port);
    await d.startup({ user: 'postgres', database: 'postgres' });
  });
  after(async () => {
    await c?.terminate();
    await d?.terminate();
  });

  const group = (sql: string): Buffer[] => [fe.parse('', sql), fe.bind('', ''), fe.execute('')];
  const read = async (cl: RawClient, n: number): Promise<BackendMessage[][]> => {
    const out: BackendMessage[][] = [];
    for (let i = 0; i < n; i++) out.push(await cl.readUntilReady());
    return out;
  };

  it('a Sync after each group: the group with the fault gets ParseComplete, BindComplete, ErrorResponse, ReadyForQuery(I); the others run', T, async () => {
    c.send(...group("insert into pipe_t values (1, 'a')"), fe.sync(), ...group("insert into pipe_t values (2, 'pipe-marker')"), fe.sync(), ...group("insert into pipe_t values (3, 'c') returning id"), fe.sync());
    const got = await read(c, 3);
    assert.deepEqual(got.map(names), [
      ['ParseComplete', 'BindComplete', 'CommandComplete', 'ReadyForQuery(I)'],
      ['ParseComplete', 'BindComplete', 'ErrorResponse(40001)', 'ReadyForQuery(I)'],
      ['ParseComplete', 'BindComplete', 'DataRow', 'CommandComplete', 'ReadyForQuery(I)'],
    ]);
    const err = errorFields(got[1]![2]!.body);
    assert.equal(err['S'], 'ERROR');
    assert.equal(err['M'], SERIALIZE);
    assert.equal(err['D'], 'Injected by pgscope: fault rule 5 (error 40001 when Execute and sql contains "pipe-marker").');
    assert.deepEqual(await ids('pipe_t'), [1, 3]);
    // What the server itself answers with a real error there.
    d.send(...group('select 1 where false'), fe.sync(), ...group('select 1/(random()::int * 0)'), fe.sync(), ...group('select 3'), fe.sync());
    assert.deepEqual((await read(d, 3)).map(bareNames), got.map(bareNames));
    // The connection goes on.
    assert.deepEqual(names(await c.roundTrip(...group('select 42'), fe.sync())), ['ParseComplete', 'BindComplete', 'DataRow', 'CommandComplete', 'ReadyForQuery(I)']);
  });

  it('three groups before one Sync: the error ends the implicit transaction, so the first group is rolled back too; the third is skipped', T, async () => {
    c.send(...group("insert into pipe_t values (10, 'a')"), ...group("insert into pipe_t values (20, 'pipe-marker')"), ...group("insert into pipe_t values (30, 'c')"), fe.sync());
    const got = await c.readUntilReady();
    assert.deepEqual(names(got), ['ParseComplete', 'BindComplete', 'CommandComplete', 'ParseComplete', 'BindComplete', 'ErrorResponse(40001)', 'ReadyForQuery(I)']);
    assert.deepEqual((await ids('pipe_t')).filter((i) => i >= 10), []);
    d.send(...group('select 1 where false'), ...group('select 1/(random()::int * 0)'), ...group('select 3'), fe.sync());
    assert.deepEqual(bareNames(await d.readUntilReady()), bareNames(got));
    assert.deepEqual(names(await c.roundTrip(...group("insert into pipe_t values (40, 'd')"), fe.sync())), ['ParseComplete', 'BindComplete', 'CommandComplete', 'ReadyForQuery(I)']);
    assert.deepEqual((await ids('pipe_t')).filter((i) => i >= 10), [40]);
  });

  it('in a transaction block: ReadyForQuery(E) after the fault, 25P02 for what follows, COMMIT rolls back; nothing committed', T, async () => {
    assert.deepEqual(names(await c.roundTrip(fe.query('begin'))), ['CommandComplete', 'ReadyForQuery(T)']);
    c.send(...group("insert into pipe_t values (100, 'a')"), fe.sync(), ...group("insert into pipe_t values (200, 'pipe-marker')"), fe.sync(), ...group("insert into pipe_t values (300, 'c')"), fe.sync());
    const got = await read(c, 3);
    assert.deepEqual(got.map(names), [
      ['ParseComplete', 'BindComplete', 'CommandComplete', 'ReadyForQuery(T)'],
      ['ParseComplete', 'BindComplete', 'ErrorResponse(40001)', 'ReadyForQuery(E)'],
      ['ErrorResponse(25P02)', 'ReadyForQuery(E)'],
    ]);
    // Several groups before one Sync, still in the aborted block.
    c.send(...group('select 1'), ...group("select 'pipe-marker'"), fe.sync());
    assert.deepEqual(names(await c.readUntilReady()), ['ErrorResponse(25P02)', 'ReadyForQuery(E)']);
    assert.deepEqual(names(await c.roundTrip(fe.query('commit'))), ['CommandComplete', 'ReadyForQuery(I)']);
    assert.deepEqual((await ids('pipe_t')).filter((i) => i >= 100), []);
    // The server does the same with a real error.
    await d.roundTrip(fe.query('begin'));
    d.send(...group('select 1 where false'), fe.sync(), ...group('select 1/(random()::int * 0)'), fe.sync(), ...group('select 3'), fe.sync());
    assert.deepEqual((await read(d, 3)).map(bareNames), got.map(bareNames));
    await d.roundTrip(fe.query('rollback'));
    // A block whose fault comes in a pipeline of several groups and one Sync.
    await c.roundTrip(fe.query('begin'));
    c.send(...group("insert into pipe_t values (400, 'a')"), ...group("insert into pipe_t values (500, 'pipe-marker')"), fe.sync());
    assert.deepEqual(names(await c.readUntilReady()), ['ParseComplete', 'BindComplete', 'CommandComplete', 'ParseComplete', 'BindComplete', 'ErrorResponse(40001)', 'ReadyForQuery(E)']);
    assert.deepEqual(names(await c.roundTrip(fe.query('rollback'))), ['CommandComplete', 'ReadyForQuery(I)']);
    assert.deepEqual((await ids('pipe_t')).filter((i) => i >= 100), []);
    // And then a statement works.
    assert.deepEqual(names(await c.roundTrip(...group('select 7'), fe.sync())), ['ParseComplete', 'BindComplete', 'DataRow', 'CommandComplete', 'ReadyForQuery(I)']);
    // Only Executes match (the rule says Execute): five of them carried the marker in this
    // file (one in the aborted block, where the server's own 25P02 came first).
    const info = fp.proxy.faults().find((f) => f.id === 5)!;
    assert.deepEqual({ matches: info.matches, hits: info.hits }, { matches: 5, hits: 5 }, JSON.stringify(info));
  });
});

describe('COPY FROM STDIN', () => {
  it('an injected error on the data ends the COPY on the server too: no row copied, the next command works', T, async () => {
    const id = fp.proxy.addFault('error 40001 when client and CopyData once');
    try {
      const r = await psql(['copy copy_t from stdin', "select 'after', count(*) from copy_t"], '1\tone\n2\ttwo\n3\tthree\n');
      assert.match(r.stderr, new RegExp(`ERROR:  ${SERIALIZE}`), r.stderr);
      assert.equal(r.stdout, 'after|0\n', r.stderr);
      assert.equal((await direct.query('select count(*)::int as n from copy_t')).rows[0].n, 0);
      assert.equal(fp.proxy.faults().find((f) => f.id === id)!.hits, 1);
    } finally {
      fp.proxy.removeFault(id);
    }
  });
});
