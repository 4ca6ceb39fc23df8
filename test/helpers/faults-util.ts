/**
 * Helpers for the fault-injection end-to-end tests (test/e2e/faults-*.test.ts): pgscope as
 * a library (startProxy from src) in front of a real server with fault rules, its status
 * lines collected; node-postgres clients through it and straight to the server (a second
 * connection that proves what the server really did); the raw client's answers as message
 * names, to compare whole sequences.
 */
import { Socket } from 'node:net';
import pg from 'pg';
import { startProxy, type PgscopeProxy } from '../../src/index.js';
import type { PgServer } from './pg-server.js';
import { errorFields, fe, type BackendMessage } from './raw-client.js';
import { waitUntil } from './traffic-util.js';

/** libpq parameters for the client leg: plaintext, so that one StartupMessage is one connection. */
export const PLAIN = { sslmode: 'disable', gssencmode: 'disable' };

export interface FaultProxy {
  proxy: PgscopeProxy;
  /** Every status line's text so far (they carry `fault rule N (canonical rule)`). */
  statuses: string[];
  /** Connection events so far (conn and phase). */
  phases: { conn: number | null; phase: string }[];
}

/** pgscope (startProxy, from src) forwarding to the server, plaintext both legs, with these rules. */
export async function faultProxy(server: PgServer, fault: string[] = []): Promise<FaultProxy> {
  const proxy = await startProxy({ serverHost: '127.0.0.1', serverConnectPort: server.port, serverSslmode: 'disable', fault });
  const statuses: string[] = [];
  const phases: { conn: number | null; phase: string }[] = [];
  proxy.on('status', (s) => statuses.push(s.text));
  proxy.on('connection', (c) => phases.push({ conn: c.conn, phase: c.phase }));
  return { proxy, statuses, phases };
}

/** node-postgres settings for a port (the proxy's or the server's). */
export function pgConfig(port: number, extra: pg.ClientConfig = {}): pg.ClientConfig {
  return { host: '127.0.0.1', port, user: 'postgres', database: 'postgres', ssl: false, connectionTimeoutMillis: 30_000, ...extra };
}

/** A connected node-postgres client; errors after a fault (a reset) are swallowed, not thrown at the process. */
export async function pgClient(port: number, extra: pg.ClientConfig = {}): Promise<pg.Client> {
  const c = new pg.Client(pgConfig(port, extra));
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** End a client whatever state a fault left it in. */
export async function endQuietly(c: pg.Client | null | undefined): Promise<void> {
  if (!c) return;
  await Promise.race([c.end().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; detail?: string; severity?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string; detail?: string; severity?: string };
  }
  throw new Error('expected the promise to reject, but it resolved');
}

const NAMES: Record<string, string> = {
  '1': 'ParseComplete',
  '2': 'BindComplete',
  '3': 'CloseComplete',
  C: 'CommandComplete',
  D: 'DataRow',
  E: 'ErrorResponse',
  I: 'EmptyQueryResponse',
  N: 'NoticeResponse',
  n: 'NoData',
  s: 'PortalSuspended',
  T: 'RowDescription',
  t: 'ParameterDescription',
  Z: 'ReadyForQuery',
};

/** Server messages as names, with ReadyForQuery's status and ErrorResponse's code: `ReadyForQuery(I)`, `ErrorResponse(40001)`. */
export function names(ms: BackendMessage[]): string[] {
  return ms.map((m) => {
    const n = NAMES[m.type] ?? `'${m.type}'`;
    if (m.type === 'Z') return `${n}(${m.body.toString('latin1')})`;
    if (m.type === 'E') return `${n}(${errorFields(m.body)['C'] ?? '?'})`;
    return n;
  });
}

/** Server messages as names without codes (to compare with what the server does for a real error). */
export function bareNames(ms: BackendMessage[]): string[] {
  return names(ms).map((n) => (n.startsWith('ErrorResponse') ? 'ErrorResponse' : n));
}

/** Backends of the server with this application_name (asked straight of the server). */
export async function backendsNamed(direct: pg.Client, appName: string): Promise<{ pid: number; state: string | null; query: string }[]> {
  const r = await direct.query<{ pid: number; state: string | null; query: string }>('select pid, state, query from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [appName]);
  return r.rows;
}

/** Wait until the server has no backend with this application_name (its connection was closed). */
export async function waitNoBackend(direct: pg.Client, appName: string, timeoutMs = 30_000): Promise<void> {
  await waitUntil(async () => (await backendsNamed(direct, appName)).length === 0, timeoutMs, `the server to end the backend of ${appName}`);
}

/** Status lines of one rule (`fault rule N (…)`). */
export function ruleLines(statuses: string[], id: number): string[] {
  return statuses.filter((s) => s.startsWith(`fault rule ${id} (`));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whole messages of a server byte stream; `rest` is what does not parse as one (garbage or a cut message). */
export function parseBackend(buf: Buffer): { messages: { type: string; body: Buffer }[]; rest: number; garbageAt: number | null } {
  const messages: { type: string; body: Buffer }[] = [];
  let i = 0;
  while (i + 5 <= buf.length) {
    const type = String.fromCharCode(buf[i]!);
    const len = buf.readInt32BE(i + 1);
    if (!/^[A-Za-z0-9]$/.test(type) || len < 4) return { messages, rest: buf.length - i, garbageAt: i };
    if (i + 1 + len > buf.length) break;
    messages.push({ type, body: buf.subarray(i + 5, i + 1 + len) });
    i += 1 + len;
  }
  return { messages, rest: buf.length - i, garbageAt: null };
}

/**
 * A client that sends a query with a large result, stops reading (so that the result is
 * still streaming through pgscope, cut in the middle of its DataRow), then sends a second
 * query in the same connection (pipelined), waits, reads again, and returns every byte the
 * server side sent it until the stream has `expectBytes` or the connection closed.
 */
export async function pipelineWhileStreaming(port: number, firstSql: string, secondSql: string, expectBytes: number): Promise<{ bytes: Buffer; closed: boolean }> {
  const s = new Socket();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.connect(port, '127.0.0.1', () => resolve());
  });
  s.on('error', () => {});
  let buf = Buffer.alloc(0);
  let closed = false;
  s.on('data', (b: Buffer) => {
    buf = Buffer.concat([buf, b]);
  });
  s.on('close', () => {
    closed = true;
  });
  try {
    s.write(fe.startup({ user: 'postgres', database: 'postgres' }));
    await waitUntil(() => parseBackend(buf).messages.some((m) => m.type === 'Z'), 30_000, 'ReadyForQuery after the startup');
    buf = Buffer.alloc(0);
    s.pause();
    s.write(fe.query(firstSql));
    await sleep(1500);
    s.write(fe.query(secondSql));
    await sleep(500);
    s.resume();
    await waitUntil(() => closed || buf.length >= expectBytes, 45_000, `${expectBytes} bytes or the end of the connection`).catch(() => {});
    await sleep(500);
    return { bytes: buf, closed };
  } finally {
    s.destroy();
  }
}
