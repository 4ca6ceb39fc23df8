/**
 * Replication through the codec, against real servers: pg_receivewal (physical) and
 * pg_recvlogical with pgoutput protocol versions 1 to 4 (logical) talk to PostgreSQL
 * through a recording tap; the recorded bytes are replayed into a fresh Conversation,
 * which must decode every message without an error or an unparsed byte, and show the
 * replication messages the workload produces.
 *
 * PGSCOPE_CAPTURE_FIXTURES=1 also writes test/fixtures/replication-pgoutput-v4.json (the
 * PostgreSQL 18, protocol 4 session) and test/fixtures/replication-physical.json.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Conversation } from '../../src/protocol/conversation.js';
import type { DecodedMessage, Direction, Span } from '../../src/protocol/types.js';
import { cleanEnv, clientBin, startPgServer, type PgServer } from '../helpers/pg-server.js';
import { run } from '../helpers/proc.js';
import { startTap, type Tap } from '../helpers/tap.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const CAPTURE = process.env['PGSCOPE_CAPTURE_FIXTURES'] === '1';
const END_MARKER = 'pgscope-end';

type Chunk = { dir: Direction; bytes: Buffer };

// ---------------------------------------------------------------- analysis

interface Analysis {
  messages: DecodedMessage[];
  /** Problems: error events, messages with an error, 'unparsed' spans or events. */
  problems: string[];
  /** Names nested in CopyData: 'XLogData', 'PrimaryKeepalive', … and pgoutput names. */
  kinds: Set<string>;
  /** TupleData column kinds seen ('n', 'u', 't', 'b') and tuple markers ('N', 'K', 'O'). */
  columnKinds: Set<string>;
  tupleMarkers: Set<string>;
  /** pgoutput changes (Insert/Update/Delete/…) that carried a streamed xid. */
  streamedChanges: number;
  /** Stream Abort messages with the protocol 4 parallel fields (abort LSN). */
  abortsWithLsn: number;
}

function walk(spans: Span[], f: (s: Span) => void): void {
  for (const s of spans) {
    f(s);
    if (s.children) walk(s.children, f);
  }
}

function analyze(chunks: Chunk[]): Analysis {
  const conv = new Conversation();
  const a: Analysis = { messages: [], problems: [], kinds: new Set(), columnKinds: new Set(), tupleMarkers: new Set(), streamedChanges: 0, abortsWithLsn: 0 };
  for (const c of chunks) {
    for (const ev of conv.push(c.dir, c.bytes)) {
      if (ev.kind === 'error') a.problems.push(`error event: ${ev.error.message}`);
      else if (ev.kind === 'unparsed') a.problems.push(`unparsed ${ev.direction} bytes at ${ev.offset}: ${ev.reason}`);
      if (ev.kind !== 'message') continue;
      const m = ev.message;
      a.messages.push(m);
      if (m.error) a.problems.push(`${m.name} ${m.sub.join('/')}: ${m.error.message}`);
      walk(m.spans, (s) => {
        if (s.flag === 'unparsed') a.problems.push(`${m.name} ${m.sub.join('/')}: unparsed span at ${s.start}: ${s.meaning ?? ''}`);
      });
      for (const k of m.sub) a.kinds.add(k);
      if (m.sub[0] !== 'XLogData' || m.sub.length < 2) continue;
      const data = m.spans.find((s) => s.name === 'WAL data');
      if (!data?.children) continue;
      walk(data.children, (s) => {
        if (s.name === 'kind') a.columnKinds.add(String(s.value));
        if (s.name === 'tuple kind') a.tupleMarkers.add(String(s.value));
      });
      const top = data.children;
      if (['Insert', 'Update', 'Delete', 'Truncate', 'Relation', 'Type', 'Message'].includes(m.sub[1]!) && top.some((s) => s.name === 'xid')) a.streamedChanges++;
      if (m.sub[1] === 'StreamAbort' && top.some((s) => s.name === 'abort LSN')) a.abortsWithLsn++;
    }
  }
  return a;
}

function assertClean(a: Analysis, what: string): void {
  assert.ok(a.messages.length > 0, `${what}: no messages decoded`);
  assert.deepEqual(a.problems.slice(0, 10), [], `${what}: ${a.problems.length} problem(s)`);
}

function saveFixture(name: string, description: string, server: string, client: string, chunks: Chunk[]): void {
  const body = { description, server, client, chunks: chunks.map((c) => ({ dir: c.dir, hex: c.bytes.toString('hex') })) };
  writeFileSync(join(FIXTURES, `${name}.json`), JSON.stringify(body, null, 1) + '\n');
}

// ---------------------------------------------------------------- helpers

async function clientVersion(tool: string): Promise<string> {
  return (await run(clientBin(tool), ['--version'], { env: cleanEnv() })).stdout.trim();
}

/** Poll until cond() holds, or fail after timeoutMs. */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let delay = 10;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

function backendBytes(tap: Tap): Buffer {
  return Buffer.concat(tap.chunks.filter((c) => c.dir === 'backend').map((c) => c.bytes));
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('close', (code) => r(code)));
}

/** A libpq conninfo to `port` without TLS or GSS negotiation (plain, readable bytes). */
function conninfo(port: number, extra = ''): string {
  return `host=127.0.0.1 port=${port} user=postgres sslmode=disable gssencmode=disable ${extra}`.trim();
}

// ---------------------------------------------------------------- logical

/** The tables, the enum and the publication the logical workload uses. */
const SCHEMA = [
  "CREATE TYPE mood AS ENUM ('happy', 'sad')",
  'CREATE TABLE items (id int PRIMARY KEY, name varchar(64), mood mood, doc text)',
  'ALTER TABLE items ALTER COLUMN doc SET STORAGE EXTERNAL',
  'CREATE TABLE audit (at timestamptz, what text)',
  'ALTER TABLE audit REPLICA IDENTITY FULL',
  // Not published: a large value here fills the reorder buffer past
  // logical_decoding_work_mem, so the transaction is streamed (protocol 2+ with
  // streaming) while little reaches the wire.
  'CREATE TABLE ballast (v text)',
  'ALTER TABLE ballast ALTER COLUMN v SET STORAGE EXTERNAL',
  'CREATE PUBLICATION pub FOR TABLE items, audit',
];

const BALLAST = "INSERT INTO ballast SELECT string_agg(md5(g::text), '') FROM generate_series(1, 4000) g";

/**
 * Statements of the workload; an array is one psql session (one -c each). Each produces
 * some pgoutput message kinds (in comments).
 */
const WORKLOAD: (string | string[] | 'live-abort')[] = [
  // Type (enum), Relation, Insert with a TOASTed text value; Begin, Commit.
  "INSERT INTO items VALUES (1, 'widget', 'happy', repeat('0123456789abcdef', 200))",
  // Update leaving the TOASTed column unchanged: 'u'; a NULL column: 'n'.
  "UPDATE items SET name = 'gadget', mood = NULL WHERE id = 1",
  // Update of the key: old key 'K'.
  'UPDATE items SET id = 10 WHERE id = 1',
  // REPLICA IDENTITY FULL: old tuple 'O' for Update and Delete.
  "INSERT INTO audit VALUES ('2024-05-01 12:00:00+00', 'x')",
  "UPDATE audit SET what = 'y'",
  'DELETE FROM audit',
  // Delete by key: 'K'.
  'DELETE FROM items WHERE id = 10',
  // Logical decoding messages, transactional and not.
  "SELECT pg_logical_emit_message(true, 'pgscope', 'transactional hello')",
  "SELECT pg_logical_emit_message(false, 'pgscope', 'non-transactional hello')",
  // Origin: a transaction replayed from another node.
  [
    "SELECT pg_replication_origin_create('pgscope_origin')",
    "SELECT pg_replication_origin_session_setup('pgscope_origin')",
    "BEGIN; SELECT pg_replication_origin_xact_setup('0/ABCDEF', '2024-05-01 12:00:00+00'); INSERT INTO items VALUES (2, 'from elsewhere', 'sad', 'o'); COMMIT",
  ],
  // Streamed and committed: Stream Start, Insert with xid, Stream Stop, Stream Commit.
  `BEGIN; INSERT INTO items VALUES (5, 'streamed', 'happy', 's'); ${BALLAST}; INSERT INTO items VALUES (6, 'streamed', 'sad', 's'); COMMIT`,
  // Streamed while still open, then rolled back to a savepoint and rolled back: Stream
  // Abort of the subtransaction and of the transaction (with abort LSN and time for
  // streaming = parallel). Done live (see liveAbort): PostgreSQL 18 skips decoding a
  // transaction that has already aborted by the time it is decoded.
  'live-abort',
  // Two-phase (protocol 3+, two_phase on): Begin Prepare, Prepare, Commit Prepared …
  "BEGIN; INSERT INTO items VALUES (3, 'prepared', 'happy', 'p'); PREPARE TRANSACTION 'pgscope-1'",
  "COMMIT PREPARED 'pgscope-1'",
  // … Rollback Prepared …
  "BEGIN; INSERT INTO items VALUES (4, 'rolled back', 'sad', 'r'); PREPARE TRANSACTION 'pgscope-2'",
  "ROLLBACK PREPARED 'pgscope-2'",
  // … and Stream Prepare for a streamed prepared transaction.
  `BEGIN; INSERT INTO items VALUES (8, 'streamed prepared', 'happy', 'sp'); ${BALLAST}; PREPARE TRANSACTION 'pgscope-3'`,
  "COMMIT PREPARED 'pgscope-3'",
  // Truncate with CASCADE and RESTART IDENTITY.
  'TRUNCATE audit, items RESTART IDENTITY CASCADE',
  // The end: the recorder stops once this arrives.
  `SELECT pg_logical_emit_message(false, '${END_MARKER}', 'done')`,
];

async function runWorkload(server: PgServer, recorders: Recorder[]): Promise<void> {
  for (const step of WORKLOAD) {
    if (step === 'live-abort') {
      await liveAbort(server, recorders);
      continue;
    }
    const cmds = typeof step === 'string' ? [step] : step;
    await server.psql(cmds[0]!, cmds.slice(1).flatMap((c) => ['-c', c]));
  }
}

/**
 * A transaction that is streamed while it is still open, then rolled back to a savepoint
 * (Stream Abort: xid, subtransaction xid) and rolled back (Stream Abort: xid, xid).
 */
async function liveAbort(server: PgServer, recorders: Recorder[]): Promise<void> {
  const client = new pg.Client({ host: server.host, port: server.port, user: server.superuser, password: server.password, database: 'postgres', application_name: 'pgscope-live-abort' });
  await client.connect();
  try {
    await client.query('BEGIN');
    const xid = Number((await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0]!.xid);
    await client.query("INSERT INTO items VALUES (7, 'undone', 'happy', 'a')");
    await client.query('SAVEPOINT s');
    await client.query("INSERT INTO items VALUES (9, 'undone in a subtransaction', 'sad', 'a')");
    await client.query(BALLAST);
    // Flush the WAL (synchronous_commit is off) so the walsenders decode the open transaction.
    await server.psql('CHECKPOINT');
    for (const r of recorders.filter((x) => x.run.options['streaming'])) {
      await waitFor(`protocol ${r.run.proto}: Stream Start of the open transaction ${xid}`, () => streamedXids(r.tap.conversation(0)).has(xid));
    }
    await client.query('ROLLBACK TO SAVEPOINT s');
    await client.query('ROLLBACK');
  } finally {
    await client.end();
  }
}

/** The xids of the Stream Start messages in a recording so far. */
function streamedXids(chunks: Chunk[]): Set<number> {
  const out = new Set<number>();
  for (const m of analyze(chunks).messages) {
    if (m.sub[1] !== 'StreamStart') continue;
    const data = m.spans.find((s) => s.name === 'WAL data');
    const xid = data?.children?.find((s) => s.name === 'xid')?.value;
    if (typeof xid === 'number') out.add(xid);
  }
  return out;
}

interface VersionRun {
  proto: number;
  options: Record<string, string>;
  expect: string[];
}

const ALWAYS = ['XLogData', 'PrimaryKeepalive', 'StandbyStatusUpdate', 'Begin', 'Commit', 'Relation', 'Type', 'Insert', 'Update', 'Delete', 'Truncate', 'Message', 'Origin'];
const STREAMING = ['StreamStart', 'StreamStop', 'StreamCommit', 'StreamAbort'];
const TWO_PHASE = ['BeginPrepare', 'Prepare', 'CommitPrepared', 'RollbackPrepared', 'StreamPrepare'];

function versionRuns(serverMajor: number): VersionRun[] {
  const runs: VersionRun[] = [
    { proto: 1, options: {}, expect: ALWAYS },
    { proto: 2, options: { streaming: 'on' }, expect: [...ALWAYS, ...STREAMING] },
    { proto: 3, options: { streaming: 'on', two_phase: 'on' }, expect: [...ALWAYS, ...STREAMING, ...TWO_PHASE] },
  ];
  if (serverMajor >= 16) runs.push({ proto: 4, options: { streaming: 'parallel', two_phase: 'on', binary: 'true' }, expect: [...ALWAYS, ...STREAMING, ...TWO_PHASE] });
  return runs;
}

interface Recorder {
  run: VersionRun;
  tap: Tap;
  child: ChildProcess;
  stderr: Buffer[];
}

/** Start pg_recvlogical on a slot through a fresh tap. */
async function startRecorder(server: PgServer, slot: string, v: VersionRun): Promise<Recorder> {
  const tap = await startTap({ host: server.host, port: server.port });
  const opts = { proto_version: String(v.proto), publication_names: 'pub', messages: 'true', ...v.options };
  const args = ['-d', conninfo(tap.port, 'dbname=postgres'), `--slot=${slot}`, '--start', '--no-loop', '-s', '1', '-f', '/dev/null', ...Object.entries(opts).flatMap(([k, val]) => ['-o', `${k}=${val}`])];
  const stderr: Buffer[] = [];
  const child = spawn(clientBin('pg_recvlogical'), args, { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (b: Buffer) => stderr.push(b));
  return { run: v, tap, child, stderr };
}

/** Wait for the end marker, stop pg_recvlogical (SIGINT: it closes with Terminate), return the recording. */
async function finishRecorder(r: Recorder): Promise<Chunk[]> {
  const marker = Buffer.from(`${END_MARKER}\0`);
  await waitFor(`the end marker from pg_recvlogical (protocol ${r.run.proto})`, () => {
    if (r.child.exitCode !== null) throw new Error(`pg_recvlogical exited ${r.child.exitCode}: ${Buffer.concat(r.stderr).toString()}`);
    return backendBytes(r.tap).includes(marker);
  });
  r.child.kill('SIGINT');
  await exited(r.child);
  await r.tap.idle();
  return r.tap.conversation(0);
}

/** Stop whatever is left of a recorder (after a failure). */
async function disposeRecorder(r: Recorder): Promise<void> {
  if (r.child.exitCode === null && r.child.signalCode === null) {
    r.child.kill('SIGKILL');
    await exited(r.child);
  }
  await r.tap.close();
}

for (const major of [18, 15] as const) {
  describe(`logical replication: pg_recvlogical with pgoutput against PostgreSQL ${major}`, { timeout: 300_000 }, () => {
    let server: PgServer | undefined;
    const runs = versionRuns(major);
    const recorded = new Map<number, Chunk[]>();
    let client = '';

    before(async () => {
      server = await startPgServer({
        version: major,
        auth: 'trust',
        settings: { wal_level: 'logical', logical_decoding_work_mem: "'64kB'", max_prepared_transactions: '10', max_replication_slots: '10' },
      });
      client = await clientVersion('pg_recvlogical');
      for (const s of SCHEMA) await server.psql(s);
      // One slot per protocol version, created before the workload so each decodes all of it.
      for (const v of runs) {
        await server.psql(`SELECT pg_create_logical_replication_slot('pgscope_v${v.proto}', 'pgoutput', false, ${v.options['two_phase'] === 'on'})`);
      }
      const recorders: Recorder[] = [];
      try {
        for (const v of runs) recorders.push(await startRecorder(server, `pgscope_v${v.proto}`, v));
        const srv = server;
        await waitFor('every pg_recvlogical streaming', async () => Number(await srv.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) === runs.length);
        await runWorkload(server, recorders);
        for (const r of recorders) recorded.set(r.run.proto, await finishRecorder(r));
      } finally {
        for (const r of recorders) await disposeRecorder(r);
      }
    });

    after(async () => {
      await server?.stop();
    });

    for (const v of runs) {
      it(`protocol ${v.proto} (${Object.entries(v.options).map(([k, val]) => `${k}=${val}`).join(', ') || 'defaults'}): every message decodes, the expected kinds appear`, (t) => {
        const a = analyze(recorded.get(v.proto)!);
        assertClean(a, `protocol ${v.proto}`);
        t.diagnostic(`${a.messages.length} messages; kinds: ${[...a.kinds].sort().join(' ')}; column kinds: ${[...a.columnKinds].sort().join('')}; tuple markers: ${[...a.tupleMarkers].sort().join('')}; streamed changes with xid: ${a.streamedChanges}; Stream Aborts with abort LSN: ${a.abortsWithLsn}`);
        const missing = v.expect.filter((k) => !a.kinds.has(k));
        assert.deepEqual(missing, [], `kinds seen: ${[...a.kinds].sort().join(' ')}`);
        // With binary = true every value that has a binary send function comes as 'b'.
        const valueKind = v.options['binary'] === 'true' ? 'b' : 't';
        for (const k of [valueKind, 'n', 'u']) assert.ok(a.columnKinds.has(k), `a TupleData column of kind '${k}' (seen: ${[...a.columnKinds].join(' ')})`);
        for (const k of ['N', 'K', 'O']) assert.ok(a.tupleMarkers.has(k), `a tuple marked '${k}'`);
        if (v.options['streaming']) assert.ok(a.streamedChanges > 0, 'changes inside a stream carry their xid');
        else assert.equal(a.streamedChanges, 0, 'no xid on changes without streaming');
        if (v.options['streaming'] === 'parallel') assert.ok(a.abortsWithLsn > 0, 'Stream Abort carries the abort LSN with streaming = parallel');
        else assert.equal(a.abortsWithLsn, 0);
        if (major === 18 && v.proto === 4 && CAPTURE) {
          saveFixture(
            'replication-pgoutput-v4',
            `pg_recvlogical with pgoutput proto_version 4 (streaming=parallel, two_phase, binary, messages): inserts, updates (unchanged TOASTed value, key change, REPLICA IDENTITY FULL), deletes, logical decoding messages, an origin, streamed commit/abort/prepare, two-phase commit and rollback, truncate`,
            server!.versionString,
            client,
            recorded.get(v.proto)!,
          );
        }
      });
    }
  });
}

// ---------------------------------------------------------------- physical

describe('physical replication: pg_receivewal against PostgreSQL 15', { timeout: 180_000 }, () => {
  let server: PgServer | undefined;
  let tap: Tap | undefined;
  let walDir: string | undefined;
  let child: ChildProcess | undefined;

  before(async () => {
    // A short wal_sender_timeout makes the idle walsender send keepalives (at half of it).
    server = await startPgServer({ version: 15, auth: 'trust', settings: { wal_sender_timeout: "'2s'" } });
    tap = await startTap({ host: server.host, port: server.port });
    walDir = mkdtempSync(join(tmpdir(), 'pgscope-receivewal-'));
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await tap?.close();
    await server?.stop();
    if (walDir) rmSync(walDir, { recursive: true, force: true });
  });

  it('XLogData, primary keepalives and standby status updates decode; WAL stays raw bytes', async (t) => {
    const srv = server!;
    // Start a fresh WAL segment: the stream begins at a segment boundary, so it stays short.
    await srv.psql('SELECT pg_switch_wal()');
    const stderr: Buffer[] = [];
    child = spawn(clientBin('pg_receivewal'), ['-d', conninfo(tap!.port), '-D', walDir!, '--no-loop', '-s', '1', '--synchronous', '-v'], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (b: Buffer) => stderr.push(b));
    const proc = child;
    const alive = (): void => {
      if (proc.exitCode !== null) throw new Error(`pg_receivewal exited ${proc.exitCode}: ${Buffer.concat(stderr).toString()}`);
    };
    await waitFor('pg_receivewal streaming', async () => {
      alive();
      return (await srv.psql("SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pg_receivewal' AND state = 'streaming'")) === '1';
    });
    // WAL while it streams.
    await srv.psql('CREATE TABLE phys (id int, v text)');
    await srv.psql("INSERT INTO phys SELECT g, 'row ' || g FROM generate_series(1, 50) g");
    const target = await srv.psql('SELECT pg_current_wal_lsn()');
    await srv.psql('CHECKPOINT'); // flush it now (synchronous_commit is off)
    await waitFor(`pg_receivewal flushed up to ${target}`, async () => {
      alive();
      return (await srv.psql(`SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pg_receivewal' AND flush_lsn >= '${target}'`)) === '1';
    });
    await waitFor('a primary keepalive', () => {
      alive();
      return analyze(tap!.conversation(0)).kinds.has('PrimaryKeepalive');
    });
    // SIGINT: pg_receivewal ends the COPY (CopyDone) and disconnects.
    child.kill('SIGINT');
    await exited(child);
    await tap!.idle();

    const chunks = tap!.conversation(0);
    const a = analyze(chunks);
    assertClean(a, 'pg_receivewal');
    t.diagnostic(`${a.messages.length} messages; kinds: ${[...a.kinds].sort().join(' ')}`);
    for (const k of ['XLogData', 'PrimaryKeepalive', 'StandbyStatusUpdate']) assert.ok(a.kinds.has(k), `${k} in ${[...a.kinds].join(' ')}`);
    const xlog = a.messages.filter((m) => m.sub[0] === 'XLogData');
    for (const m of xlog) {
      assert.deepEqual(m.sub, ['XLogData'], 'physical WAL is never decoded into records');
      const data = m.spans.find((s) => s.name === 'WAL data');
      assert.ok(data && !data.children, 'WAL data is one bytes span');
    }
    const total = xlog.reduce((n, m) => n + m.frame.size, 0);
    assert.ok(total < 400_000, `a short stream (${total} bytes of XLogData)`);
    if (CAPTURE) {
      saveFixture(
        'replication-physical',
        'pg_receivewal streaming physical WAL from a fresh segment while a table is created and 50 rows inserted, with primary keepalives and standby status updates, stopped by SIGINT',
        srv.versionString,
        await clientVersion('pg_receivewal'),
        chunks,
      );
    }
  });
});
