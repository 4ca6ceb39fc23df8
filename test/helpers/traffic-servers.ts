/**
 * Moving a test server to another address and port, for tests that put two servers
 * behind one pgscope: pgscope connects to every server on the same --server-connect-port
 * and tells them apart by host only (the SNI name), so the second server must listen on
 * another loopback address (127.0.0.2) with the first one's port.
 */
import { cleanEnv, type PgServer } from './pg-server.js';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.js';
import { portAnswers } from './ports.js';

export interface MovedServer {
  server: PgServer;
  host: string;
  port: number;
  /** server.psql() at the new address. */
  psql(sql: string): Promise<string>;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Run pg_ctl on a test server (as the `postgres` user when we are root, as the harness
 * does): `pgCtl(server, 'stop', '-m', 'immediate')`, `pgCtl(server, 'start')`. -D, -w and,
 * for start/restart, -l are added.
 */
export async function pgCtl(server: PgServer, command: 'start' | 'stop' | 'restart', ...options: string[]): Promise<void> {
  const bin = join(server.binDir, 'pg_ctl');
  const args = [command, '-D', server.dataDir, ...(command === 'stop' ? [] : ['-l', server.logFile]), '-w', '-t', '60', '-s', ...options];
  const opts = { env: cleanEnv(), timeoutMs: 90_000, allowFailure: true };
  const r = isRoot ? await run('runuser', ['-u', 'postgres', '--', bin, ...args], opts) : await run(bin, args, opts);
  if (r.code !== 0) throw new Error(`pg_ctl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}\n--- server log ---\n${server.log()}`);
}

/** Restart `server` listening on address:port only. Its stop() keeps working. */
export async function moveServer(server: PgServer, address: string, port: number): Promise<MovedServer> {
  appendFileSync(join(server.dataDir, 'postgresql.conf'), `\n# moved by traffic-servers.ts\nlisten_addresses = '${address}'\nport = ${port}\n`);
  await pgCtl(server, 'restart', '-m', 'fast');
  if (!(await portAnswers(port, address))) throw new Error(`the moved server does not answer on ${address}:${port}`);
  return { server, host: address, port, psql: (sql) => server.psql(sql, [], { host: address, port }) };
}
