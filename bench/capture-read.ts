/**
 * How fast pgscope reads a capture, and in how much memory (issue 14: at least 100 MB/s
 * on a capture of at least 1 GB). Records real PostgreSQL traffic with tcpdump, inflates
 * it to BENCH_CAPTURE_MB (bench/lib/capture-gen.ts), then reads the file side by side in
 * one run, each reader a child process measured by /usr/bin/time (CPU, peak RSS):
 *
 *   - `cat FILE` (the baseline: the file comes from the page cache, warmed first),
 *   - `tcpdump -r FILE -w /dev/null` (libpcap going through the records),
 *   - a Node.js read stream alone (the floor for any reader written in Node),
 *   - the library: forEachCaptureObject() from dist/capture/read-capture.js,
 *   - the CLI: `pgscope read FILE --log-forwarded none --query-log /dev/null` and
 *     `pgscope read FILE --jsonl /dev/null` (rows say "not available" without `read`).
 *
 * Medians over BENCH_REPEATS runs (peak RSS: the largest), with ratios to cat, go to
 * standard output; progress to standard error. MB = 2^20 bytes.
 *
 *   npm run bench:capture                             # builds first; ~30 min on 2 busy cores
 *   BENCH_CAPTURE_MB=256 BENCH_REPEATS=1 npx tsx bench/capture-read.ts      # ~5 min
 *   npx tsx bench/capture-read.ts --cpu-prof[=DIR]    # profiles of the pgscope rows (256 MB)
 *
 * Every reader's standard output goes to /dev/null (`pgscope read --jsonl` also writes
 * its annotated log there, as the live proxy does). The build measured is a copy of
 * dist/ taken at the start.
 *
 * BENCH_CAPTURE_FILE=path reads that capture instead of recording one (it is not deleted).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run } from '../test/helpers/proc.js';
import { inflateCapture, recordPgTraffic } from './lib/capture-gen.js';
import { fmt, fmtRatio, median, ratio, tableLines } from './lib/stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The build measured: a copy of bin/, dist/ and package.json taken at the start (see
 * snapshotBuild), so that a rebuild of the checkout during the run (src/ is being worked
 * on) cannot make one row or one repeat measure other code than the rest.
 */
let codeRoot = ROOT;
const readCaptureJs = (): string => join(codeRoot, 'dist', 'capture', 'read-capture.js');
const pgscopeBin = (): string => join(codeRoot, 'bin', 'pgscope.js');
const MiB = 2 ** 20;

// ---------------------------------------------------------------- settings

const profileArg = process.argv.slice(2).find((a) => a === '--cpu-prof' || a.startsWith('--cpu-prof='));
const PROFILE_DIR = profileArg?.startsWith('--cpu-prof=') ? profileArg.slice('--cpu-prof='.length) : null;

function num(name: string, dflt: number): number {
  const v = process.env[`BENCH_${name}`];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_${name}=${v}: expected a positive number`);
  return n;
}
const CAPTURE_MB = num('CAPTURE_MB', profileArg ? 256 : 1024);
const REPEATS = Math.round(num('REPEATS', 2));
const GIVEN_CAPTURE = process.env['BENCH_CAPTURE_FILE'] || null;
const TARGET_MB_S = 100;
const TARGET_RSS_MIB = 200;

const say = (s: string): void => void process.stderr.write(`${s}\n`);
/** A rate with a decimal below 100, where a whole number would hide a 2x difference. */
const fmtRate = (x: number): string => fmt(x, x < 100 ? 1 : 0);
/** A ratio with two significant digits: pgscope's rows are a small fraction of cat's. */
const fmtRatioSig = (x: number): string => (Number.isFinite(x) && x > 0 && x < 1 ? `${x.toPrecision(2)}x` : fmtRatio(x));

// ---------------------------------------------------------------- clean-up

const children = new Set<ChildProcess>();
let workDir: string | null = null;

/** Synchronous, so that it also runs on process.exit() from a signal. */
function cleanUp(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) killTree(c);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = null;
}
process.on('exit', cleanUp);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  // Registered before startPgServer's own handler, so this one runs first; exiting runs
  // the 'exit' handlers: ours (children, folder) and pg-server's (the server).
  process.once(sig, () => {
    say(`capture-read: ${sig}, cleaning up`);
    process.exit(130);
  });
}

/** The child's process group when it has its own (measured readers run under /usr/bin/time, which does not pass on SIGKILL), else the child. */
function killTree(c: ChildProcess): void {
  try {
    if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
  } catch {
    c.kill('SIGKILL');
  }
}

const track = (c: ChildProcess): void => {
  children.add(c);
  c.once('close', () => children.delete(c));
};

// ---------------------------------------------------------------- one measured run

interface Measured {
  wall: number;
  /** user + system seconds of the child (and its children). */
  cpu: number;
  rssMiB: number;
  stdout: string;
}

/** Run under /usr/bin/time, stdout to /dev/null unless `keepStdout`; throws on a non-zero exit. */
async function measure(cmd: string, args: string[], keepStdout: boolean): Promise<Measured> {
  const timeFile = join(workDir!, 'time.txt');
  const devNull = openSync('/dev/null', 'w');
  // detached: a process group of its own, so that clean-up reaches the reader behind time.
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, cmd, ...args], { stdio: ['ignore', keepStdout ? 'pipe' : devNull, 'pipe'], detached: true });
  closeSync(devNull);
  track(child);
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  // Only the tail: a reader printing a note per connection would otherwise fill memory.
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  const wall = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ') || '(no output)'}`);
  // time writes "Command exited with non-zero status" lines first; the format line is last.
  const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
  const [user, sys, rssKb] = last.split(' ').map(Number);
  return { wall, cpu: (user ?? NaN) + (sys ?? NaN), rssMiB: (rssKb ?? NaN) / 1024, stdout };
}

// ---------------------------------------------------------------- the readers

interface Reader {
  label: string;
  cmd: string;
  args: (file: string) => string[];
  keepStdout?: boolean;
  /** Why this reader cannot run here, or null. */
  unavailable?: string | null;
  /** Is one of pgscope's own paths (checked against the targets). */
  pgscope?: boolean;
}

/** The library path: every JSON-lines object made (as `pgscope view` and `report` make them) and dropped. */
const libraryScript = (): string => `
import { forEachCaptureObject } from ${JSON.stringify(pathToFileURL(readCaptureJs()).href)};
let objects = 0;
const r = await forEachCaptureObject(process.argv[1], { redact: false }, () => { objects++; });
process.stdout.write(JSON.stringify({ objects, format: r.format, notes: r.notes }) + '\\n');
`;

/** Node reading the file in the 1 MiB chunks read-capture.ts uses, and nothing else. */
const STREAM_SCRIPT = `
import { createReadStream } from 'node:fs';
let n = 0;
for await (const c of createReadStream(process.argv[1], { highWaterMark: 1024 * 1024 })) n += c.length;
process.stdout.write(String(n) + '\\n');
`;

async function readers(): Promise<Reader[]> {
  const cli = await cliUnavailable();
  return [
    { label: 'cat FILE > /dev/null (baseline)', cmd: 'cat', args: (f) => [f] },
    { label: 'tcpdump -r FILE -w /dev/null', cmd: '/usr/bin/tcpdump', args: (f) => ['-r', f, '-w', '/dev/null'] },
    { label: 'node: createReadStream only (floor)', cmd: process.execPath, args: (f) => ['--input-type=module', '-e', STREAM_SCRIPT, f] },
    { label: 'library: forEachCaptureObject', cmd: process.execPath, args: (f) => ['--input-type=module', '-e', libraryScript(), f], keepStdout: true, pgscope: true },
    { label: 'pgscope read --log-forwarded none', cmd: process.execPath, args: (f) => [pgscopeBin(), 'read', f, '--log-forwarded', 'none', '--query-log', '/dev/null'], unavailable: cli, pgscope: true },
    { label: 'pgscope read --jsonl /dev/null', cmd: process.execPath, args: (f) => [pgscopeBin(), 'read', f, '--jsonl', '/dev/null'], unavailable: cli, pgscope: true },
  ];
}

/** `pgscope read` is being written as this benchmark is: say why it cannot run, or null. */
async function cliUnavailable(): Promise<string | null> {
  const r = await run(process.execPath, [pgscopeBin(), 'read', '--help'], { allowFailure: true, timeoutMs: 60_000 });
  if (r.code !== 0) return `\`pgscope read --help\` exits ${r.code}: ${(r.stderr.trim().split('\n')[0] ?? '').slice(0, 100)}`;
  if (!/pgscope read\b/.test(r.stdout + r.stderr)) return '`pgscope read --help` prints the proxy\'s help: no read subcommand in this build';
  return null;
}

// ---------------------------------------------------------------- the capture

interface CaptureFile {
  file: string;
  bytes: number;
  about: string;
}

async function makeCapture(): Promise<CaptureFile> {
  if (GIVEN_CAPTURE) {
    const bytes = statSync(GIVEN_CAPTURE).size;
    return { file: GIVEN_CAPTURE, bytes, about: `${GIVEN_CAPTURE} (given)` };
  }
  say('recording real PostgreSQL traffic with tcpdump');
  const rec = await recordPgTraffic(workDir!, say, track);
  say(`recorded ${fmt(rec.bytes / MiB, 1)} MiB (${rec.tcpdumpSummary}); inflating to ${CAPTURE_MB} MiB`);
  const inf = await inflateCapture(rec.file, join(workDir!, 'capture.pcap'), rec.serverPort, CAPTURE_MB * MiB, say);
  rmSync(rec.file);
  const about =
    `classic pcap, ${inf.packets} packets: ${fmt(inf.repetitions, 2)} repetitions of ${fmt(rec.bytes / MiB, 1)} MiB recorded ` +
    `(${inf.connectionsPerRepetition} connections each; tcpdump: ${rec.tcpdumpSummary})`;
  return { file: inf.file, bytes: inf.bytes, about };
}

// ---------------------------------------------------------------- benchmark

interface Result {
  reader: Reader;
  runs: Measured[];
  failure: string | null;
}

async function bench(capture: CaptureFile): Promise<Result[]> {
  const list = await readers();
  const results: Result[] = list.map((reader) => ({ reader, runs: [], failure: reader.unavailable ? `not available: ${reader.unavailable}` : null }));
  say('warming the page cache (cat, not measured)');
  await measure('cat', [capture.file], false);
  // Readers interleaved within each repeat, so that a burst of load elsewhere on the
  // machine spreads over all of them instead of spoiling one row.
  for (let r = 1; r <= REPEATS; r++) {
    for (const res of results) {
      if (res.failure) continue;
      say(`run ${r}/${REPEATS}: ${res.reader.label}`);
      try {
        const m = await measure(res.reader.cmd, res.reader.args(capture.file), res.reader.keepStdout ?? false);
        res.runs.push(m);
        say(`  ${fmt(m.wall, 2)} s, ${fmtRate(capture.bytes / MiB / m.wall)} MB/s, CPU ${fmt(m.cpu, 2)} s, peak RSS ${fmt(m.rssMiB)} MiB`);
      } catch (e) {
        res.failure = `failed: ${(e as Error).message.slice(0, 200)}`;
        say(`  ${res.failure}`);
      }
    }
  }
  return results;
}

interface Summary {
  wall: number;
  mbps: number;
  cpu: number;
  rss: number;
}

function summarise(res: Result, bytes: number): Summary {
  const wall = median(res.runs.map((m) => m.wall));
  return { wall, mbps: bytes / MiB / wall, cpu: median(res.runs.map((m) => m.cpu)), rss: Math.max(...res.runs.map((m) => m.rssMiB)) };
}

function report(capture: CaptureFile, results: Result[], startLoad: number[]): void {
  const base = summarise(results[0]!, capture.bytes);
  const header = ['reader', 'wall s', 'MB/s', 'CPU s', 'MB/CPU-s', 'peak RSS MiB', 'MB/s vs cat'];
  const rows = results.map((res) => {
    if (!res.runs.length) return [res.reader.label, ...Array<string>(header.length - 1).fill('-')];
    const s = summarise(res, capture.bytes);
    return [res.reader.label, fmt(s.wall, 2), fmtRate(s.mbps), fmt(s.cpu, 2), fmtRate(capture.bytes / MiB / s.cpu), fmt(s.rss), fmtRatioSig(ratio(s.mbps, base.mbps))];
  });
  const out: string[] = [
    `capture: ${fmt(capture.bytes / MiB)} MiB, ${capture.about}`,
    `machine: ${cpus().length} cores, load average ${startLoad.map((x) => x.toFixed(2)).join(' ')} at start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at end; node ${process.version}`,
    `medians of ${REPEATS} run(s); peak RSS: the largest; MB = 2^20 bytes; MB/CPU-s: the rate one unshared core would give`,
    '',
    ...tableLines(header, rows),
    ...results.filter((r) => r.failure).map((r) => `  ${r.reader.label}: ${r.failure}`),
    '',
    ...objectsLine(results),
    ...checks(results, capture.bytes),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

/** What the library path made of the capture: a benchmark that decodes nothing would be fast too. */
function objectsLine(results: Result[]): string[] {
  const lib = results.find((r) => r.reader.keepStdout && r.runs.length);
  if (!lib) return [];
  try {
    const o = JSON.parse(lib.runs[0]!.stdout) as { objects: number; format: string; notes: string[] };
    const notes = o.notes.length ? `; notes: ${o.notes.slice(0, 3).join(' | ')}${o.notes.length > 3 ? ` (+${o.notes.length - 3})` : ''}` : '; no notes';
    return [`library path: ${o.objects} JSON-lines objects from the ${o.format} file${notes}`, ''];
  } catch {
    return [`library path printed: ${lib.runs[0]!.stdout.slice(0, 200)}`, ''];
  }
}

function checks(results: Result[], bytes: number): string[] {
  const lines: string[] = [];
  for (const res of results.filter((r) => r.reader.pgscope)) {
    if (!res.runs.length) {
      lines.push(`${res.reader.label}: ${res.failure ?? 'no run'}`);
      continue;
    }
    const s = summarise(res, bytes);
    lines.push(`${res.reader.label}:`);
    lines.push(`  read >= ${TARGET_MB_S} MB/s: ${s.mbps >= TARGET_MB_S ? 'PASS' : 'FAIL'} (${fmtRate(s.mbps)} MB/s; ${fmtRate(bytes / MiB / s.cpu)} MB per CPU second)`);
    lines.push(`  peak RSS < ${TARGET_RSS_MIB} MiB: ${s.rss < TARGET_RSS_MIB ? 'PASS' : 'FAIL'} (${fmt(s.rss)} MiB)`);
  }
  return lines;
}

// ---------------------------------------------------------------- profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

/** Run the library path (and the two `pgscope read` rows, when there is the command) under --cpu-prof; print where the samples fall. */
async function profile(capture: CaptureFile): Promise<void> {
  const root = PROFILE_DIR ?? join(workDir!, 'profile');
  const targets: { label: string; args: string[] }[] = [{ label: 'library: forEachCaptureObject', args: ['--input-type=module', '-e', libraryScript(), capture.file] }];
  if ((await cliUnavailable()) === null) {
    targets.push({ label: 'pgscope read --log-forwarded none', args: [pgscopeBin(), 'read', capture.file, '--log-forwarded', 'none', '--query-log', '/dev/null'] });
    targets.push({ label: 'pgscope read --jsonl /dev/null', args: [pgscopeBin(), 'read', capture.file, '--jsonl', '/dev/null'] });
  }
  process.stdout.write(`capture: ${fmt(capture.bytes / MiB)} MiB, ${capture.about}\n`);
  for (const [i, t] of targets.entries()) {
    const dir = join(root, String(i + 1));
    mkdirSync(dir, { recursive: true });
    say(`profiling ${t.label} on ${fmt(capture.bytes / MiB)} MiB (profile in ${dir})`);
    const m = await measure(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...t.args], t.args[0] === '--input-type=module');
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile in ${dir}`);
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const fn = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    const out = [
      '',
      `${t.label} under --cpu-prof: ${fmt(m.wall, 2)} s wall, ${fmtRate(capture.bytes / MiB / m.wall)} MB/s, CPU ${fmt(m.cpu, 2)} s, peak RSS ${fmt(m.rssMiB)} MiB (profiler overhead included)`,
      `profile: ${join(dir, file)}${PROFILE_DIR ? '' : ' (deleted at exit; --cpu-prof=DIR keeps it)'}`,
      '',
      ...selfTimeTable(prof, fn, 'function (self time)', 15),
      '',
      ...selfTimeTable(prof, (n) => shortUrl(n.callFrame.url) || n.callFrame.functionName, 'file (self time)', 12),
      '',
      ...totalTimeTable(prof, fn, 'function (total time: itself and what it calls)', 20),
    ];
    process.stdout.write(out.join('\n') + '\n');
  }
}

/** Samples summed by `key`, largest first: ms (from the sampling interval) and % of all samples. */
function selfTimeTable(prof: CpuProfile, key: (n: ProfileNode) => string, what: string, top: number): string[] {
  const hits = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const h = n.hitCount ?? 0;
    total += h;
    if (h) hits.set(key(n), (hits.get(key(n)) ?? 0) + h);
  }
  return hitTable(prof, hits, total, what, top);
}

/** Each sample counted once for every distinct function on its stack (recursion not counted twice). */
function totalTimeTable(prof: CpuProfile, key: (n: ProfileNode) => string, what: string, top: number): string[] {
  const parent = new Map<number, ProfileNode>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const hits = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const h = n.hitCount ?? 0;
    if (!h) continue;
    total += h;
    const seen = new Set<string>();
    for (let at: ProfileNode | undefined = n; at; at = parent.get(at.id)) if (at.callFrame.functionName !== '(root)') seen.add(key(at));
    for (const k of seen) hits.set(k, (hits.get(k) ?? 0) + h);
  }
  return hitTable(prof, hits, total, what, top);
}

function hitTable(prof: CpuProfile, hits: Map<string, number>, total: number, what: string, top: number): string[] {
  const msPerHit = (prof.endTime - prof.startTime) / 1000 / Math.max(total, 1);
  const rows = [...hits].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, h]) => [k, fmt(h * msPerHit), `${fmt((100 * h) / total, 1)}%`]);
  return tableLines([what, 'ms', '%'], rows);
}

/** A profile URL relative to the checkout (file:///…/dist/capture/x.js → dist/capture/x.js). */
function shortUrl(url: string): string {
  if (!url.startsWith('file://')) return url;
  const rel = relative(codeRoot, fileURLToPath(url));
  return rel.startsWith('..') ? url : rel;
}

// ---------------------------------------------------------------- main

/** Copy the build into DIR/pgscope (node_modules linked, not copied) and return that folder. */
function snapshotBuild(dir: string): string {
  const to = join(dir, 'pgscope');
  mkdirSync(to);
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, part), join(to, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'));
  say(`measuring the build of ${statSync(join(ROOT, 'dist', 'capture', 'read-capture.js')).mtime.toISOString()} (dist/ copied to ${to})`);
  return to;
}

async function main(): Promise<void> {
  if (!existsSync(readCaptureJs())) throw new Error(`${readCaptureJs()} is missing: run npm run build first (npm run bench:capture does)`);
  const startLoad = loadavg();
  workDir = mkdtempSync(join(tmpdir(), 'pgscope-capbench-'));
  codeRoot = snapshotBuild(workDir);
  const capture = await makeCapture();
  say(`capture: ${fmt(capture.bytes / MiB)} MiB at ${capture.file}`);
  if (profileArg) await profile(capture);
  else report(capture, await bench(capture), startLoad);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    say(`capture-read: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
