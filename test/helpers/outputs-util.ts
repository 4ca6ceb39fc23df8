/**
 * Helpers for the end-to-end tests of pgscope's outputs (test/e2e/outputs-*.test.ts):
 * reading the query log and JSON lines back, pgscope when its text log goes to standard
 * error, pgbench through pgscope, and waiting for every connection to end.
 *
 * Nothing here sleeps for a fixed time: waits poll a condition with a deadline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { clientBin, cleanEnv, type PgServer } from './pg-server.js';
import { startPgscope, type Pgscope } from './pgscope.js';
import { freePort, portAnswers } from './ports.js';
import { run, type RunResult } from './proc.js';
import { waitUntil } from './traffic-util.js';

export { waitUntil };

// ---------------------------------------------------------------- files

/** The contents of a file, or '' when it does not exist yet. */
export function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** Complete lines of a file (a last line without its newline is still being written). */
export function completeLines(text: string): string[] {
  const end = text.lastIndexOf('\n');
  return end < 0 ? [] : text.slice(0, end).split('\n');
}

// ---------------------------------------------------------------- the query log

export interface QueryLogEntry {
  line: string;
  conn: number;
  start: string;
  protocol: 'simple' | 'extended';
  /** ms, as printed (three decimals). */
  duration: number;
  /** ms, or null when printed as "-". */
  ready: number | null;
  /** The command tag (+ rows=N), "ERROR 42P01 …", EMPTY or SUSPENDED. */
  outcome: string;
  sql: string;
  /** "$1=int4 42, $2=…", or null without parameters. */
  params: string | null;
}

const QUERY_LOG_HEAD = /^#(\d+) *  (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)  (simple|extended) +([\d.]+) ms  ready +(?:([\d.]+) ms|-   ) {2}(.*)$/;

/** One query-log line, parsed (throws naming the line when it does not have the documented shape). */
export function parseQueryLogLine(line: string): QueryLogEntry {
  const bar = line.indexOf(' | ');
  if (bar < 0) throw new Error(`query-log line without " | ": ${line}`);
  const m = QUERY_LOG_HEAD.exec(line.slice(0, bar));
  if (!m) throw new Error(`query-log line with an unexpected head: ${line}`);
  let rest = line.slice(bar + 3);
  let params: string | null = null;
  const p = / \| (\$1=.*)$/.exec(rest);
  if (p) {
    params = p[1]!;
    rest = rest.slice(0, p.index);
  }
  return {
    line,
    conn: Number(m[1]),
    start: m[2]!,
    protocol: m[3] as 'simple' | 'extended',
    duration: Number(m[4]),
    ready: m[5] === undefined ? null : Number(m[5]),
    outcome: m[6]!,
    sql: rest,
    params,
  };
}

export function parseQueryLog(text: string): QueryLogEntry[] {
  return completeLines(text)
    .filter((l) => l !== '')
    .map(parseQueryLogLine);
}

/**
 * A growing query-log file read from a position onwards: `mark()` before a workload,
 * then `since()` gives the lines the workload added.
 */
export class QueryLogReader {
  private at = 0;
  constructor(readonly path: string) {}
  mark(): void {
    this.at = Buffer.byteLength(readText(this.path));
  }
  since(): QueryLogEntry[] {
    const all = readFileSync(this.path);
    return parseQueryLog(all.subarray(this.at).toString('utf8'));
  }
  /** Wait until the lines since the mark satisfy `ok`; returns them (or throws showing them). */
  async waitFor(ok: (entries: QueryLogEntry[]) => boolean, what: string, timeoutMs = 20_000): Promise<QueryLogEntry[]> {
    let last: QueryLogEntry[] = [];
    try {
      await waitUntil(
        () => {
          last = existsSync(this.path) ? this.since() : [];
          return ok(last);
        },
        timeoutMs,
        what,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- query log since the mark ---\n${last.map((x) => x.line).join('\n')}`);
    }
    return last;
  }
}

// ---------------------------------------------------------------- JSON lines

export type JsonObj = Record<string, unknown> & { type: string; conn: number | null };

// ---------------------------------------------------------------- the text log

/** Connection numbers that logged "connected from", and those that logged "connection end". */
export function connCounts(log: string): { opened: number; ended: number } {
  return {
    opened: (log.match(/^#\d+ {2}connected from /gm) ?? []).length,
    ended: (log.match(/^#\d+ {2}connection end$/gm) ?? []).length,
  };
}

/** Wait until every connection the text log has seen has ended (and at least `min` were seen). */
export async function waitAllEnded(log: () => string, min = 1, timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    () => {
      const c = connCounts(log());
      return c.opened >= min && c.ended === c.opened;
    },
    timeoutMs,
    `every connection (at least ${min}) to end in the text log`,
  );
}

// ---------------------------------------------------------------- pgscope on standard error

/**
 * pgscope whose text log goes to standard error (`--jsonl -`, `--query-log -`): the
 * "listening on" line is read from there. `output()` is then the other output.
 */
export async function startPgscopeStderrLog(args: string[]): Promise<Pgscope> {
  const p = await startPgscope(args, { waitListening: false });
  let port = 0;
  try {
    await waitUntil(
      () => {
        const m = /listening on \[?[^\]\s]*\]?:(\d+)/.exec(p.stderr());
        if (m) port = Number(m[1]);
        if (!m && p.child.exitCode !== null) throw new Error(`pgscope exited (${p.child.exitCode}) before listening:\n${p.stderr()}`);
        return port > 0;
      },
      90_000,
      '"listening on" on pgscope\'s standard error',
    );
  } catch (e) {
    await p.stop();
    throw e;
  }
  return { ...p, port };
}

// ---------------------------------------------------------------- pgbench

/** pgbench against `port` (the server's or pgscope's) as the superuser, database postgres. */
export function pgbench(server: PgServer, port: number, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return run(clientBin('pgbench'), ['-h', '127.0.0.1', '-p', String(port), '-U', server.superuser, ...args, 'postgres'], {
    env: cleanEnv({ ...server.clientEnv, PGCONNECT_TIMEOUT: '60', ...env }),
    timeoutMs: 120_000,
  });
}

/** "number of transactions actually processed: 20/20" → 20. */
export function pgbenchTransactions(r: RunResult): number {
  const m = /number of transactions actually processed: (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no transaction count in pgbench's output:\n${r.stdout}\n${r.stderr}`);
  return Number(m[1]);
}

/**
 * The statements of pgbench's built-in tpcb-like script, in order, as patterns on their
 * SQL (simple mode sends the values, extended and prepared modes $1, $2, …).
 */
export const TPCB_STATEMENTS: [string, RegExp][] = [
  ['BEGIN', /^BEGIN;?$/],
  ['UPDATE accounts', /^UPDATE pgbench_accounts SET abalance = abalance \+ \S+ WHERE aid = \S+;?$/],
  ['SELECT abalance', /^SELECT abalance FROM pgbench_accounts WHERE aid = \S+;?$/],
  ['UPDATE tellers', /^UPDATE pgbench_tellers SET tbalance = tbalance \+ \S+ WHERE tid = \S+;?$/],
  ['UPDATE branches', /^UPDATE pgbench_branches SET bbalance = bbalance \+ \S+ WHERE bid = \S+;?$/],
  ['INSERT history', /^INSERT INTO pgbench_history \(tid, bid, aid, delta, mtime\) VALUES \(\S+, \S+, \S+, \S+, CURRENT_TIMESTAMP\);?$/],
  ['END', /^END;?$/],
];

/** How many of `sqls` match each statement of the tpcb-like script. */
export function tpcbCounts(sqls: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, re] of TPCB_STATEMENTS) out[name] = sqls.filter((s) => re.test(s)).length;
  return out;
}

// ---------------------------------------------------------------- pgscope that prints nothing at start

/**
 * pgscope whose "listening on" line is filtered out (`--filter errors` keeps only
 * error-level status lines): it listens on a port chosen here (-p), and is ready when that
 * port accepts a TCP connection. The probe is a connection of its own (#1, closed without
 * a byte), so the first client is #2. Retries on another port if this one was taken.
 */
export async function startPgscopeSilent(args: string[]): Promise<Pgscope> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const p = await startPgscope(['-p', String(port), ...args], { waitListening: false });
    try {
      await waitUntil(async () => p.child.exitCode !== null || (await portAnswers(port)), 90_000, `pgscope to accept connections on port ${port}`);
    } catch (e) {
      await p.stop();
      throw e;
    }
    if (p.child.exitCode === null) return { ...p, port };
    if (attempt >= 5 || !/already in use/.test(p.stderr())) throw new Error(`pgscope exited (${p.child.exitCode}) before listening:\n${p.stderr()}`);
  }
}
