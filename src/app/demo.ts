/**
 * `pgscope --demo`: start a throwaway PostgreSQL server (embedded-server.ts), put the proxy in
 * front of it, print what to paste into another terminal, and clean everything up when
 * pgscope stops (Ctrl-C, SIGTERM, --quit-on-hangup) or the server dies.
 */
import net from 'node:net';
import type { Config } from './config.js';
import { fmtHostPort } from '../session/host-port.js';
import { launch, type RunningProxy } from './launch.js';
import { OutputTarget } from '../output/output-target.js';
import { terminalSafeLines } from '../output/terminal-safe.js';
import { COLOUR, MONOCHROME } from '../output/style.js';
import { checkDemoPrerequisites, DemoError, freePort, startEmbeddedServer, type EmbeddedServer } from '../demo/embedded-server.js';

export const DEMO_DATABASE = 'demo';

/** Run in the demo database once it exists: a small table to query. */
export const DEMO_SETUP: readonly string[] = [
  `CREATE SCHEMA demo;
CREATE TABLE demo.items (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  price numeric(8,2) NOT NULL,
  in_stock boolean NOT NULL DEFAULT true,
  added timestamptz NOT NULL DEFAULT now()
);
INSERT INTO demo.items (name, price, in_stock) VALUES
  ('teapot', 24.50, true), ('kettle', 39.99, true), ('mug', 6.00, true), ('saucer', 3.25, false), ('sugar bowl', 12.00, true);
COMMENT ON TABLE demo.items IS 'sample rows for pgscope --demo';
ALTER DATABASE demo SET search_path = demo, public;`,
];

export interface DemoOptions {
  /** The banner and progress notes (default: stdout, whatever --logfile says). */
  out?: (text: string) => void;
  /** Error messages (default: stderr). */
  err?: (text: string) => void;
  /** Stop on SIGINT/SIGTERM/SIGHUP (default true). */
  handleSignals?: boolean;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The host name to give clients for a listening address. */
export function clientHost(listenIp: string): string {
  return ['127.0.0.1', '0.0.0.0', '::', '::1'].includes(listenIp) ? 'localhost' : listenIp;
}

export interface BannerInfo {
  version: string;
  serverPort: number;
  baseDir: string;
  listenIp: string;
  listenPort: number;
  user: string;
  password: string;
  database: string;
  /** The client leg is plaintext (--client-deny-ssl). */
  clientPlaintext: boolean;
  /** --override-auth: pgscope authenticates to the server itself, so the client keeps its channel_binding default. */
  overrideAuth?: boolean;
  /** Seconds since pgscope started. */
  readyAfter: number;
}

/** SCRAM-SHA-256-PLUS fails through a man in the middle, unless pgscope does the authentication itself. */
function channelBinding(b: BannerInfo, sep: string): string {
  return b.overrideAuth ? '' : `${sep}channel_binding=disable`;
}

/** The psql command line to paste. */
export function psqlCommand(b: BannerInfo): string {
  const host = clientHost(b.listenIp);
  return `PGPASSWORD=${b.password} psql "host=${host} port=${b.listenPort} user=${b.user} dbname=${b.database} sslmode=${b.clientPlaintext ? 'disable' : 'require'}${channelBinding(b, ' ')}"`;
}

/** What `pgscope --demo` prints once everything runs. */
export function demoBanner(b: BannerInfo): string {
  const host = clientHost(b.listenIp);
  const url = `postgresql://${b.user}:${b.password}@${fmtHostPort(host, b.listenPort)}/${b.database}?sslmode=${b.clientPlaintext ? 'disable' : 'require'}${channelBinding(b, '&')}`;
  return [
    '',
    `pgscope --demo: a throwaway ${b.version} server runs on ${fmtHostPort('127.0.0.1', b.serverPort)} (TLS with a certificate made just now,`,
    `SCRAM password authentication; its files are in ${b.baseDir}, deleted when pgscope stops),`,
    `and pgscope listens on ${fmtHostPort(b.listenIp, b.listenPort)} in front of it. User ${b.user}, password ${b.password}, database ${b.database}.`,
    '',
    'Paste this into another terminal:',
    '',
    `  ${psqlCommand(b)}`,
    '',
    `then try  SELECT * FROM demo.items;  and watch every message appear here, annotated.`,
    `(Any libpq client works too: ${url})`,
    b.overrideAuth
      ? 'pgscope authenticates to the server itself (--override-auth): psql gives it the password in cleartext.'
      : 'channel_binding=disable because SCRAM channel binding exists to detect a man in the middle, which pgscope is (or start with --demo --override-auth: pgscope then authenticates to the server itself).',
    `Ready after ${b.readyAfter.toFixed(1)} s. Ctrl-C stops pgscope and the server and deletes its files.`,
    '',
    '',
  ].join('\n');
}

/**
 * Standard output or error for the demo's own lines: never blocking (a reader that stops
 * reading does not stop the demo), made safe for a terminal, and silent once the reader or
 * terminal has gone away (EPIPE, EIO after SIGHUP).
 */
function writeTo(fd: 1 | 2): (text: string) => void {
  const target = OutputTarget.forFd(fd, { label: fd === 1 ? 'standard output' : 'standard error', unit: 'line', warn: () => {}, onBrokenPipe: () => {} });
  return (text) => target.writeText(terminalSafeLines(text), text.split('\n').length - 1);
}

/** Fail fast, before the server is made, when pgscope's own port is taken. */
async function checkListenPort(ip: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => {
      const where = fmtHostPort(ip, port);
      if (e.code === 'EADDRINUSE') {
        reject(new DemoError(`cannot listen on ${where}: the address is already in use (a PostgreSQL server of your own?); give pgscope another port: pgscope --demo -p 6432 (or -p 0 for any free one)`));
      } else if (e.code === 'EACCES') {
        reject(new DemoError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges); try pgscope --demo -p 6432`));
      } else reject(new DemoError(`cannot listen on ${where}: ${e.message}`));
    });
    srv.listen({ port, host: ip, exclusive: true }, () => srv.close(() => resolve()));
  });
}

/** The demo, start to finish; resolves to the exit status (errors are printed, not thrown). */
export async function runDemo(config: Config, opts: DemoOptions = {}): Promise<number> {
  const out = opts.out ?? writeTo(1);
  const err = opts.err ?? writeTo(2);
  const style = config.colour ? COLOUR : MONOCHROME;
  const note = (text: string): void => out(style.status(text) + '\n');

  // Signals: the first one stops everything in order; a second one exits at once (the
  // 'exit' hook of embedded-server.ts still kills the server and removes its folder).
  let signalled: NodeJS.Signals | null = null;
  let wake: (sig: NodeJS.Signals) => void = () => undefined;
  const signal = new Promise<NodeJS.Signals>((r) => (wake = r));
  // One Ctrl-C under `npx pgscope --demo` arrives twice: the terminal signals the whole
  // process group and npx forwards its copy. A repeat within a second is that same press.
  let signalledAt = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      if (Date.now() - signalledAt < 1000) return;
      err(`pgscope: ${sig} again: exiting at once\n`);
      process.exit(130);
    }
    signalled = sig;
    signalledAt = Date.now();
    wake(sig);
  };
  const handlers = STOP_SIGNALS.map((sig) => [sig, () => onSignal(sig)] as const);
  if (opts.handleSignals !== false) for (const [sig, h] of handlers) process.on(sig, h);

  let server: EmbeddedServer | null = null;
  let proxy: RunningProxy | null = null;
  let forwardServerLog = true; // off once stopping: the proxy's log closes
  const stop = (code: number, say = out): Promise<number> => {
    forwardServerLog = false;
    return stopAll(proxy, server, say, code);
  };
  try {
    if (config.serverHost !== null) throw new DemoError('--demo starts its own server: leave out BACKEND and --server-host');
    checkDemoPrerequisites();
    await checkListenPort(config.clientListenIp, config.clientListenPort);
    note('pgscope --demo: starting a throwaway PostgreSQL server…');
    // The server (initdb: a second or two) and the proxy (its TLS key: up to seconds on a busy
    // machine) start side by side, the proxy forwarding to the port the server is about to take.
    const proxyConfig = (port: number): Config => ({ ...config, serverHost: '127.0.0.1', serverConnectPort: port, serverSslmode: 'require', serverSslrootcert: null, demo: false });
    const plannedPort = await freePort();
    const [srv, prx] = await Promise.allSettled([
      startEmbeddedServer({ database: DEMO_DATABASE, setup: DEMO_SETUP, progress: note, port: plannedPort }),
      launch(proxyConfig(plannedPort), { handleSignals: false, handleSummarySignal: opts.handleSignals !== false }),
    ]);
    if (srv.status === 'fulfilled') server = srv.value;
    if (prx.status === 'fulfilled') proxy = prx.value;
    if (srv.status === 'rejected') throw srv.reason;
    if (prx.status === 'rejected') throw prx.reason;
    if (signalled) return await stop(130);
    if (srv.value.port !== plannedPort) {
      // Another process took the planned port meanwhile: the server runs on another one.
      await prx.value.stop();
      proxy = null;
      proxy = await launch(proxyConfig(srv.value.port), { handleSignals: false, handleSummarySignal: opts.handleSignals !== false });
    }
    server = srv.value;
    const p = proxy!;
    server.onLog((line) => forwardServerLog && p.log({ kind: 'status', conn: null, time: Date.now(), level: 'debug', text: `server log: ${line}` }));
    const steps = Object.entries(server.timings).map(([k, ms]) => `${k} ${ms} ms`).join(', ');
    p.log({ kind: 'status', conn: null, time: Date.now(), level: 'debug', text: `demo server ready (${steps}); the server's log follows here` });
    out(
      demoBanner({
        version: server.version,
        serverPort: server.port,
        baseDir: server.baseDir,
        listenIp: config.clientListenIp,
        listenPort: p.port,
        user: server.user,
        password: server.password,
        database: server.database,
        clientPlaintext: config.clientDenySsl,
        overrideAuth: config.overrideAuth,
        readyAfter: process.uptime(),
      }),
    );
    if (signalled) return await stop(0);

    const outcome = await Promise.race([
      p.done.then((code) => ({ why: 'proxy' as const, code })),
      server.exited.then((x) => ({ why: 'server' as const, ...x })),
      signal.then((sig) => ({ why: 'signal' as const, sig })),
    ]);
    switch (outcome.why) {
      case 'signal':
        p.log({ kind: 'status', conn: null, time: Date.now(), level: 'info', text: `received ${outcome.sig}` });
        return await stop(0);
      case 'proxy':
        return await stop(outcome.code);
      case 'server': {
        const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with status ${outcome.code}`;
        p.log({ kind: 'status', conn: null, time: Date.now(), level: 'error', text: `the demo PostgreSQL server ${how}; stopping` });
        const tail = server.logTail().trim();
        await stop(1);
        err(`pgscope: the demo PostgreSQL server ${how}${tail ? `; its last words:\n${tail}` : ''}\n`);
        return 1;
      }
    }
    return 1; // unreachable
  } catch (e) {
    await stop(1, () => undefined).catch(() => undefined);
    err(`pgscope: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/**
 * Stop the proxy (it ends any session still open), then the server; remove the server's
 * folder. Resolves to `code`. The proxy gets 5 s: a proxy that does not stop must not keep
 * the server running.
 */
async function stopAll(proxy: RunningProxy | null, server: EmbeddedServer | null, out: (s: string) => void, code: number): Promise<number> {
  if (proxy) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([proxy.stop(), new Promise<void>((r) => (timer = setTimeout(r, 5_000)))]);
    clearTimeout(timer);
  }
  if (server) {
    await server.stop();
    out(`pgscope --demo: stopped the demo server and deleted ${server.baseDir}\n`);
  }
  return code;
}
