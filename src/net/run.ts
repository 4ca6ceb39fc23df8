import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import { ConfigError, type Config } from '../config.js';
import { writeAllSync } from '../output/fd-write.js';
import { LineWriter } from '../output/line-writer.js';
import { COLOUR, MONOCHROME } from '../output/style.js';
import { TextLog } from '../output/text-log.js';
import { CancelRegistry } from '../session/cancel-registry.js';
import type { ProxyEvent } from '../session/events.js';
import type { SessionSettings } from '../session/session.js';
import { GeneratedCertificates, loadCertificatePair, TlsSetupError } from '../tls/certificates.js';
import { openKeyLog, type KeyLogWriter } from '../tls/keylog.js';
import { serverTlsPolicy } from '../tls/server-leg.js';
import { ClientTlsContexts } from './client-tls.js';
import { ProxyConnection } from './connection.js';
import { selfLoopChecker } from './self-loop.js';

export interface RunningProxy {
  /** The address and port actually listened on (port 0 → the one the OS chose). */
  address: string;
  port: number;
  /** Resolves with the exit status once the proxy has stopped. */
  done: Promise<number>;
  /** Stop: close the listener and the connections, flush the log. */
  stop(): Promise<void>;
  log(ev: ProxyEvent): void;
}

export interface StartOptions {
  /** Where the human-readable log goes (default: stdout, or --logfile). */
  write?: (text: string) => void;
  /** Install SIGINT/SIGTERM handlers that stop the proxy (the CLI does; tests don't). */
  handleSignals?: boolean;
}

/** The CLI's entry: run until stopped, return the exit status. */
export async function runProxy(config: Config): Promise<number> {
  // --demo: a throwaway embedded server behind the proxy; see src/demo/run-demo.ts.
  if (config.demo) return (await import('../demo/run-demo.js')).runDemo(config);
  const p = await startProxy(config, { handleSignals: true }).catch((e: unknown) => {
    // A certificate, key, root or key-log file the options name that cannot be used is a
    // mistake in the command line: the CLI reports a ConfigError as one line, status 2.
    throw e instanceof TlsSetupError ? new ConfigError(e.message) : e;
  });
  return p.done;
}

/** Set up everything a proxy needs, then listen. Setup errors reject with a clear message. */
export async function startProxy(config: Config, opts: StartOptions = {}): Promise<RunningProxy> {
  const logFd = config.logfile ? openLogfile(config.logfile, config.clearLogfile) : null;
  // The log must never take the proxy down. When whoever reads it goes away (pgscope … |
  // head), stop as a Unix tool killed by SIGPIPE would, but cleanly. Any other failure
  // (disk full, EIO) is reported once on stderr and logging stops; proxying goes on.
  let logGone = false;
  const write =
    opts.write ??
    ((text: string) => {
      if (logGone) return;
      try {
        writeAllSync(logFd ?? 1, text);
      } catch (e) {
        logGone = true;
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') {
          setImmediate(() => void stop());
          return;
        }
        try {
          process.stderr.write(`pgscope: cannot write the log any more (${e instanceof Error ? e.message : String(e)}): logging stopped, proxying goes on\n`);
        } catch {
          /* nothing left to tell */
        }
      }
    });
  const lines = new LineWriter(write);
  const text = new TextLog(lines, { forwarded: config.logForwarded, style: config.colour ? COLOUR : MONOCHROME, maxValueBytes: config.maxValueBytes, verbose: config.verbose });
  const log = (ev: ProxyEvent): void => text.write(ev);
  const status = (t: string, level: 'info' | 'error' = 'info'): void => log({ kind: 'status', conn: null, time: Date.now(), level, text: t });

  const serverPolicy = serverTlsPolicy(config.serverSslmode, config.serverSslrootcert);
  const effectiveMode = config.serverSslrootcert === 'system' ? 'verify-full' : config.serverSslmode;
  const keylogs: KeyLogWriter[] = [];
  const clientKeylog = config.clientSslkeylogfile ? openKeyLog(config.clientSslkeylogfile) : null;
  const serverKeylog = config.serverSslkeylogfile ? openKeyLog(config.serverSslkeylogfile) : null;
  if (clientKeylog) keylogs.push(clientKeylog);
  if (serverKeylog) keylogs.push(serverKeylog);

  // One key per process, made before the first client arrives.
  const t0 = Date.now();
  const contexts =
    config.clientSslCert && config.clientSslKey
      ? new ClientTlsContexts({ kind: 'files', pair: loadCertificatePair(config.clientSslCert, config.clientSslKey) })
      : new ClientTlsContexts({ kind: 'generated', certs: new GeneratedCertificates(config.clientCertSig) });
  if (!config.clientDenySsl || config.clientSslCert) await contexts.prepare();
  if (!config.clientSslCert && !config.clientDenySsl) {
    status(`generated a ${config.clientCertSig === 'ecdsa' ? 'ECDSA P-256' : 'RSA-2048'} key and self-signed certificate for the client leg in ${Date.now() - t0} ms`);
  }

  const cancels = new CancelRegistry();
  const settings: SessionSettings = {
    serverHost: config.serverHost,
    serverDeleteSuffix: config.serverDeleteSuffix,
    serverConnectPort: config.serverConnectPort,
    serverSslnegotiation: config.serverSslnegotiation,
    clientDenySsl: config.clientDenySsl,
    serverTls: { attempt: serverPolicy.attempt, requireEncryption: serverPolicy.requireEncryption, mode: effectiveMode },
  };

  const server = net.createServer();
  const connections = new Set<ProxyConnection>();
  let nextId = 1;
  let stopping = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const listenPort = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.clientListenPort, host: config.clientListenIp, exclusive: true }, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : config.clientListenPort);
    });
  }).catch((e: NodeJS.ErrnoException) => {
    for (const k of keylogs) k.close();
    throw new Error(`cannot listen on ${fmtHostPort(config.clientListenIp, config.clientListenPort)}: ${e.code === 'EADDRINUSE' ? 'the address is already in use (try -p with another port)' : e.message}`);
  });

  const selfLoopCheck = selfLoopChecker(config.clientListenIp, listenPort, config.allowSelfLoop);
  if (config.serverHost) {
    const refusal = await selfLoopCheck(config.serverHost, config.serverConnectPort);
    if (refusal) {
      server.close();
      throw new ConfigError(refusal);
    }
  }

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    status('stopping: closing the listener');
    // server.close() calls back only once every connection has ended: end them first, or
    // a client that stays connected would keep pgscope from stopping.
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const c of connections) c.abort();
    await closed;
    lines.flush();
    for (const k of keylogs) k.close();
    if (logFd !== null) closeSync(logFd);
    resolveDone(0);
  };

  server.on('connection', (socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    const id = nextId++;
    try {
      const conn = new ProxyConnection(id, socket, {
        settings,
        cancels,
        log,
        clientTls: contexts,
        serverPolicy,
        sendChunking: config.sendChunking,
        clientKeylog,
        serverKeylog,
        logCerts: config.logCerts,
        selfLoopCheck,
        onClosed: (c) => {
          connections.delete(c);
          if (config.quitOnHangup && !stopping) {
            status('the first connection ended (--quit-on-hangup): exiting');
            void stop();
          }
        },
      });
      connections.add(conn);
    } catch (e) {
      log({ kind: 'status', conn: id, time: Date.now(), level: 'error', text: `could not set up the connection: ${e instanceof Error ? e.message : String(e)}` });
      socket.destroy();
    }
  });
  server.on('error', (e) => status(`listener error: ${e.message}`, 'error'));

  if (opts.handleSignals) {
    const onSignal = (sig: string): void => {
      status(`received ${sig}`);
      void stop();
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
  }

  const where = fmtHostPort(config.clientListenIp, listenPort);
  const to = config.serverHost ? fmtHostPort(config.serverHost, config.serverConnectPort) : `the SNI name minus ${JSON.stringify(config.serverDeleteSuffix)} (else localhost), port ${config.serverConnectPort}`;
  status(`listening on ${where}, forwarding to ${to}, server sslmode ${effectiveMode}`);
  lines.flush();
  return { address: config.clientListenIp, port: listenPort, done, stop, log };
}

function openLogfile(path: string, clear: boolean): number {
  try {
    return openSync(path, clear ? 'w' : 'a', 0o644);
  } catch (e) {
    throw new ConfigError(`--logfile: cannot open "${path}": ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function fmtHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
