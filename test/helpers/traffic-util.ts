/**
 * Helpers for the proxy end-to-end tests (test/e2e/proxy-*.test.ts): what pgscope's log
 * must not contain, pgscope with its log in a file, peak memory from /proc, client
 * programs that run in the background (for cancels and replication), and polling.
 *
 * Nothing here sleeps for a fixed time to let something happen: waits poll a condition
 * (a log line, a query's answer, a file) with a generous deadline.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cleanEnv, conninfoQuote, psqlBin, type PgServer } from './pg-server.js';
import { startPgscope, type Pgscope } from './pgscope.js';

// ---------------------------------------------------------------- the log

/**
 * Lines of a pgscope log that show trouble in forwarded traffic: a framing or decoding
 * error (`client -> server: !! …`), a span flagged UNPARSED, bytes left undecoded, an
 * internal error. Patterns are anchored on the log's own syntax, so escaped payload bytes
 * that happen to contain "!!" do not count.
 */
const PROBLEM_LINE = [/-> (?:server|client|script): !! /, /= UNPARSED/, /bytes not decoded \(/, /internal error/];

export function logProblems(log: string): string[] {
  return log.split('\n').filter((l) => PROBLEM_LINE.some((re) => re.test(l)));
}

/** Assert that a pgscope log decodes cleanly (shows at most the first 20 bad lines). */
export function assertCleanLog(log: string, what = 'pgscope log'): void {
  const bad = logProblems(log);
  assert.equal(bad.length, 0, `${what} has ${bad.length} problem line(s):\n${bad.slice(0, 20).join('\n')}`);
}

/** Lines of one connection (`#N  …`). */
export function connLines(log: string, conn: number): string[] {
  const prefix = `#${conn}  `;
  return log.split('\n').filter((l) => l.startsWith(prefix));
}

/** The connection numbers that logged a line matching re. */
export function connsMatching(log: string, re: RegExp): number[] {
  const out = new Set<number>();
  for (const l of log.split('\n')) {
    const m = /^#(\d+) {2}/.exec(l);
    if (m && re.test(l)) out.add(Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- pgscope

/** How long pgscope may take to listen (it makes a key first; slow on a loaded machine). */
const LISTEN_TIMEOUT_MS = 90_000;

/**
 * startPgscope with a generous wait for "listening on", and no pgscope left behind when
 * that wait fails (a running child would keep the test process alive).
 */
export async function startProxy(args: string[]): Promise<Pgscope> {
  const p = await startPgscope(args, { waitListening: false });
  try {
    const line = await p.waitFor(/listening on /, LISTEN_TIMEOUT_MS);
    const m = /listening on \[?[^\]\s]*\]?:(\d+)/.exec(line);
    if (!m) throw new Error(`cannot read the port from: ${line}`);
    return { ...p, port: Number(m[1]) };
  } catch (e) {
    await p.stop();
    throw e;
  }
}

/** pgscope forwarding everything to one server (the usual test set-up). */
export function pgscopeFor(server: PgServer, extra: string[] = []): Promise<Pgscope> {
  return startProxy(['--server-host', server.host, '--server-connect-port', String(server.port), ...extra]);
}

/**
 * Wait until pgscope has logged the end of the connection whose lines match `re` (the log
 * is written in batches and can trail the client by a moment); returns its number.
 */
export async function waitConnEnd(log: () => string, re: RegExp, timeoutMs = 30_000): Promise<number> {
  let conn = 0;
  await waitUntil(
    () => {
      const text = log();
      conn = connsMatching(text, re)[0] ?? 0;
      return conn > 0 && connLines(text, conn).some((l) => / connection end$/.test(l));
    },
    timeoutMs,
    `the end of the connection matching ${re} in the log`,
  );
  return conn;
}

/** Wait until the log has a line matching re (same as Pgscope.waitFor, for any log source). */
export async function waitLogLine(log: () => string, re: RegExp, timeoutMs = 30_000): Promise<void> {
  await waitUntil(() => re.test(log()), timeoutMs, `a log line matching ${re}`);
}

export interface FileLoggedPgscope {
  port: number;
  pid: number;
  log(): string;
  stop(): Promise<number | null>;
  stderr(): string;
}

/**
 * pgscope with `-l FILE -c` (its whole log, "listening on" included, goes to the file).
 * The port is read from the file.
 */
export async function startPgscopeLogfile(args: string[], file: string, timeoutMs = LISTEN_TIMEOUT_MS, bin?: string): Promise<FileLoggedPgscope> {
  const p = await startPgscope([...args, '-l', file, '-c'], { waitListening: false, ...(bin ? { bin } : {}) });
  const read = (): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  let port = 0;
  try {
    await waitUntil(
      async () => {
        const m = /listening on \[?[^\]\s]*\]?:(\d+)/.exec(read());
        if (m) port = Number(m[1]);
        return port > 0 || p.child.exitCode !== null;
      },
      timeoutMs,
      `"listening on" in ${file}`,
    );
  } catch (e) {
    await p.stop();
    throw e;
  }
  if (!port) throw new Error(`pgscope exited before listening:\n${read()}\n${p.stderr()}`);
  return { port, pid: p.child.pid!, log: read, stop: p.stop, stderr: p.stderr };
}

/** Peak resident memory of a live process in MiB (VmHWM from /proc/PID/status). */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

// ---------------------------------------------------------------- polling

/** Poll `check` until it returns true; throw after timeoutMs naming `what`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

/** Wait until a query with this application_name is running (state active) on the server. */
export async function waitActive(server: PgServer, appName: string, timeoutMs = 60_000, like = '%pg_sleep%'): Promise<number> {
  let pid = 0;
  await waitUntil(
    async () => {
      // A failed look (a connection timeout on a loaded machine) just means "not yet".
      const r = await server.psqlRun(`SELECT pid FROM pg_stat_activity WHERE application_name = '${appName}' AND state = 'active' AND query LIKE '${like}'`, [], { allowFailure: true });
      pid = r.code === 0 ? Number(r.stdout.trim().split('\n')[0] || 0) : 0;
      return pid > 0;
    },
    timeoutMs,
    `a running query of ${appName} in pg_stat_activity`,
  );
  return pid;
}

// ---------------------------------------------------------------- client programs

/** A libpq conninfo string from key/value pairs (values quoted). */
export function conninfo(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${conninfoQuote(String(v))}`)
    .join(' ');
}

export interface Background {
  child: ChildProcess;
  /** stdout and stderr so far (utf8). */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
  /** Stop with SIGINT, then SIGKILL after 10 s. */
  interrupt(): Promise<number | string>;
  kill(): void;
}

const backgrounds = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of backgrounds) c.kill('SIGKILL');
});

/** Start a client program in the background, collecting its output. */
export function background(cmd: string, args: string[], env: NodeJS.ProcessEnv, opts: { discardStdout?: boolean } = {}): Background {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  backgrounds.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    if (!opts.discardStdout) out += d.toString('utf8');
  });
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (e) => {
      out += `\n${cmd}: ${e.message}`;
    });
    child.once('close', (code, signal) => {
      backgrounds.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const interrupt = async (): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    }
    return exited;
  };
  return { child, output: () => out, exited, interrupt, kill: () => child.kill('SIGKILL') };
}

/** The environment for a client program: the server's clientEnv, a generous connect timeout. */
export function clientEnv(server: PgServer, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ ...server.clientEnv, PGCONNECT_TIMEOUT: '60', ...extra });
}

/** psql (-X -A -t, VERBOSITY verbose so errors show their SQLSTATE) running `sql` in the background. */
export function backgroundPsql(server: PgServer, params: Record<string, string | number>, sql: string, env: Record<string, string> = {}): Background {
  const args = ['-X', '-A', '-t', '-v', 'VERBOSITY=verbose', '-d', conninfo(params), '-c', sql];
  return background(psqlBin(), args, clientEnv(server, env));
}

export interface StreamResult {
  code: number | null;
  bytes: number;
  sha256: string;
  stderr: string;
  ms: number;
}

/** Run a program and hash its stdout as it streams (for outputs too big to keep). */
export function hashStdout(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    backgrounds.add(child);
    const h = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      bytes += b.length;
      h.update(b);
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      backgrounds.delete(child);
      resolve({ code, bytes, sha256: h.digest('hex'), stderr, ms: Date.now() - t0 });
    });
  });
}

/**
 * Run a program feeding its stdin from a generator of chunks, respecting backpressure
 * (for inputs too big to build in memory at once).
 */
export function feedStdin(cmd: string, args: string[], env: NodeJS.ProcessEnv, chunks: Iterable<Buffer>, timeoutMs = 180_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    backgrounds.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdin.on('error', () => {
      /* the child may exit early; its exit code tells */
    });
    const it = chunks[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        const n = it.next();
        if (n.done) {
          child.stdin.end();
          return;
        }
        if (!child.stdin.write(n.value)) {
          child.stdin.once('drain', pump);
          return;
        }
      }
    };
    pump();
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      backgrounds.delete(child);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}
