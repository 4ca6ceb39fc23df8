/**
 * PgBouncer (Debian's package) in front of one test server, for the benchmark suite:
 * session pooling, SCRAM-SHA-256 with the password in plaintext in its auth_file (so that
 * it can authenticate to the server itself), TLS to clients (with the server's own
 * certificate) and TLS to the server. Runs as the unprivileged `postgres` user when we are
 * root (it refuses to run as root), from a folder it can write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PgServer } from '../../test/helpers/pg-server.js';
import { freePort, portAnswers } from '../../test/helpers/ports.js';

export const PGBOUNCER_BIN = process.env['PGBOUNCER'] ?? '/usr/sbin/pgbouncer';

export interface PgBouncer {
  port: number;
  pid: number;
  version: string;
  log(): string;
  stop(): Promise<void>;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function giveToPostgres(path: string, mode: number): void {
  chmodSync(path, mode);
  if (!isRoot) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(path, uid, gid);
}

export async function startPgBouncer(server: PgServer, opts: { poolSize?: number; maxClients?: number } = {}): Promise<PgBouncer> {
  if (!existsSync(PGBOUNCER_BIN)) throw new Error(`${PGBOUNCER_BIN} not found: install Debian's pgbouncer package (apt-get install pgbouncer)`);
  if (!server.certFile || !server.keyFile) throw new Error('startPgBouncer needs a server started with ssl: true (it reuses its certificate)');
  const version = execFileSync(PGBOUNCER_BIN, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  const dir = mkdtempSync(join(tmpdir(), 'pgscope-pgbouncer-'));
  giveToPostgres(dir, 0o700);
  const logFile = join(dir, 'pgbouncer.log');
  const read = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const users = join(dir, 'userlist.txt');
  writeFileSync(users, `"postgres" "${server.password}"\n"${server.user.name}" "${server.user.password}"\n`);
  giveToPostgres(users, 0o600);

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const ini = join(dir, 'pgbouncer.ini');
    writeFileSync(
      ini,
      [
        '[databases]',
        `* = host=127.0.0.1 port=${server.port}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        `logfile = ${logFile}`,
        `pidfile = ${join(dir, 'pgbouncer.pid')}`,
        'auth_type = scram-sha-256',
        `auth_file = ${users}`,
        'pool_mode = session',
        `max_client_conn = ${opts.maxClients ?? 200}`,
        `default_pool_size = ${opts.poolSize ?? 40}`,
        'client_tls_sslmode = require',
        `client_tls_cert_file = ${server.certFile}`,
        `client_tls_key_file = ${server.keyFile}`,
        'server_tls_sslmode = require',
        'log_connections = 0',
        'log_disconnections = 0',
        'log_pooler_errors = 1',
        'ignore_startup_parameters = extra_float_digits,options',
        '',
      ].join('\n'),
    );
    giveToPostgres(ini, 0o600);
    const cmd = isRoot ? 'runuser' : PGBOUNCER_BIN;
    const args = isRoot ? ['-u', 'postgres', '--', PGBOUNCER_BIN, ini] : [ini];
    const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let bouncerPid = 0;
    const killer = (): void => {
      if (bouncerPid) {
        try {
          process.kill(bouncerPid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      child.kill('SIGKILL');
    };
    process.once('exit', killer);
    const until = Date.now() + 30_000;
    let up = false;
    while (Date.now() < until && child.exitCode === null) {
      if (await portAnswers(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) {
      child.kill('SIGKILL');
      await exited;
      process.off('exit', killer);
      const why = `${out}\n${read()}`;
      if (attempt < 5 && /Address already in use/i.test(why)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PgBouncer did not start:\n${why}`);
    }
    // runuser execs nothing: pgbouncer is its child. Its own pid is in the pidfile.
    const pidFile = join(dir, 'pgbouncer.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : child.pid!;
    bouncerPid = pid;
    return {
      port,
      pid,
      version,
      log: read,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(pid, 'SIGINT'); // immediate shutdown
          } catch {
            child.kill('SIGTERM');
          }
          const t = setTimeout(() => {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* gone */
            }
            child.kill('SIGKILL');
          }, 5000);
          await exited;
          clearTimeout(t);
        }
        process.off('exit', killer);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
