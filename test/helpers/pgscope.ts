/**
 * Runs the real pgscope (bin/pgscope.js, the compiled CLI a user runs) as a child process
 * for end-to-end tests. Listens on a free port chosen by the OS (-p 0) and reads the port
 * from its "listening on" line, so tests never race for ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PGSCOPE_BIN = join(ROOT, 'bin', 'pgscope.js');

export interface Pgscope {
  /** The port pgscope listens on. */
  port: number;
  child: ChildProcess;
  /** Everything written to stdout so far. */
  output(): string;
  stderr(): string;
  /** Resolve when stdout has a line matching re (rejects after timeoutMs, showing the output). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface PgscopeOptions {
  env?: NodeJS.ProcessEnv;
  /** Do not add `-p 0` (the test gives its own listening options). */
  noPort?: boolean;
  /** Wait for the "listening on" line (default true). */
  waitListening?: boolean;
  /** Another build's bin/pgscope.js (the bench compares builds side by side). */
  bin?: string;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Start pgscope with these arguments (plus -p 0 and --bw unless given). */
export async function startPgscope(args: string[], opts: PgscopeOptions = {}): Promise<Pgscope> {
  const full = [...(opts.noPort || args.includes('-p') || args.includes('--client-listen-port') ? [] : ['-p', '0']), ...(args.some((a) => a === '--bw' || a === '--no-bw') ? [] : ['--bw']), ...args];
  const child = spawn(process.execPath, [opts.bin ?? PGSCOPE_BIN, ...full], { env: opts.env ?? { ...process.env, NO_COLOR: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const waitFor = (re: RegExp, timeoutMs = 20_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const w = { re, resolve };
      waiters.push(w);
      check();
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`pgscope printed no line matching ${re} within ${timeoutMs} ms.\n--- stdout ---\n${out}\n--- stderr ---\n${err}`));
      }, timeoutMs);
      timer.unref();
      void exited.then(() => {
        setTimeout(() => {
          if (waiters.includes(w)) {
            waiters.splice(waiters.indexOf(w), 1);
            clearTimeout(timer);
            reject(new Error(`pgscope exited before printing a line matching ${re}.\n--- stdout ---\n${out}\n--- stderr ---\n${err}`));
          }
        }, 100);
      });
    });
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  let port = 0;
  if (opts.waitListening !== false) {
    try {
      // Generous: key generation and start-up take seconds on a loaded 2-core machine.
      const line = await waitFor(/listening on /, 90_000);
      const m = /listening on \[?[^\]\s]*\]?:(\d+)/.exec(line);
      if (!m) throw new Error(`cannot read the port from: ${line}`);
      port = Number(m[1]);
    } catch (e) {
      // Never leave a pgscope behind: a live child keeps the test run from ending.
      await stop();
      throw e;
    }
  }
  return { port, child, output: () => out, stderr: () => err, waitFor, exited, stop };
}
