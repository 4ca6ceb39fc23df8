/**
 * `pgscope sniff`: live, passive decoding of real traffic. One PostgreSQL 15 server; psql
 * talks to it directly (plaintext), while
 *   - `pgscope sniff -i lo --port S --jsonl OUT --query-log QL` runs tcpdump into a pipe and
 *     decodes as packets come: it says when it is capturing, writes the messages and
 *     statements while the session runs, stops on SIGINT with exit 0 and leaves no tcpdump
 *     behind; what it wrote is what `pgscope read` finds in a tcpdump capture of the same
 *     traffic;
 *   - SIGTERM stops it the same way;
 *   - with only dumpcap on PATH, it captures with dumpcap;
 *   - with neither on PATH: a non-zero exit, and standard error names the package to
 *     install.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseQueryLog, waitUntil } from '../helpers/outputs-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { PGSCOPE_BIN } from '../helpers/pgscope.js';
import { run } from '../helpers/proc.js';
import { startTcpdump, type Tcpdump } from '../helpers/tcpdump.js';

const T = { timeout: 180_000 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

let server: PgServer;
let dir: string;
const live = new Set<ChildProcess>();
let tcpdump: Tcpdump | null = null;

process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-sniff-'));
  server = await startPgServer({ version: 15 });
}, { timeout: 180_000 });

after(async () => {
  for (const c of live) c.kill('SIGKILL');
  await tcpdump?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers

interface Sniffer {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startSniff(args: string[], env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }, node = process.execPath): Sniffer {
  const child = spawn(node, [PGSCOPE_BIN, 'sniff', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Wait until the sniffer says it is capturing (its tool is listening); throws showing its output if it exits first. */
async function waitCapturing(s: Sniffer, tool: 'tcpdump' | 'dumpcap', iface = 'lo'): Promise<void> {
  const re = new RegExp(`^pgscope: sniffing on ${iface} with ${tool}\\b`, 'm');
  try {
    await waitUntil(() => re.test(s.stderr()) || s.child.exitCode !== null || s.child.signalCode !== null, 60_000, `pgscope sniff to say ${re}`);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- stderr ---\n${s.stderr()}\n--- stdout ---\n${s.stdout().slice(-2000)}`);
  }
  assert.ok(re.test(s.stderr()), `pgscope sniff exited (${s.child.exitCode ?? s.child.signalCode}) before capturing:\n${s.stderr()}`);
}

/** Wait until `out` has the statement `sql`; on a timeout, show what the sniffer wrote and said. */
async function waitStatement(s: Sniffer, out: string, sql: string): Promise<void> {
  try {
    await waitUntil(() => readJsonlSoFar(out).some((o) => o.type === 'statement' && o.sql === sql), 60_000, `the statement ${sql} in ${out}`);
  } catch (e) {
    const seen = readJsonlSoFar(out).map((o) => (o.type === 'message' ? `#${o.conn} ${o.label} ${o.msg}` : `#${o.conn} ${o.type} ${o.phase ?? o.sql ?? o.text ?? o.reason ?? ''}`));
    throw new Error(`${(e as Error).message} (pgscope sniff ${s.child.exitCode === null ? 'still running' : `exited ${s.child.exitCode}`})\n--- ${out} ---\n${seen.join('\n')}\n--- stderr ---\n${s.stderr()}\n--- stdout (end) ---\n${s.stdout().slice(-3000)}`);
  }
}

/** Stop with a signal and wait (SIGKILL after 30 s: then the test fails on the exit status). */
async function stopWith(s: Sniffer, sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.child.kill(sig);
  const t = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
  const r = await s.exited;
  clearTimeout(t);
  return r;
}

const readJsonl = (path: string): Obj[] =>
  (existsSync(path) ? readFileSync(path, 'utf8') : '')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Obj);

/** Complete lines only: the file is being written. */
function readJsonlSoFar(path: string): Obj[] {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const end = text.lastIndexOf('\n');
  return end < 0
    ? []
    : text
        .slice(0, end)
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Obj);
}

/** The processes whose parent is `pid`, with their command names. */
function childrenOf(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(e), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      /* gone */
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
};

/** The statements of the connection that ran `marker`, as [sql, tag or error code]. */
function statementsOf(objects: Obj[], marker: string): { conn: number; list: [string, string][] } {
  const conn = objects.find((o) => o.type === 'statement' && o.sql === marker)?.conn as number | undefined;
  assert.ok(conn !== undefined, `no statement ${marker}; statements: ${JSON.stringify(objects.filter((o) => o.type === 'statement').map((o) => o.sql))}`);
  return { conn, list: objects.filter((o) => o.type === 'statement' && o.conn === conn).map((o) => [o.sql, o.error ? o.error.code : o.tag]) };
}

const PLAIN = { sslmode: 'disable', gssencmode: 'disable' };

/** A message as decoded, whatever its connection number and time. */
function comparable(o: Obj): Obj {
  const { time: _t, ts: _ts, conn: _c, ...rest } = o;
  return rest;
}

// ---------------------------------------------------------------- tests

describe('pgscope sniff -i lo --port S', () => {
  it('decodes a psql session live (messages and statements while it runs), stops on SIGINT with exit 0 and no tcpdump left; the same messages as `pgscope read` of a tcpdump capture', T, async () => {
    const out = join(dir, 'sigint.jsonl');
    const ql = join(dir, 'sigint.ql');
    const cap = join(dir, 'same.pcap');
    // A capture of the same traffic, to read afterwards.
    tcpdump = await startTcpdump(cap, [server.port]);
    const s = startSniff(['-i', 'lo', '--port', String(server.port), '--jsonl', out, '--query-log', ql, '--bw']);
    try {
      await waitCapturing(s, 'tcpdump');
      const tools = childrenOf(s.child.pid!).filter((c) => c.comm === 'tcpdump');
      assert.equal(tools.length, 1, `pgscope sniff's children: ${JSON.stringify(childrenOf(s.child.pid!))}`);

      // One psql session, one statement at a time: each must show up while pgscope still runs.
      const r = await server.psqlRun("select 'sniffed-1' as a", ['-v', 'ON_ERROR_STOP=0', '-c', 'select 1/0', '-c', "select 'sniffed-2' as a"], { params: { ...PLAIN, application_name: 'sniffed' }, allowFailure: true });
      assert.equal(r.stdout, 'sniffed-1\nsniffed-2\n', r.stderr);
      await waitStatement(s, out, "select 'sniffed-2' as a");
      assert.equal(s.child.exitCode, null, 'pgscope sniff ended by itself');

      const ended = await stopWith(s, 'SIGINT');
      assert.deepEqual(ended, { code: 0, signal: null }, `pgscope sniff on SIGINT:\n${s.stderr()}`);
      // Its tcpdump is gone too.
      await waitUntil(() => tools.every((t) => !alive(t.pid)), 15_000, `pgscope's tcpdump (${tools.map((t) => t.pid).join(', ')}) to end`);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
    const stats = await tcpdump.stop();
    tcpdump = null;
    assert.equal(stats.droppedByKernel, 0, JSON.stringify(stats));

    const objects = readJsonl(out);
    const { conn, list } = statementsOf(objects, "select 'sniffed-1' as a");
    assert.deepEqual(list, [
      ["select 'sniffed-1' as a", 'SELECT 1'],
      ['select 1/0', '22012'],
      ["select 'sniffed-2' as a", 'SELECT 1'],
    ]);
    const msgs = objects.filter((o) => o.type === 'message' && o.conn === conn);
    const names = msgs.map((o) => o.msg);
    for (const n of ['StartupMessage', 'AuthenticationSASL', 'SASLInitialResponse', 'AuthenticationOk', 'ParameterStatus', 'BackendKeyData', 'Query', 'RowDescription', 'DataRow', 'CommandComplete', 'ErrorResponse', 'ReadyForQuery', 'Terminate']) {
      assert.ok(names.includes(n), `no ${n} among ${names.join(', ')}`);
    }
    assert.equal(names.filter((n) => n === 'Query').length, 3);
    // The server is the end on --port.
    const opened = objects.find((o) => o.conn === conn && o.type === 'connection' && o.phase === 'opened');
    assert.equal(opened?.local?.port, server.port, JSON.stringify(opened));

    const lines = parseQueryLog(readFileSync(ql, 'utf8')).filter((l) => l.conn === conn);
    assert.deepEqual(
      lines.map((l) => [l.sql, l.outcome.replace(/ rows=\d+$/, '')]),
      [
        ["select 'sniffed-1' as a", 'SELECT 1'],
        ['select 1/0', 'ERROR 22012 division by zero'],
        ["select 'sniffed-2' as a", 'SELECT 1'],
      ],
    );
    // The annotated log went to standard output.
    assert.match(s.stdout(), /sniffed-2/);

    // What `pgscope read` finds in tcpdump's own capture of the same traffic.
    const again = join(dir, 'read.jsonl');
    const rr = await run(process.execPath, [PGSCOPE_BIN, 'read', cap, '--port', String(server.port), '--jsonl', again, '--log-forwarded', 'none', '--bw'], { allowFailure: true, timeoutMs: 120_000 });
    assert.equal(rr.code, 0, rr.stderr);
    const read = readJsonl(again);
    const readConn = statementsOf(read, "select 'sniffed-1' as a").conn;
    for (const d of ['frontend', 'backend']) {
      assert.deepEqual(
        read.filter((o) => o.type === 'message' && o.conn === readConn && o.dir === d).map(comparable),
        msgs.filter((o) => o.dir === d).map(comparable),
        d,
      );
    }
  });

  it('SIGTERM stops it too: exit 0, what it saw written', T, async () => {
    const out = join(dir, 'sigterm.jsonl');
    const s = startSniff(['-i', 'lo', '--port', String(server.port), '--jsonl', out, '--log-forwarded', 'compact', '--bw']);
    try {
      await waitCapturing(s, 'tcpdump');
      await server.psql("select 'terminated' as a", [], { params: PLAIN });
      await waitStatement(s, out, "select 'terminated' as a");
      const ended = await stopWith(s, 'SIGTERM');
      assert.deepEqual(ended, { code: 0, signal: null }, `pgscope sniff on SIGTERM:\n${s.stderr()}`);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
    assert.deepEqual(statementsOf(readJsonl(out), "select 'terminated' as a").list, [["select 'terminated' as a", 'SELECT 1']]);
    assert.match(s.stdout(), /Query "select 'terminated' as a"/);
  });

  it('with only dumpcap on PATH: it captures with dumpcap', T, async () => {
    const bin = join(dir, 'bin-dumpcap');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    assert.ok(existsSync('/usr/bin/dumpcap'), 'dumpcap is not installed (apt-get install wireshark-common, or tshark)');
    symlinkSync('/usr/bin/dumpcap', join(bin, 'dumpcap'));
    const out = join(dir, 'dumpcap.jsonl');
    const s = startSniff(['-i', 'lo', '--port', String(server.port), '--jsonl', out, '--log-forwarded', 'none', '--bw'], { ...process.env, PATH: bin, NO_COLOR: '1' }, join(bin, 'node'));
    try {
      await waitCapturing(s, 'dumpcap');
      await server.psql("select 'dumpcapped' as a", [], { params: PLAIN });
      await waitStatement(s, out, "select 'dumpcapped' as a");
      const ended = await stopWith(s, 'SIGINT');
      assert.deepEqual(ended, { code: 0, signal: null }, `pgscope sniff on SIGINT:\n${s.stderr()}`);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
    assert.deepEqual(statementsOf(readJsonl(out), "select 'dumpcapped' as a").list, [["select 'dumpcapped' as a", 'SELECT 1']]);
  });

  it('neither tcpdump nor dumpcap on PATH: a non-zero exit, and standard error says which package to install', T, async () => {
    const bin = join(dir, 'bin-none');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const s = startSniff(['-i', 'lo', '--port', String(server.port)], { ...process.env, PATH: bin, NO_COLOR: '1' }, join(bin, 'node'));
    const t = setTimeout(() => s.child.kill('SIGKILL'), 60_000);
    const ended = await s.exited;
    clearTimeout(t);
    assert.notEqual(ended.code, 0, s.stderr());
    assert.equal(ended.signal, null, `pgscope sniff was killed: it did not exit by itself\n${s.stderr()}`);
    assert.match(s.stderr(), /^pgscope: /m);
    assert.match(s.stderr(), /apt-get install tcpdump/);
    assert.doesNotMatch(s.stderr(), /\n\s+at /, 'a stack trace');
  });
});
