/**
 * The benchmark suite (`npm run bench`; never part of `npm test`). It starts its own
 * PostgreSQL server (TLS, SCRAM-SHA-256), PgBouncer, a bare Node.js TLS pipe and pgscope
 * (from dist/: build first), measures every row side by side in the same run, and prints
 * one table: medians over repeated runs, ratios to direct and to PgBouncer, and the
 * issue's targets checked against the figures. Progress goes to standard error.
 *
 *   npm run bench                      # full run, about 15 minutes (BENCH_SECONDS=10: about 25)
 *   BENCH_QUICK=1 npm run bench        # smoke run, about 3 minutes
 *
 * Knobs (environment): BENCH_SECONDS (per pgbench run), BENCH_REPEATS, BENCH_CLIENTS
 * (e.g. "1,4,32"), BENCH_BULK_MB, BENCH_BULK_REPEATS, BENCH_SLOW_SECONDS,
 * BENCH_SLOW_RATE_MB (the slow reader's rate, MB/s), BENCH_SECTIONS (any of
 * "select,connect,bulk,slow"), BENCH_ROWS (pgscope's rows: any of
 * "none,annotated,jsonl,ui,inline,fault"). See docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientBin, cleanEnv, psqlBin, startPgServer, type PgServer } from '../test/helpers/pg-server.js';
import { run } from '../test/helpers/proc.js';
import { conninfo, peakRssMiB, startPgscopeLogfile, waitUntil, type FileLoggedPgscope } from '../test/helpers/traffic-util.js';
import { openInspectorPage } from './lib/inspector-page.js';
import { startPgBouncer, type PgBouncer } from './lib/pgbouncer.js';
import { fmt, fmtRatio, median, quantileSorted, ratio, tableLines } from './lib/stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------- settings

const QUICK = process.env['BENCH_QUICK'] === '1';
function num(name: string, full: number, quick: number): number {
  const v = process.env[`BENCH_${name}`];
  const n = v === undefined || v === '' ? (QUICK ? quick : full) : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_${name}=${v}: expected a positive number`);
  return n;
}
const SECONDS = num('SECONDS', 4, 2);
const REPEATS = Math.round(num('REPEATS', 3, 1));
const CLIENTS = (process.env['BENCH_CLIENTS'] ?? '1,4,32').split(',').map(Number);
const BULK_MB = num('BULK_MB', 1024, 64);
const BULK_REPEATS = Math.round(num('BULK_REPEATS', 1, 1));
const SLOW_SECONDS = num('SLOW_SECONDS', 10, 4);
const SLOW_RATE_MB = num('SLOW_RATE_MB', 2, 2);
const SECTIONS = new Set((process.env['BENCH_SECTIONS'] ?? 'select,connect,bulk,slow').split(',').map((s) => s.trim()));
/** pgscope's rows in the pgbench sections (direct, PgBouncer and the bare pipe always run). */
const SCOPE_ROWS = ['none', 'annotated', 'jsonl', 'ui', 'inline', 'fault'] as const;
const ROWS = new Set((process.env['BENCH_ROWS'] ?? SCOPE_ROWS.join(',')).split(',').map((s) => s.trim()));
const MEMORY_LIMIT_MB = 200;

const progress = (s: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

// ---------------------------------------------------------------- the rows

type RowKey = 'direct' | 'pgbouncer' | 'pipe' | 'none' | 'annotated' | 'jsonl' | 'ui' | 'inline' | 'fault' | 'none@base' | 'annotated@base' | 'ui@base';
const LABEL: Record<RowKey, string> = {
  direct: 'direct',
  pgbouncer: 'PgBouncer (session mode)',
  pipe: 'bare Node.js TLS pipe',
  none: 'pgscope --log-forwarded none',
  annotated: 'pgscope annotated -l file',
  jsonl: 'pgscope --jsonl file',
  ui: 'annotated + --ui, page open',
  inline: 'annotated, --inline-decoding',
  fault: 'annotated + idle --fault',
  'none@base': 'baseline build, logging off',
  'annotated@base': 'baseline build, annotated',
  'ui@base': 'baseline build, --ui, page open',
};
/**
 * BENCH_BASELINE=DIR: another checkout of pgscope (built: DIR/bin/pgscope.js and DIR/dist),
 * measured in the same run as this one for logging off, annotated and --ui (those of them
 * in BENCH_ROWS), rows interleaved, so that a change's cost or gain is read side by side,
 * not across runs.
 */
const BASELINE = process.env['BENCH_BASELINE'] ? join(process.env['BENCH_BASELINE'], 'bin', 'pgscope.js') : null;

interface Endpoint {
  key: RowKey;
  port: number;
  /** Files to empty between runs (pgscope's logs), so a long run does not fill the disk. */
  files: string[];
  /** The process whose peak memory is reported (pgscope only). */
  pid?: number;
}

/** Every client in every row: TLS required, no channel binding (SCRAM-SHA-256-PLUS cannot cross any man in the middle). */
function clientEnvFor(server: PgServer): NodeJS.ProcessEnv {
  return cleanEnv({ ...server.clientEnv, PGSSLMODE: 'require', PGCHANNELBINDING: 'disable', PGCONNECT_TIMEOUT: '60' });
}

// ---------------------------------------------------------------- pgbench

interface BenchResult {
  tps: number;
  /** Per-transaction latency percentiles in ms (only with a latency log). */
  p50?: number;
  p99?: number;
  /** CPU per transaction in µs, of the row's process: its main thread, pgscope's decode thread, every other thread. */
  cpu?: { main: number; decode: number; other: number };
  error?: string;
}

/** CPU ticks so far of each thread of a process, by thread: [tid, name, ticks]. */
function threadTicks(pid: number): [number, string, number][] {
  const out: [number, string, number][] = [];
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
      out.push([Number(tid), name, Number(f[11]) + Number(f[12])]);
    } catch {
      // The thread ended.
    }
  }
  return out;
}

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** The CPU a process's threads took between two threadTicks, in µs per transaction. */
function cpuPerTransaction(pid: number, before: [number, string, number][], after: [number, string, number][], transactions: number): { main: number; decode: number; other: number } {
  const was = new Map(before.map(([tid, , t]) => [tid, t]));
  const cpu = { main: 0, decode: 0, other: 0 };
  for (const [tid, name, t] of after) {
    const d = (t - (was.get(tid) ?? 0)) * TICK_US;
    if (tid === pid) cpu.main += d;
    else if (name === 'pgscope-decode') cpu.decode += d;
    else cpu.other += d;
  }
  return { main: cpu.main / transactions, decode: cpu.decode / transactions, other: cpu.other / transactions };
}

async function pgbench(server: PgServer, ep: Endpoint, opts: { clients: number; mode: 'simple' | 'prepared'; connect?: boolean; seconds: number; latencyDir?: string }): Promise<BenchResult> {
  // pgbench's -T clock includes connecting every client (TLS + SCRAM, tens of ms each on a
  // loaded machine); its tps excludes that time, so give many clients time to connect.
  const allowance = opts.clients >= 8 ? Math.ceil(opts.clients / 16) : 0;
  const args = ['-n', '-S', '-M', opts.mode, '-T', String(opts.seconds + allowance), '-c', String(opts.clients), '-j', String(Math.min(opts.clients, Math.max(1, cpus().length)))];
  if (opts.connect) args.push('-C');
  let prefix: string | undefined;
  if (opts.latencyDir) {
    prefix = join(opts.latencyDir, `lat-${ep.key}-${Date.now()}`);
    args.push('-l', `--log-prefix=${prefix}`);
  }
  args.push('-h', '127.0.0.1', '-p', String(ep.port), '-U', 'postgres', 'postgres');
  const ticksBefore = ep.pid ? threadTicks(ep.pid) : [];
  const r = await run(clientBin('pgbench'), args, { env: clientEnvFor(server), timeoutMs: (opts.seconds + 120) * 1000, allowFailure: true });
  const m = /tps = ([\d.]+)/.exec(r.stdout);
  for (const f of ep.files) if (existsSync(f)) truncateSync(f, 0);
  if (r.code !== 0 || !m) {
    const error = `${LABEL[ep.key]}: pgbench exited ${r.code ?? r.signal}: ${(r.stderr + r.stdout).trim().split('\n').slice(-6).join(' | ')}`;
    progress(`FAILED ${error}`);
    return { tps: NaN, error };
  }
  const res: BenchResult = { tps: Number(m[1]) };
  const done = /number of transactions actually processed: (\d+)/.exec(r.stdout);
  if (ep.pid && done && Number(done[1]) > 0) res.cpu = cpuPerTransaction(ep.pid, ticksBefore, threadTicks(ep.pid), Number(done[1]));
  if (prefix && opts.latencyDir) {
    // Lines: client_id transaction_no time_us script_no time_epoch time_us(fraction)
    const base = prefix.slice(opts.latencyDir.length + 1);
    const lat: number[] = [];
    for (const f of readdirSync(opts.latencyDir).filter((n) => n.startsWith(base + '.'))) {
      const path = join(opts.latencyDir, f);
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (line && Number.isFinite(us)) lat.push(us / 1000);
      }
      rmSync(path);
    }
    lat.sort((a, b) => a - b);
    res.p50 = quantileSorted(lat, 0.5);
    res.p99 = quantileSorted(lat, 0.99);
  }
  return res;
}

// ---------------------------------------------------------------- processes under test

const PGSCOPE_TLS: string[] = [];

type ScopeKey = 'none' | 'annotated' | 'jsonl' | 'ui' | 'inline' | 'fault';

/** A --fault rule that matches nothing the bench sends (its SQL never holds the marker): what a test suite's idle rules cost. */
const IDLE_FAULT = 'error 40001 when sql contains "pgscope-bench-never-sent"';

async function startScope(server: PgServer, dir: string, key: ScopeKey, tag: string, baseline = false): Promise<{ ep: Endpoint; scope: FileLoggedPgscope; logFile: string; jsonlFile?: string }> {
  const logFile = join(dir, `${tag}-${key}${baseline ? '-base' : ''}.log`);
  const args = ['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'require', ...PGSCOPE_TLS];
  let jsonlFile: string | undefined;
  if (key === 'none') args.push('--log-forwarded', 'none');
  if (key === 'ui') args.push('--ui');
  if (key === 'inline') args.push('--inline-decoding');
  if (key === 'fault') args.push('--fault', IDLE_FAULT);
  if (key === 'jsonl') {
    jsonlFile = join(dir, `${tag}-${key}.jsonl`);
    args.push('--log-forwarded', 'none', '--jsonl', jsonlFile);
  }
  const scope = await startPgscopeLogfile(args, logFile, undefined, baseline && BASELINE ? BASELINE : undefined);
  const files = key === 'none' ? [] : jsonlFile ? [jsonlFile] : [logFile];
  const rowKey: RowKey = baseline ? (key === 'none' ? 'none@base' : key === 'ui' ? 'ui@base' : 'annotated@base') : key;
  return { ep: { key: rowKey, port: scope.port, files, pid: scope.pid }, scope, logFile, ...(jsonlFile ? { jsonlFile } : {}) };
}

async function startPipe(server: PgServer): Promise<{ ep: Endpoint; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'tls-pipe.ts'), String(server.port), server.certFile!, server.keyFile!], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killer = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killer);
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the TLS pipe did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (c) => {
      clearTimeout(t);
      reject(new Error(`the TLS pipe exited (${c}): ${out}`));
    });
  });
  return {
    ep: { key: 'pipe', port, files: [], pid: child.pid! },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      process.off('exit', killer);
    },
  };
}

// ---------------------------------------------------------------- sections

interface CellKey {
  mode: 'simple' | 'prepared';
  clients: number;
}
const cellName = (c: CellKey): string => `${c.mode}/${c.clients}`;

interface SelectResults {
  /** cellName → row → one result per repeat. */
  runs: Map<string, Map<RowKey, BenchResult[]>>;
  rows: RowKey[];
  cells: CellKey[];
  peakMiB: Map<RowKey, number>;
}

async function selectSection(server: PgServer, eps: Endpoint[], dir: string): Promise<SelectResults> {
  const cells: CellKey[] = [];
  for (const mode of ['simple', 'prepared'] as const) for (const clients of CLIENTS) cells.push({ mode, clients });
  const runs = new Map<string, Map<RowKey, BenchResult[]>>();
  for (const c of cells) runs.set(cellName(c), new Map(eps.map((e) => [e.key, []])));
  const latencyDir = mkdtempSync(join(dir, 'latency-'));
  progress(`warming up every row (1 s at 4 clients each)`);
  for (const ep of eps) await pgbench(server, ep, { clients: 4, mode: 'simple', seconds: 1 });
  for (let rep = 1; rep <= REPEATS; rep++) {
    for (const c of cells) {
      // Rows interleaved (A B C A B C …), the starting row rotated each repeat, to spread machine noise.
      const order = eps.map((_, i) => eps[(i + rep - 1) % eps.length]!);
      for (const ep of order) {
        const r = await pgbench(server, ep, { clients: c.clients, mode: c.mode, seconds: SECONDS, ...(c.clients === 1 ? { latencyDir } : {}) });
        runs.get(cellName(c))!.get(ep.key)!.push(r);
        progress(`-S -M ${c.mode} -c ${c.clients} (${rep}/${REPEATS}) ${LABEL[ep.key].padEnd(28)} ${fmt(r.tps).padStart(7)} tps${r.p50 !== undefined ? `  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99!.toFixed(3)} ms` : ''}`);
      }
    }
  }
  const peakMiB = new Map<RowKey, number>();
  for (const ep of eps) if (ep.pid && ep.key !== 'pipe') peakMiB.set(ep.key, peakRssMiB(ep.pid));
  return { runs, rows: eps.map((e) => e.key), cells, peakMiB };
}

async function connectSection(server: PgServer, eps: Endpoint[]): Promise<Map<RowKey, BenchResult[]>> {
  const res = new Map<RowKey, BenchResult[]>(eps.map((e) => [e.key, []]));
  for (let rep = 1; rep <= REPEATS; rep++) {
    const order = eps.map((_, i) => eps[(i + rep - 1) % eps.length]!);
    for (const ep of order) {
      const r = await pgbench(server, ep, { clients: 1, mode: 'simple', connect: true, seconds: SECONDS });
      res.get(ep.key)!.push(r);
      progress(`-S -C -c 1 (${rep}/${REPEATS}) ${LABEL[ep.key].padEnd(28)} ${fmt(r.tps).padStart(7)} tps`);
    }
  }
  return res;
}

interface BulkRow {
  key: RowKey;
  dir: 'to' | 'from';
  ms: number;
  mb: number;
  peakMiB?: number;
  logMB?: number;
  error?: string;
}

/** Lines of ~1 kB (1000 x, a number, a newline): a multiple of 1000, for the cross join below. */
function bulkRows(): number {
  return Math.ceil((BULK_MB * 1e6) / 1008 / 1000) * 1000;
}

/**
 * COPY of `rows` lines of ~1 kB, streamed: a cross join of two small series (a single
 * generate_series in FROM is a function scan that materializes its whole result first).
 */
function copyOutSql(rows: number): string {
  return `COPY (SELECT repeat('x', 1000) || (a * 1000 + b) FROM generate_series(0, ${rows / 1000 - 1}) a, generate_series(1, 1000) b) TO STDOUT`;
}

/** psql running one COPY, stdout to /dev/null, optionally stdin from a file. */
function psqlCopy(server: PgServer, port: number, sql: string, stdinFile?: string): Promise<{ code: number | null; ms: number; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const inFd = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
    const outFd = openSync('/dev/null', 'w');
    const args = ['-X', '-v', 'ON_ERROR_STOP=1', '-d', conninfo({ host: '127.0.0.1', port, user: 'postgres', dbname: 'postgres' }), '-c', sql];
    const child = spawn(psqlBin(), args, { env: clientEnvFor(server), stdio: [inFd, stdinFile ? 'pipe' : outFd, 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (typeof inFd === 'number') closeSync(inFd);
      closeSync(outFd);
      resolve({ code, ms: performance.now() - t0, stderr, stdout });
    });
  });
}

async function writeBulkFile(path: string, rows: number): Promise<number> {
  const ws = createWriteStream(path);
  const pad = 'x'.repeat(1000);
  let bytes = 0;
  const BATCH = 1000;
  for (let g = 1; g <= rows; g += BATCH) {
    const parts: string[] = [];
    for (let i = g; i < Math.min(rows + 1, g + BATCH); i++) parts.push(`${pad}${i}\n`);
    const chunk = parts.join('');
    bytes += chunk.length;
    if (!ws.write(chunk)) await new Promise<void>((r) => ws.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => ws.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return bytes;
}

const BULK_KEYS: RowKey[] = ['direct', 'none', 'annotated', 'inline'];

async function bulkSection(server: PgServer, dir: string): Promise<BulkRow[]> {
  const rows = bulkRows();
  const copyOut = copyOutSql(rows);
  const file = join(dir, 'bulk-in.txt');
  progress(`writing ${BULK_MB} MB of COPY input (${rows} lines)`);
  const bytes = await writeBulkFile(file, rows);
  const mb = bytes / 1e6;
  await server.psql('CREATE UNLOGGED TABLE IF NOT EXISTS bulk_in (t text)');
  const out: BulkRow[] = [];
  const keys = BULK_KEYS;
  try {
    for (let rep = 1; rep <= BULK_REPEATS; rep++) {
      for (const d of ['to', 'from'] as const) {
        for (const key of keys) {
          let scope: Awaited<ReturnType<typeof startScope>> | undefined;
          let port = server.port;
          if (key !== 'direct') {
            scope = await startScope(server, dir, key as ScopeKey, `bulk-${d}`);
            port = scope.ep.port;
          }
          try {
            if (d === 'from') await server.psql('TRUNCATE bulk_in');
            const r = await psqlCopy(server, port, d === 'to' ? copyOut : 'COPY bulk_in FROM STDIN', d === 'from' ? file : undefined);
            const row: BulkRow = { key, dir: d, ms: r.ms, mb };
            if (r.code !== 0) row.error = `psql exited ${r.code}: ${r.stderr.trim()}`;
            else if (d === 'from' && !new RegExp(`COPY ${rows}\\b`).test(r.stdout)) row.error = `expected COPY ${rows}, psql said ${JSON.stringify(r.stdout.trim())}`;
            if (scope) {
              row.peakMiB = peakRssMiB(scope.scope.pid);
              const logged = scope.ep.files.length ? scope.ep.files : [scope.logFile];
              row.logMB = logged.reduce((s, f) => s + (existsSync(f) ? statSync(f).size : 0), 0) / 1e6;
            }
            out.push(row);
            progress(
              `COPY ${d === 'to' ? 'TO STDOUT' : 'FROM STDIN'} ${mb.toFixed(0)} MB (${rep}/${BULK_REPEATS}) ${LABEL[key].padEnd(28)} ${(r.ms / 1000).toFixed(1)} s, ${(mb / (r.ms / 1000)).toFixed(0)} MB/s` +
                (row.peakMiB !== undefined ? `, peak RSS ${row.peakMiB.toFixed(0)} MiB` : '') +
                (row.error ? `  FAILED: ${row.error}` : ''),
            );
          } finally {
            if (scope) {
              await scope.scope.stop();
              for (const f of [scope.logFile, ...scope.ep.files]) rmSync(f, { force: true });
            }
          }
        }
      }
    }
  } finally {
    rmSync(file, { force: true });
    await server.psql('DROP TABLE IF EXISTS bulk_in').catch(() => undefined);
  }
  return out;
}

interface SlowRow {
  key: RowKey;
  seconds: number;
  readMB: number;
  peakMiB: number;
  error?: string;
}

/**
 * A client that reads a large result slowly: psql runs a COPY … TO STDOUT of about 10 GB
 * through pgscope and writes it into a pipe that this process drains at SLOW_RATE_MB MB/s
 * (pausing the pipe between reads). psql blocks on the full pipe, stops reading its
 * socket, and the back-pressure must travel through pgscope to the server. After
 * SLOW_SECONDS the client is killed and pgscope's peak memory read.
 */
async function slowSection(server: PgServer, dir: string): Promise<SlowRow[]> {
  const out: SlowRow[] = [];
  const sql = copyOutSql(10_000_000);
  for (const key of ['none', 'annotated'] as const) {
    const scope = await startScope(server, dir, key, 'slow');
    try {
      const args = ['-X', '-v', 'ON_ERROR_STOP=1', '-d', conninfo({ host: '127.0.0.1', port: scope.ep.port, user: 'postgres', dbname: 'postgres' }), '-c', sql];
      const child = spawn(psqlBin(), args, { env: clientEnvFor(server), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = new Promise<number | string | null>((r) => child.once('close', (c, s) => r(c ?? s)));
      let read = 0;
      const t0 = performance.now();
      const perTick = (SLOW_RATE_MB * 1e6) / 10; // bytes per 100 ms
      let budget = perTick;
      child.stdout.on('data', (d: Buffer) => {
        read += d.length;
        budget -= d.length;
        if (budget <= 0) child.stdout.pause();
      });
      const tick = setInterval(() => {
        budget = Math.min(budget + perTick, perTick);
        if (budget > 0) child.stdout.resume();
      }, 100);
      await Promise.race([closed, new Promise((r) => setTimeout(r, SLOW_SECONDS * 1000))]);
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(tick);
      const early = child.exitCode !== null;
      const peakMiB = peakRssMiB(scope.scope.pid);
      child.kill('SIGKILL');
      child.stdout.destroy(); // a paused pipe would hold 'close' back forever
      await closed;
      const row: SlowRow = { key, seconds, readMB: read / 1e6, peakMiB };
      if (early) row.error = `psql ended early: ${stderr.trim()}`;
      out.push(row);
      progress(`slow reader ${LABEL[key].padEnd(28)} ${seconds.toFixed(1)} s, read ${(read / 1e6).toFixed(0)} MB, pgscope peak RSS ${peakMiB.toFixed(0)} MiB${row.error ? `  FAILED: ${row.error}` : ''}`);
    } finally {
      await scope.scope.stop();
      for (const f of [scope.logFile, ...scope.ep.files]) rmSync(f, { force: true });
    }
  }
  return out;
}

// ---------------------------------------------------------------- the table

function report(ctx: { server: PgServer; bouncer: PgBouncer | null; started: number }, sel: SelectResults | null, conn: Map<RowKey, BenchResult[]> | null, bulk: BulkRow[] | null, slow: SlowRow[] | null): string {
  const L: string[] = [];
  const errors: string[] = [];
  const tpsOf = (list: BenchResult[] | undefined): number => {
    for (const r of list ?? []) if (r.error) errors.push(r.error);
    return median((list ?? []).map((r) => r.tps));
  };
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  L.push(`pgscope benchmarks: ${ctx.server.versionString}, ${ctx.bouncer?.version ?? 'no PgBouncer'}, Node ${process.version}, ${cpus().length} cores (${cpuModel})`);
  L.push(`TLS on both legs for every row (PGSSLMODE=require, PGCHANNELBINDING=disable, SCRAM-SHA-256); medians of ${REPEATS} run(s) of ${SECONDS} s, rows interleaved; ratios are of the medians.`);
  const targets: string[] = [];
  const check = (ok: boolean, text: string): void => {
    targets.push(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`);
  };

  if (sel) {
    for (const mode of ['simple', 'prepared'] as const) {
      const cells = sel.cells.filter((c) => c.mode === mode);
      L.push('');
      L.push(`pgbench -S -M ${mode}: transactions per second`);
      const header = [''];
      for (const c of cells) header.push(`${c.clients} client${c.clients === 1 ? '' : 's'}`, 'vs direct', 'vs PgB');
      const rows: string[][] = [];
      for (const key of sel.rows) {
        const row = [LABEL[key]];
        for (const c of cells) {
          const m = sel.runs.get(cellName(c))!;
          const t = tpsOf(m.get(key));
          row.push(fmt(t), fmtRatio(ratio(t, tpsOf(m.get('direct')))), fmtRatio(ratio(t, tpsOf(m.get('pgbouncer')))));
        }
        rows.push(row);
      }
      L.push(...tableLines(header, rows, 30));
    }
    // Latency at 1 client.
    if (CLIENTS.includes(1)) {
      L.push('');
      L.push('Latency at 1 client (pgbench -l, every transaction): ms, and added to direct in µs');
      const header = [''];
      for (const mode of ['simple', 'prepared']) header.push(`${mode} p50`, 'p99', '+p50 µs', '+p99 µs');
      const rows: string[][] = [];
      const lat = (mode: string, key: RowKey, which: 'p50' | 'p99'): number => median((sel.runs.get(`${mode}/1`)!.get(key) ?? []).filter((r) => !r.error).map((r) => r[which] ?? NaN));
      for (const key of sel.rows) {
        const row = [LABEL[key]];
        for (const mode of ['simple', 'prepared']) {
          const p50 = lat(mode, key, 'p50');
          const p99 = lat(mode, key, 'p99');
          row.push(fmt(p50, 3), fmt(p99, 3), fmt((p50 - lat(mode, 'direct', 'p50')) * 1000), fmt((p99 - lat(mode, 'direct', 'p99')) * 1000));
        }
        rows.push(row);
      }
      L.push(...tableLines(header, rows, 30));
    }
    // CPU per transaction, per thread.
    {
      L.push('');
      L.push('CPU per transaction in µs (from /proc/PID/task: main thread + pgscope-decode thread + other threads), medians');
      const header = [''];
      for (const c of sel.cells) header.push(`${c.mode} ${c.clients}`);
      const rows: string[][] = [];
      for (const key of sel.rows) {
        const list = (c: CellKey): BenchResult[] => (sel.runs.get(cellName(c))!.get(key) ?? []).filter((r) => r.cpu);
        if (sel.cells.every((c) => list(c).length === 0)) continue;
        rows.push([
          LABEL[key],
          ...sel.cells.map((c) => {
            const l = list(c);
            if (l.length === 0) return '-';
            const part = (k: 'main' | 'decode' | 'other'): number => median(l.map((r) => r.cpu![k]));
            return `${fmt(part('main'))}+${fmt(part('decode'))}+${fmt(part('other'))}`;
          }),
        ]);
      }
      L.push(...tableLines(header, rows, 30));
    }
    if (BASELINE) {
      L.push('');
      L.push(`This build / the baseline build (${process.env['BENCH_BASELINE']}), same run, rows interleaved (tps; > 1: this build is faster)`);
      const header = [''];
      for (const c of sel.cells) header.push(`${c.mode} ${c.clients}`);
      const rows: string[][] = [];
      for (const [mine, base] of [['none', 'none@base'], ['annotated', 'annotated@base'], ['ui', 'ui@base']] as const) {
        if (!sel.rows.includes(base)) continue;
        rows.push([LABEL[mine], ...sel.cells.map((c) => fmtRatio(ratio(tpsOf(sel.runs.get(cellName(c))!.get(mine)), tpsOf(sel.runs.get(cellName(c))!.get(base)))))]);
      }
      L.push(...tableLines(header, rows, 30));
    }
    const peaks = [...sel.peakMiB].map(([k, v]) => `${k} ${v.toFixed(0)} MiB`).join(', ');
    if (peaks) L.push(`pgscope peak RSS over all the pgbench runs above: ${peaks}`);

    // Targets on the pgbench figures.
    const perCell = (a: RowKey, b: RowKey): { min: number; where: string; all: string } => {
      let min = Infinity;
      let where = '';
      const all: string[] = [];
      for (const c of sel.cells) {
        const m = sel.runs.get(cellName(c))!;
        const r = ratio(tpsOf(m.get(a)), tpsOf(m.get(b)));
        all.push(`${c.mode[0]}${c.clients} ${fmtRatio(r)}`);
        if (!(r >= min)) {
          min = r;
          where = `-M ${c.mode} -c ${c.clients}`;
        }
      }
      return { min, where, all: all.join(' ') };
    };
    const has = (...keys: RowKey[]): boolean => keys.every((k) => sel.rows.includes(k));
    if (has('pgbouncer', 'none', 'annotated')) {
      const a = perCell('none', 'pgbouncer');
      check(a.min >= 1, `goal: logging off >= PgBouncer: worst ${fmtRatio(a.min)} (${a.where}); ${a.all}`);
      const b = perCell('annotated', 'pgbouncer');
      check(b.min >= 0.6, `annotated to a file >= 0.6x PgBouncer: worst ${fmtRatio(b.min)} (${b.where}); ${b.all}`);
      if (CLIENTS.includes(1)) {
        // Added p99 at 1 client, against PgBouncer's added p99 (both over direct).
        for (const [key, most] of [['annotated', 2], ['none', 1.5], ['jsonl', 2]] as [RowKey, number][]) {
          if (!sel.rows.includes(key)) continue;
          const parts: string[] = [];
          let worst = 0;
          for (const mode of ['simple', 'prepared']) {
            const p99 = (k: RowKey): number => median((sel.runs.get(`${mode}/1`)!.get(k) ?? []).filter((r) => !r.error).map((r) => r.p99 ?? NaN));
            const direct = p99('direct');
            const added = (p99(key) - direct) * 1000;
            const bouncer = (p99('pgbouncer') - direct) * 1000;
            const r = added / Math.max(bouncer, 1);
            worst = Math.max(worst, r);
            parts.push(`${mode} +${fmt(added)} µs vs PgBouncer +${fmt(bouncer)} µs (${fmtRatio(r)})`);
          }
          const text = `added p99 at 1 client, ${LABEL[key]} <= ${most}x PgBouncer's: ${parts.join('; ')}`;
          if (key === 'jsonl') targets.push(`  info  ${text}`);
          else check(worst <= most, text);
        }
      }
    }
    if (has('jsonl', 'annotated')) {
      const j = perCell('jsonl', 'annotated');
      check(j.min >= 1, `--jsonl >= annotated: worst ${fmtRatio(j.min)} (${j.where}); ${j.all}`);
    }
    if (has('pipe', 'pgbouncer', 'none')) {
      const p = perCell('pipe', 'pgbouncer');
      targets.push(`  info  calibration, bare Node.js TLS pipe vs PgBouncer (issue: about 0.8x for -S): ${p.all}`);
      const q = perCell('none', 'pipe');
      check(q.min >= 1, `logging off >= the bare Node.js TLS pipe: worst ${fmtRatio(q.min)} (${q.where}); ${q.all}`);
    }
    if (has('ui', 'annotated')) {
      const u = perCell('ui', 'annotated');
      check(u.min >= 0.9, `--ui with a page open within 10% of annotated alone: worst ${fmtRatio(u.min)} (${u.where}); ${u.all}`);
    }
    if (has('fault', 'annotated')) {
      const f = perCell('fault', 'annotated');
      check(f.min >= 0.9, `a --fault rule that matches nothing within 10% of annotated alone: worst ${fmtRatio(f.min)} (${f.where}); ${f.all}`);
    }
    if (has('inline', 'annotated')) {
      const i = perCell('annotated', 'inline');
      targets.push(`  info  annotated with the decode thread / --inline-decoding: ${i.all}`);
    }
    for (const [k, v] of sel.peakMiB) {
      // The inspector keeps up to 100,000 messages (about 256 MiB) by design.
      if (k === 'ui' || k === 'ui@base') targets.push(`  info  peak RSS during pgbench (${LABEL[k]}, which keeps the last 100,000 messages): ${v.toFixed(0)} MiB`);
      else check(v < MEMORY_LIMIT_MB, `peak RSS < ${MEMORY_LIMIT_MB} MB during pgbench (${LABEL[k]}): ${v.toFixed(0)} MiB`);
    }
  }

  if (conn) {
    L.push('');
    L.push('pgbench -S -C -c 1 (a new TLS + SCRAM connection per transaction): transactions per second');
    const direct = tpsOf(conn.get('direct'));
    const bouncer = tpsOf(conn.get('pgbouncer'));
    const rows = [...conn.keys()].map((k) => {
      const t = tpsOf(conn.get(k));
      return [LABEL[k], fmt(t, 1), fmtRatio(ratio(t, direct)), fmtRatio(ratio(t, bouncer))];
    });
    L.push(...tableLines(['', 'tps', 'vs direct', 'vs PgB'], rows, 30));
    check(ratio(tpsOf(conn.get('none')), direct) >= 0.8, `pgbench -C through pgscope (logging off) >= 0.8x direct: ${fmtRatio(ratio(tpsOf(conn.get('none')), direct))}`);
    if (conn.has('annotated')) targets.push(`  info  pgbench -C through pgscope annotated: ${fmtRatio(ratio(tpsOf(conn.get('annotated')), direct))} of direct`);
  }

  if (bulk) {
    L.push('');
    const mb = bulk[0]?.mb ?? 0;
    L.push(`Bulk: one COPY of ${mb.toFixed(0)} MB (lines of ~1 kB) by psql; median of ${BULK_REPEATS} run(s); pgscope restarted for each row`);
    const rows: string[][] = [];
    for (const d of ['to', 'from'] as const) {
      const of = (k: RowKey): BulkRow[] => bulk.filter((r) => r.dir === d && r.key === k);
      const ms = (k: RowKey): number => median(of(k).filter((r) => !r.error).map((r) => r.ms));
      for (const k of BULK_KEYS) {
        const list = of(k);
        for (const r of list) if (r.error) errors.push(`COPY ${d} ${LABEL[k]}: ${r.error}`);
        const t = ms(k);
        const peak = Math.max(...list.map((r) => r.peakMiB ?? NaN));
        const log = median(list.map((r) => r.logMB ?? NaN));
        rows.push([
          `${d === 'to' ? 'COPY TO STDOUT' : 'COPY FROM STDIN'}, ${LABEL[k]}`,
          fmt(t / 1000, 1),
          fmt(mb / (t / 1000)),
          fmtRatio(ratio(ms('direct'), t)),
          Number.isFinite(peak) ? fmt(peak) : '-',
          Number.isFinite(log) ? fmt(log) : '-',
        ]);
      }
      const none = ratio(ms('direct'), ms('none'));
      const ann = ratio(ms('direct'), ms('annotated'));
      check(none >= 0.5, `COPY ${d === 'to' ? 'TO STDOUT' : 'FROM STDIN'} logging off >= 0.5x direct: ${fmtRatio(none)}`);
      check(ann >= 0.25, `COPY ${d === 'to' ? 'TO STDOUT' : 'FROM STDIN'} annotated to a file >= 0.25x direct: ${fmtRatio(ann)}`);
    }
    L.push(...tableLines(['', 'seconds', 'MB/s', 'vs direct', 'peak RSS MiB', 'log MB'], rows, 44));
    const peak = Math.max(...bulk.map((r) => r.peakMiB ?? 0));
    check(peak < MEMORY_LIMIT_MB, `pgscope peak RSS < ${MEMORY_LIMIT_MB} MB during ${mb.toFixed(0)} MB COPYs: ${peak.toFixed(0)} MiB`);
  }

  if (slow) {
    L.push('');
    L.push(`Slow reader: a ~10 GB COPY TO STDOUT read at ${SLOW_RATE_MB} MB/s for ${SLOW_SECONDS} s through pgscope`);
    const rows = slow.map((r) => {
      if (r.error) errors.push(`slow reader ${LABEL[r.key]}: ${r.error}`);
      return [LABEL[r.key], fmt(r.seconds, 1), fmt(r.readMB), fmt(r.peakMiB)];
    });
    L.push(...tableLines(['', 'seconds', 'MB read', 'peak RSS MiB'], rows, 30));
    const peak = Math.max(...slow.map((r) => r.peakMiB));
    check(peak < MEMORY_LIMIT_MB, `pgscope peak RSS < ${MEMORY_LIMIT_MB} MB with a slow reader: ${peak.toFixed(0)} MiB`);
  }

  L.push('');
  L.push('Targets (issues 6 and 16), from the figures above:');
  L.push(...targets);
  if (errors.length) {
    L.push('');
    L.push(`Failed runs (${errors.length}), left out of the medians:`);
    L.push(...errors.map((e) => `  ${e}`));
  }
  L.push('');
  L.push(`(whole run: ${((Date.now() - ctx.started) / 60000).toFixed(1)} min)`);
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = Date.now();
  if (!existsSync(join(ROOT, 'dist', 'app', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  const dir = mkdtempSync(join(tmpdir(), 'pgscope-bench-'));
  progress(`settings: ${QUICK ? 'BENCH_QUICK, ' : ''}${SECONDS} s x ${REPEATS} repeats, clients ${CLIENTS.join(',')}, bulk ${BULK_MB} MB, sections ${[...SECTIONS].join(',')}`);
  const server = await startPgServer({ version: 15, auth: 'scram-sha-256', ssl: true, settings: { max_connections: '150', shared_buffers: '128MB' } });
  PGSCOPE_TLS.push('--client-ssl-cert', server.certFile!, '--client-ssl-key', server.keyFile!);
  const stops: (() => Promise<unknown>)[] = [];
  let bouncer: PgBouncer | null = null;
  let sel: SelectResults | null = null;
  let conn: Map<RowKey, BenchResult[]> | null = null;
  let bulk: BulkRow[] | null = null;
  let slow: SlowRow[] | null = null;
  try {
    progress(`${server.versionString} on port ${server.port}; pgbench -i -s 1`);
    await run(clientBin('pgbench'), ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', 'postgres'], { env: clientEnvFor(server), timeoutMs: 120_000 });
    await server.psql('VACUUM ANALYZE');

    if (SECTIONS.has('select') || SECTIONS.has('connect')) {
      bouncer = await startPgBouncer(server, { poolSize: 40, maxClients: 200 });
      stops.push(bouncer.stop);
      progress(`${bouncer.version} on port ${bouncer.port}`);
      const pipe = await startPipe(server);
      stops.push(pipe.stop);
      const eps: Endpoint[] = [
        { key: 'direct', port: server.port, files: [] },
        { key: 'pgbouncer', port: bouncer.port, files: [], pid: bouncer.pid },
        pipe.ep,
      ];
      const scopes: [ScopeKey, boolean][] = SCOPE_ROWS.filter((k) => ROWS.has(k)).map((k) => [k, false]);
      if (BASELINE) for (const k of ['none', 'annotated', 'ui'] as const) if (ROWS.has(k)) scopes.push([k, true]);
      for (const [key, baseline] of scopes) {
        const s = await startScope(server, dir, key, 'pgbench', baseline);
        stops.push(s.scope.stop);
        eps.push(s.ep);
        if (key === 'ui') {
          // The inspector's page, open and following the traffic for the whole run.
          let url = '';
          await waitUntil(() => (url = /inspector: open (\S+)/.exec(s.scope.log())?.[1] ?? '') !== '', 30_000, 'the inspector address');
          const page = await openInspectorPage(url);
          stops.push(page.close);
          progress(`inspector page open (${page.how}) on ${url.replace(/token=.*/, 'token=…')}`);
        }
      }
      progress(`rows: ${eps.map((e) => `${e.key}:${e.port}`).join(' ')}`);
      if (SECTIONS.has('select')) sel = await selectSection(server, eps, dir);
      if (SECTIONS.has('connect')) conn = await connectSection(server, eps.filter((e) => e.key !== 'jsonl'));
      while (stops.length) await stops.pop()!().catch(() => undefined);
      const blog = bouncer.log();
      if (/FATAL|ERROR/.test(blog)) progress(`PgBouncer log has errors:\n${blog.split('\n').filter((l) => /FATAL|ERROR/.test(l)).slice(0, 10).join('\n')}`);
    }
    if (SECTIONS.has('bulk')) bulk = await bulkSection(server, dir);
    if (SECTIONS.has('slow')) slow = await slowSection(server, dir);
  } finally {
    while (stops.length) await stops.pop()!().catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write('\n' + report({ server, bouncer, started }, sel, conn, bulk, slow));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
