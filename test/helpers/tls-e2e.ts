/**
 * Shared pieces of the proxy end-to-end tests (test/e2e/proxy-tls, proxy-routing,
 * proxy-cli): a tracker that stops every pgscope a test started, psql through a pgscope,
 * the `#N` lines of one connection, ordered line matching, and pgscope run to completion
 * (usage errors) or without the helper's automatic --bw (colour tests).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { PgServer } from './pg-server.js';
import { PGSCOPE_BIN, startPgscope, type Pgscope, type PgscopeOptions } from './pgscope.js';
import { run, type RunResult } from './proc.js';

/** Generous: the suite runs on a loaded 2-core machine. */
export const WAIT_MS = 30_000;

/** Starts pgscope processes and stops them all (in after/afterEach hooks). */
export class Scopes {
  private readonly live: Pgscope[] = [];

  async start(args: string[], opts: PgscopeOptions = {}): Promise<Pgscope> {
    const p = await startPgscope(args, opts);
    this.live.push(p);
    return p;
  }

  /** Keep track of a process started some other way. */
  track(p: Pgscope): Pgscope {
    this.live.push(p);
    return p;
  }

  async stopAll(): Promise<void> {
    const all = this.live.splice(0);
    await Promise.all(all.map((p) => p.stop()));
  }
}

export interface ViaOptions {
  /** Connection parameters added to host/port/user/dbname (sslmode, channel_binding, …). */
  params?: Record<string, string>;
  host?: string;
  /** Environment for psql (e.g. LD_LIBRARY_PATH for libpq 18). */
  env?: Record<string, string>;
  user?: string;
  db?: string;
}

/** psql -c sql through pgscope (port) with `server`'s password and client environment; never rejects on a non-zero exit. */
export function psqlVia(server: PgServer, port: number, sql: string, o: ViaOptions = {}): Promise<RunResult> {
  return server.psqlRun(sql, [], {
    port,
    allowFailure: true,
    timeoutMs: 45_000,
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.params ? { params: o.params } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.user ? { user: o.user } : {}),
    ...(o.db ? { db: o.db } : {}),
  });
}

/** Like psqlVia, but the query must succeed; resolves to its output without trailing white space. */
export async function psqlOk(server: PgServer, port: number, sql: string, o: ViaOptions = {}): Promise<string> {
  const r = await psqlVia(server, port, sql, o);
  assert.equal(r.code, 0, `psql through pgscope failed (exit ${r.code}):\n${r.stderr}`);
  return r.stdout.trimEnd();
}

/** Wait until connection #n has ended in pgscope's log; resolves to the whole output. */
export async function connectionEnded(p: Pgscope, n: number): Promise<string> {
  await p.waitFor(new RegExp(`^#${n}  connection end$`), WAIT_MS);
  return p.output();
}

/** Every log line of connection #n (continuation lines included), in order. */
export function connLines(output: string, n: number): string[] {
  const prefix = `#${n}  `;
  return output.split('\n').filter((l) => l.startsWith(prefix));
}

/** The first line of each entry of connection #n: status lines and message heads, without indented continuation lines. */
export function connHeads(output: string, n: number): string[] {
  return connLines(output, n).filter((l) => !/^#\d+ {3,}/.test(l));
}

/**
 * Assert that `lines` contains a line matching each pattern, in this order (other lines
 * may come between). Returns the indexes of the matches.
 */
export function assertInOrder(lines: string[], patterns: RegExp[], what = 'log'): number[] {
  const at: number[] = [];
  let from = 0;
  for (const re of patterns) {
    const i = lines.findIndex((l, k) => k >= from && re.test(l));
    assert.ok(i >= 0, `${what}: no line matching ${re} after line ${from}.\n--- lines ---\n${lines.join('\n')}`);
    at.push(i);
    from = i + 1;
  }
  return at;
}

/** Assert that no line matches. */
export function assertNone(lines: string[], re: RegExp, what = 'log'): void {
  const hit = lines.find((l) => re.test(l));
  assert.equal(hit, undefined, `${what}: unexpected line matching ${re}`);
}

/** Run the pgscope CLI to completion (usage errors, --help). */
export function runPgscope(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = WAIT_MS): Promise<RunResult> {
  return run(process.execPath, [PGSCOPE_BIN, ...args], { env, allowFailure: true, timeoutMs });
}

/**
 * pgscope exactly as given (no `-p 0`, no `--bw` added), stdout and stderr piped; the
 * caller must stop it (kill + exited). For colour and environment tests.
 */
export interface BarePgscope {
  child: ChildProcess;
  output(): string;
  stderr(): string;
  /** Resolve when stdout contains a match for re. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnPgscope(args: string[], env: NodeJS.ProcessEnv): BarePgscope {
  const child = spawn(process.execPath, [PGSCOPE_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const l of [...listeners]) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const l of [...listeners]) l();
  });
  const waitFor = (re: RegExp, timeoutMs = WAIT_MS): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (re.test(out)) {
          finish();
          resolve();
        } else if (gone) {
          finish();
          reject(new Error(`pgscope exited before printing ${re}.\n--- stdout ---\n${out}\n--- stderr ---\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`pgscope printed nothing matching ${re} within ${timeoutMs} ms.\n--- stdout ---\n${out}\n--- stderr ---\n${err}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return { child, output: () => out, stderr: () => err, waitFor, exited, stop };
}

/** An environment without colour variables (and without PG* variables that would redirect psql). */
export function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') env[k] = v;
  return { ...env, ...extra };
}

/** Poll `check` (a cheap, local condition such as a file's contents) until it holds. */
export async function eventually<T>(check: () => T | undefined | null | false, what: string, timeoutMs = WAIT_MS): Promise<T> {
  const until = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}
