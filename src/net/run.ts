import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import net from 'node:net';
import { ConfigError, type Config } from '../config.js';
import { writeAllSync } from '../output/fd-write.js';
import { openOutputs, textLogTarget } from '../output/outputs.js';
import { CancelRegistry } from '../session/cancel-registry.js';
import type { ProxyEvent } from '../session/events.js';
import type { SessionSettings } from '../session/session.js';
import { GeneratedCertificates, loadCertificatePair, TlsSetupError } from '../tls/certificates.js';
import { openKeyLog, type KeyLogWriter } from '../tls/keylog.js';
import { LocalCa } from '../tls/local-ca.js';
import { serverTlsPolicy } from '../tls/server-leg.js';
import { ClientTlsContexts } from './client-tls.js';
import { ProxyConnection, SOCKET_BUFFER_BYTES } from './connection.js';
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
  /** Print the summary on SIGUSR1 (implied by handleSignals; the demo, which stops by itself, asks for this alone). */
  handleSummarySignal?: boolean;
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
  const textFd = logFd ?? (textLogTarget(config) === 'stderr' ? 2 : 1);
  // The log must never take the proxy down. When whoever reads it goes away (pgscope … |
  // head), stop as a Unix tool killed by SIGPIPE would, but cleanly. Any other failure
  // (disk full, EIO) is reported once on stderr and logging stops; proxying goes on.
  let logGone = false;
  const write =
    opts.write ??
    ((text: string) => {
      if (logGone) return;
      try {
        writeAllSync(textFd, text);
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
  const warnStderr = (t: string): void => {
    try {
      process.stderr.write(`pgscope: ${t}\n`);
    } catch {
      /* nothing left to tell */
    }
  };
  const outputs = openOutputs(config, { writeText: write, warn: warnStderr });
  const log = outputs.log;
  const status = (t: string, level: 'info' | 'error' = 'info'): void => outputs.status(t, level);
  if (config.redactPasswords) status('--redact-passwords: passwords and MD5 hashes are redacted in every output');
  if (outputs.filterDescription) status(`--filter: the log shows only ${outputs.filterDescription}`);
  if (config.serverChannelBinding !== 'prefer' && !config.overrideAuth) status(`--server-channel-binding ${config.serverChannelBinding} has no effect without --override-auth`);

  const serverPolicy = serverTlsPolicy(config.serverSslmode, config.serverSslrootcert);
  const effectiveMode = config.serverSslrootcert === 'system' ? 'verify-full' : config.serverSslmode;
  const keylogs: KeyLogWriter[] = [];
  const clientKeylog = config.clientSslkeylogfile ? openKeyLog(config.clientSslkeylogfile) : null;
  const serverKeylog = config.serverSslkeylogfile ? openKeyLog(config.serverSslkeylogfile) : null;
  if (clientKeylog) keylogs.push(clientKeylog);
  if (serverKeylog) keylogs.push(serverKeylog);

  // One key per process, made before the first client arrives.
  const t0 = Date.now();
  let contexts: ClientTlsContexts;
  if (config.clientSslCert && config.clientSslKey) {
    contexts = new ClientTlsContexts({ kind: 'files', pair: loadCertificatePair(config.clientSslCert, config.clientSslKey) });
  } else if (config.clientCa) {
    const { ca, created } = await LocalCa.open(config.caDir);
    contexts = new ClientTlsContexts({ kind: 'ca', ca });
    status(`${created ? 'created a new local CA' : 'using the local CA'} in ${ca.dir}: clients can verify pgscope with sslmode=verify-full sslrootcert=${ca.certPath}`);
  } else {
    contexts = new ClientTlsContexts({ kind: 'generated', certs: new GeneratedCertificates(config.clientCertSig) });
  }
  if (!config.clientDenySsl || config.clientSslCert) await contexts.prepare();
  if (!config.clientSslCert && !config.clientDenySsl) {
    status(`${config.clientCa ? 'issued the default certificate (localhost) from the local CA' : `generated a ${config.clientCertSig === 'ecdsa' ? 'ECDSA P-256' : 'RSA-2048'} key and self-signed certificate for the client leg`} in ${Date.now() - t0} ms`);
  }

  const cancels = new CancelRegistry();
  const settings: SessionSettings = {
    serverHost: config.serverHost,
    serverDeleteSuffix: config.serverDeleteSuffix,
    serverConnectPort: config.serverConnectPort,
    serverSslnegotiation: config.serverSslnegotiation,
    clientDenySsl: config.clientDenySsl,
    serverTls: { attempt: serverPolicy.attempt, requireEncryption: serverPolicy.requireEncryption, mode: effectiveMode },
    overrideAuth: config.overrideAuth ? { channelBinding: config.serverChannelBinding } : null,
    clientCertificate: config.clientSslCert ? 'user-certificate' : config.clientCa ? 'local-ca' : 'self-signed',
    wire: outputs.wire,
    essentialOnly: !outputs.showsMessages,
  };

  const server = net.createServer({ highWaterMark: SOCKET_BUFFER_BYTES });
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
    // Everything logged so far first, then the summary below it.
    outputs.flush();
    const summary = outputs.summary();
    if (summary) write(summary.endsWith('\n') ? summary : summary + '\n');
    await outputs.close();
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
  if (opts.handleSignals || opts.handleSummarySignal) {
    // The summary so far, while pgscope keeps running (kill -USR1 <pid>). Always handled:
    // Node's default for SIGUSR1 opens the inspector on 127.0.0.1:9229, which would let any
    // local user run code in a process that holds decrypted traffic and passwords.
    const onUsr1 = (): void => {
      outputs.flush();
      const summary = outputs.summary();
      if (summary) write(summary.endsWith('\n') ? summary : summary + '\n');
      else status('SIGUSR1: no summary to print (start pgscope with --summary)');
    };
    process.on('SIGUSR1', onUsr1);
    void done.then(() => process.off('SIGUSR1', onUsr1));
  }

  const where = fmtHostPort(config.clientListenIp, listenPort);
  const to = config.serverHost ? fmtHostPort(config.serverHost, config.serverConnectPort) : `the SNI name minus ${JSON.stringify(config.serverDeleteSuffix)} (else localhost), port ${config.serverConnectPort}`;
  status(`listening on ${where}, forwarding to ${to}, server sslmode ${effectiveMode}`);
  outputs.flush();
  return { address: config.clientListenIp, port: listenPort, done, stop, log };
}

export function openLogfile(path: string, clear: boolean): number {
  try {
    // The log holds decrypted traffic: a new file is readable by its owner only. The mode
    // applies only when open creates the file; an existing log the user made keeps its
    // mode (they chose it), and is appended to (or cleared with -c/--clear).
    // O_APPEND in both cases: if the file is truncated from outside (logrotate's
    // copytruncate, `: > FILE`), writing goes on at its new end instead of leaving a hole.
    const { O_WRONLY, O_CREAT, O_APPEND, O_TRUNC } = fsConstants;
    return openSync(path, O_WRONLY | O_CREAT | O_APPEND | (clear ? O_TRUNC : 0), 0o600);
  } catch (e) {
    throw new ConfigError(`--logfile: cannot open "${path}": ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function fmtHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
