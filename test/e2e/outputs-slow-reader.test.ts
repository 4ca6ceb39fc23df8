/**
 * A log reader that stops reading (`pgscope … | less`, paused; a pipe whose reader sleeps)
 * must not stop the traffic or the signals (issue: "What attacks … found", item 3).
 *
 * pgscope's standard output is a real pipe into a reader process that reads nothing until
 * the test creates a "go" file, then copies the pipe to a file. Real psql clients and a
 * real PostgreSQL 15 server. Before the fix, pgscope waited on the full pipe with the event
 * loop blocked: queries hung, new clients timed out, and SIGTERM went unanswered.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, psqlBin, startPgServer, type PgServer } from '../helpers/pg-server.js';
import { PGSCOPE_BIN } from '../helpers/pgscope.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { run, type RunResult } from '../helpers/proc.js';
import { waitUntil } from '../helpers/outputs-util.js';

const T = { timeout: 180_000 };
let server: PgServer;
const dir = mkdtempSync(join(tmpdir(), 'pgscope-slow-reader-'));
const children = new Set<ChildProcess>();

before(async () => {
  server = await startPgServer({ auth: 'trust' });
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Piped {
  port: number;
  pgscope: ChildProcess;
  /** What pgscope wrote to standard error. */
  stderr(): string;
  /** Let the reader start reading (it copies the pipe into `out`). */
  go(): void;
  out: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let runs = 0;
/**
 * pgscope with its standard output into a pipe that nobody reads until go(): a FIFO, as a
 * shell's `pgscope | less` gives it ('fifo'), or a socket pair, as Node's child_process and
 * service managers give it ('socket').
 */
async function startPiped(extra: string[], kind: 'fifo' | 'socket' = 'fifo'): Promise<Piped> {
  const n = runs++;
  const goFile = join(dir, `go-${n}`);
  const out = join(dir, `out-${n}.log`);
  const port = await freePort();
  const args = [PGSCOPE_BIN, '--bw', '-p', String(port), '--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'disable', ...extra];
  const env = { ...process.env, NO_COLOR: '' };
  let pgscope: ChildProcess;
  if (kind === 'socket') {
    const reader = spawn('bash', ['-c', 'while [ ! -e "$1" ]; do sleep 0.05; done; exec cat > "$2"', 'reader', goFile, out], { stdio: ['pipe', 'ignore', 'inherit'] });
    children.add(reader);
    pgscope = spawn(process.execPath, args, { stdio: ['ignore', reader.stdin!, 'pipe'], env });
    // Only pgscope holds the writing end now: the reader sees EOF when it exits.
    reader.stdin!.destroy();
  } else {
    const fifo = join(dir, `fifo-${n}`);
    execFileSync('mkfifo', [fifo]);
    // The reader opens the FIFO at once (so that pgscope can open it) but reads only after go.
    const reader = spawn('bash', ['-c', 'exec 3<"$3"; while [ ! -e "$1" ]; do sleep 0.05; done; exec cat <&3 > "$2"', 'reader', goFile, out, fifo], { stdio: 'ignore' });
    children.add(reader);
    const fd = openSync(fifo, constants.O_WRONLY);
    pgscope = spawn(process.execPath, args, { stdio: ['ignore', fd, 'pipe'], env });
    closeSync(fd);
  }
  children.add(pgscope);
  let err = '';
  pgscope.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => pgscope.once('exit', (code, signal) => resolve({ code, signal })));
  await waitForPort(port);
  return { port, pgscope, stderr: () => err, go: () => writeFileSync(goFile, ''), out, exited };
}

function psql(port: number, sql: string, timeoutMs = 90_000): Promise<RunResult> {
  return run(psqlBin(), ['-X', '-A', '-t', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql], { env: cleanEnv({ PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '20' }), timeoutMs });
}

/** Rows whose annotated lines come to about 25 MB: three times what pgscope queues for a reader. */
const BIG = 'select g, repeat(\'x\', 40) from generate_series(1, 100000) g';

describe('the text log on a pipe whose reader stopped reading', () => {
  for (const kind of ['fifo', 'socket'] as const) {
  it(`queries, new clients and SIGTERM go on; lines are dropped with a marker where the gap is, and counted (${kind})`, T, async () => {
    const p = await startPiped([], kind);
    const big = await psql(p.port, BIG);
    assert.equal(big.code, 0, big.stderr);
    assert.equal(big.stdout.trim().split('\n').length, 100000);
    // A new client while the reader still sleeps.
    const small = await psql(p.port, "select 'while stalled'");
    assert.equal(small.stdout.trim(), 'while stalled');
    // The reader starts; the queue drains; what comes next follows the marker.
    p.go();
    await waitUntil(() => existsSync(p.out) && readFileSync(p.out, 'utf8').length > 1_000_000, 60_000, 'the reader catches up');
    const after = await psql(p.port, "select 'after the gap'");
    assert.equal(after.stdout.trim(), 'after the gap');
    await waitUntil(() => readFileSync(p.out, 'utf8').includes('after the gap'), 30_000, 'the lines after the gap');
    p.pgscope.kill('SIGTERM');
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    const text = readFileSync(p.out, 'utf8');
    const lines = text.split('\n');
    const marker = lines.findIndex((l) => /^pgscope: \d+ lines dropped here: the reader of the text log \(standard output\) fell behind/.test(l));
    assert.ok(marker > 0, 'a marker line');
    assert.ok(lines.findIndex((l) => l.includes('after the gap')) > marker, 'after the marker');
    assert.equal(lines.filter((l) => / dropped here: /.test(l)).length, 1, 'one gap, one marker');
    // The log starts intact, and holds whole lines only: every line of a connection starts
    // with #N, or is one of pgscope's own.
    assert.match(lines.slice(0, 3).join('\n'), /listening on 127\.0\.0\.1:/);
    for (const l of lines.filter(Boolean)) assert.match(l, /^(#\d+  |pgscope: |generated |listening |stopping|received )/, l.slice(0, 200));
    const dropped = Number(/^pgscope: (\d+) lines/.exec(lines[marker]!)![1]);
    assert.match(p.stderr(), new RegExp(`pgscope: ${dropped} lines of the text log \\(standard output\\) dropped in all because its reader fell behind`));
  });
  }

  it('SIGTERM and SIGINT are handled within seconds while the reader never reads', T, async () => {
    for (const [sig, kind] of [['SIGTERM', 'fifo'], ['SIGINT', 'socket']] as const) {
      const p = await startPiped([], kind);
      const big = await psql(p.port, BIG);
      assert.equal(big.code, 0, big.stderr);
      const t0 = Date.now();
      p.pgscope.kill(sig);
      const r = await p.exited;
      const took = Date.now() - t0;
      assert.deepEqual(r, { code: 0, signal: null });
      // One second to let the reader catch up, then pgscope says what it gave up.
      assert.ok(took < 10_000, `${sig} took ${took} ms`);
      assert.match(p.stderr(), /bytes of the text log \(standard output\) could not be written: its reader is not reading/);
    }
  });
});

describe('--lossless', () => {
  it('drops nothing: the traffic waits for the reader, and SIGTERM still works while it waits', T, async () => {
    const p = await startPiped(['--lossless']);
    let done = false;
    const big = psql(p.port, BIG).then((r) => {
      done = true;
      return r;
    });
    // The query cannot finish while nobody reads pgscope's log.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(done, false, 'the query waited for the log reader');
    p.go();
    const r = await big;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 100000);
    await waitUntil(() => (readFileSync(p.out, 'utf8').match(/ = DataRow /g) ?? []).length === 100000, 60_000, 'every DataRow in the log');
    assert.doesNotMatch(readFileSync(p.out, 'utf8'), /dropped here/);
    p.pgscope.kill('SIGTERM');
    assert.deepEqual(await p.exited, { code: 0, signal: null });

    // Stalled for good: a signal still ends it.
    const q = await startPiped(['--lossless']);
    const pending = run(psqlBin(), ['-X', '-A', '-t', '-q', '-h', '127.0.0.1', '-p', String(q.port), '-U', 'postgres', '-d', 'postgres', '-c', BIG], { env: cleanEnv({ PGSSLMODE: 'disable' }), timeoutMs: 60_000, allowFailure: true });
    await new Promise((res) => setTimeout(res, 2000));
    const t0 = Date.now();
    q.pgscope.kill('SIGTERM');
    assert.deepEqual(await q.exited, { code: 0, signal: null });
    assert.ok(Date.now() - t0 < 10_000);
    const pr = await pending;
    assert.notEqual(pr.code, 0, 'the client of a stopped pgscope sees its connection end');
  });
});
