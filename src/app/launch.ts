import os from 'node:os';
import { ConfigError, type Config } from './config.js';
import { openLaunchOutputs } from './launch-outputs.js';
import { CancelRegistry } from '../session/cancel-registry.js';
import type { ProxyEvent } from '../session/events.js';
import { fmtHostPort } from '../session/host-port.js';
import { combineHooks, type MessageHook } from '../session/message-hook.js';
import { FaultSet } from '../faults/fault-set.js';
import type { SessionSettings } from '../session/session.js';
import { GeneratedCertificates, loadCertificatePair } from '../tls/certificates.js';
import { openKeyLog, type KeyLogWriter } from '../tls/keylog.js';
import { LocalCa } from '../tls/local-ca.js';
import { serverTlsPolicy } from '../tls/server-leg.js';
import { ClientTlsContexts } from '../net/client-tls.js';
import { Listener } from '../net/listener.js';
import { selfLoopChecker } from '../net/self-loop.js';
import { mergeAnalysis, type StatementAnalysisOptions } from '../analysis/connection-statements.js';
import { inspectorAnalysis } from './live-inspector.js';

export interface RunningProxy {
  /** The address and port actually listened on (port 0 → the one the OS chose). */
  address: string;
  port: number;
  /** Resolves with the exit status once the proxy has stopped. */
  done: Promise<number>;
  /** The inspector's address with its token (--ui), or null. */
  inspectorUrl: string | null;
  /** Once stopped: some output could not be written whole (its reader was not reading), and was given up. */
  readonly outputsAbandoned: boolean;
  /** Stop: close the listener and the connections, flush the log. */
  stop(): Promise<void>;
  log(ev: ProxyEvent): void;
}

export interface LaunchOptions {
  /** Where the human-readable log goes (default: stdout, or --logfile). */
  write?: (text: string) => void;
  /** Install SIGINT/SIGTERM/SIGHUP handlers that stop the proxy (the CLI does; tests don't). */
  handleSignals?: boolean;
  /** Print the summary on SIGUSR1 (implied by handleSignals; the demo, which stops by itself, asks for this alone). */
  handleSummarySignal?: boolean;
  /** Decides per forwarded message (see src/session/message-hook.ts). */
  hook?: MessageHook | null;
  /**
   * The fault rules in force (may change while running: startProxy's addFault); they decide
   * before `hook`. Default: config.fault's rules, if any.
   */
  faults?: FaultSet | null;
  /** Every event, after the outputs (startProxy()'s listeners). */
  tap?: (ev: ProxyEvent) => void;
  /** The statement analysis the tap needs, on top of what the outputs ask for. */
  statements?: StatementAnalysisOptions | null;
}

/** Set up everything a proxy needs, then listen. Setup errors reject with a clear message. */
export async function launch(config: Config, opts: LaunchOptions = {}): Promise<RunningProxy> {
  // The log must never take the proxy down, nor hold up its traffic (see OutputTarget).
  // When whoever reads the text log on standard output goes away (pgscope … | head), stop
  // as a Unix tool killed by SIGPIPE would, but cleanly. Any other failure (disk full, EIO)
  // is reported once on stderr and that output stops; proxying goes on.
  let outputsBehind: (behind: boolean) => void = () => {};
  // --ui: rules can be added at run time from the page, so there is always a rule set.
  const faults = opts.faults ?? (config.fault.length > 0 || config.ui ? new FaultSet(config.fault) : null);
  const outputs = await openLaunchOutputs(config, {
    inline: config.inlineDecoding || Boolean(opts.tap),
    ...(opts.write ? { writeText: opts.write } : {}),
    onTextLogGone: () => setImmediate(() => void stop()),
    // --lossless: no client or server is read from while an output's reader is behind; nor
    // while the decode thread is behind (see decode-thread.ts).
    onBehind: (behind) => outputsBehind(behind),
    // --ui: fed every event the outputs are, where they are (on the decode thread by default).
    inspector: config.ui ? { config, faults } : null,
  });
  const ui = outputs.inspector;
  const tap = opts.tap;
  const log = tap
    ? (ev: ProxyEvent): void => {
        outputs.log(ev);
        tap(ev);
      }
    : outputs.log;
  const status = (text: string, level: 'info' | 'warn' | 'error' = 'info'): void => log({ kind: 'status', conn: null, time: Date.now(), level, text });
  if (config.redactPasswords) status('--redact-passwords: passwords and MD5 hashes are redacted in every output');
  if (outputs.filterDescription) status(`--filter: the log and --jsonl show only ${outputs.filterDescription}`);
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

  if (faults) for (const f of faults.list()) status(`--fault: rule ${f.id}: ${f.canonical}`);

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
    // The inspector shows statements with typed values whatever the outputs need.
    statements: mergeAnalysis(mergeAnalysis(outputs.statements, opts.statements ?? null), ui ? inspectorAnalysis(config) : null),
    essentialOnly: !outputs.showsMessages && ui === null && !opts.tap,
    decodeElsewhere: outputs.decodeElsewhere !== null,
    logCerts: config.logCerts,
    hook: combineHooks([faults, opts.hook]),
  };

  let abandoned = false;
  let stopping = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  // Set once listening (the self-loop check needs the port actually listened on).
  let selfLoopCheck: (host: string, port: number) => Promise<string | null> = async () => null;

  const listener = new Listener({
    host: config.clientListenIp,
    port: config.clientListenPort,
    maxConnections: config.maxConnections,
    clientTls: config.clientDenySsl ? null : contexts,
    clientKeylog,
    status,
    connection: {
      settings,
      cancels,
      log,
      ...(outputs.decodeElsewhere ? { decodeElsewhere: outputs.decodeElsewhere } : {}),
      clientTls: contexts,
      serverPolicy,
      sendChunking: config.sendChunking,
      clientKeylog,
      serverKeylog,
      selfLoopCheck: (host, port) => selfLoopCheck(host, port),
    },
    onClosed: () => {
      if (config.quitOnHangup && !stopping) {
        status('the first connection ended (--quit-on-hangup): exiting');
        void stop();
      }
    },
  });
  outputsBehind = (behind) => listener.setOutputsBehind(behind);
  const listenPort = await listener.listen().catch((e: unknown) => {
    for (const k of keylogs) k.close();
    throw e;
  });
  selfLoopCheck = selfLoopChecker(config.clientListenIp, listenPort, config.allowSelfLoop);
  if (config.serverHost) {
    const refusal = await selfLoopCheck(config.serverHost, config.serverConnectPort);
    if (refusal) {
      await listener.close();
      throw new ConfigError(refusal);
    }
  }

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    status('stopping: closing the listener');
    await listener.close();
    await ui?.close();
    if (faults) for (const f of faults.list()) status(`fault rule ${f.id} (${f.canonical}): acted ${f.hits} time(s) on ${f.matches} match(es)`);
    // Everything logged so far first, then the summary below it; a reader that is not
    // reading gets a second to catch up, then what it has not taken is given up (and said).
    outputs.printSummary();
    abandoned = !(await outputs.close(Date.now() + 1000));
    for (const k of keylogs) k.close();
    resolveDone(0);
  };

  if (opts.handleSignals) {
    // SIGHUP (the terminal closed) too: the outputs are flushed and closed as on Ctrl-C.
    // A second signal exits at once.
    let signalled = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signalled) process.exit(128 + (os.constants.signals[sig] ?? 1));
      signalled = true;
      status(`received ${sig}`);
      void stop();
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
    void done.then(() => {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
    });
  }
  if (opts.handleSignals || opts.handleSummarySignal) {
    // The summary so far, while pgscope keeps running (kill -USR1 <pid>). Always handled:
    // Node's default for SIGUSR1 opens the inspector on 127.0.0.1:9229, which would let any
    // local user run code in a process that holds decrypted traffic and passwords.
    const onUsr1 = (): void => {
      if (!outputs.printSummary()) status('SIGUSR1: no summary to print (start pgscope with --summary)');
    };
    process.on('SIGUSR1', onUsr1);
    void done.then(() => process.off('SIGUSR1', onUsr1));
  }

  const where = fmtHostPort(config.clientListenIp, listenPort);
  const to = config.serverHost ? fmtHostPort(config.serverHost, config.serverConnectPort) : `the SNI name minus ${JSON.stringify(config.serverDeleteSuffix)} (else localhost), port ${config.serverConnectPort}`;
  status(`listening on ${where}, forwarding to ${to}, server sslmode ${effectiveMode}`);
  let inspectorUrl: string | null = null;
  if (ui) {
    inspectorUrl = await ui.start(`${where} → ${to}`, status).catch(async (e: unknown) => {
      await listener.close();
      for (const k of keylogs) k.close();
      const why = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is taken' : e instanceof Error ? e.message : String(e);
      throw new ConfigError(`--ui: cannot serve the inspector on ${fmtHostPort(config.uiHost, config.uiPort)}: ${why}`);
    });
    status(`inspector: open ${inspectorUrl}`);
  }
  // The start-up lines written before launch() returns: what the caller prints next (the
  // demo's banner) comes after them, although the decode thread writes them.
  await outputs.flushed();
  return {
    address: config.clientListenIp,
    port: listenPort,
    done,
    inspectorUrl,
    stop,
    log,
    get outputsAbandoned() {
      return abandoned;
    },
  };
}
