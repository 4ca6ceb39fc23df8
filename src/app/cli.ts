import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option, type OptionValues } from 'commander';
import { DECODE_FORMATS, decodeCommand, UsageError, type DecodeFormat } from './commands/decode.js';
import {
  buildConfig,
  CERT_SIGS,
  CHANNEL_BINDINGS,
  ConfigError,
  DEFAULTS,
  LOG_FORWARDED,
  parseChoice,
  parseListenIp,
  parseNonEmpty,
  parsePort,
  parsePositiveInt,
  resolveColour,
  SEND_CHUNKINGS,
  SSL_MODES,
  SSL_NEGOTIATIONS,
  type Config,
  type Env,
  type Flags,
} from './config.js';
import { choice, dflt, pathOption, valueOption } from './cli-options.js';
import { addCaptureCommands, addCaptureInputOptions } from './capture-cli.js';
import { packageVersion } from './version.js';
import { beyondLoopbackWarning, isLoopback } from '../web/guard.js';

/** Runs the proxy with a checked Config; resolves to the exit status. */
export type ProxyRunner = (config: Config) => Promise<number>;

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Environment for colour resolution (NO_COLOR, FORCE_COLOR); default process.env. */
  env: Env;
  /** Whether stdout is a terminal (colour); default process.stdout.isTTY. */
  stdoutIsTTY: boolean;
  /** The proxy; default: proxyRunnerFrom(this module's folder), i.e. runProxy from ./run.js. */
  runProxy: ProxyRunner;
}

// The CLI only turns flags into a config: every option is declared here, and each value is
// checked by the parsers in config.ts; combinations are checked by buildConfig/validateConfig.

const GROUP_CLIENT = 'Client leg (client → pgscope):';
const GROUP_SERVER = 'Server leg (pgscope → server):';
const GROUP_LOGGING = 'Logging:';
const GROUP_BEHAVIOUR = 'Behaviour:';
const GROUP_SECURITY = 'Authentication and certificates:';
const GROUP_OUTPUTS = 'More outputs (any together, all fed by the same decoded traffic):';
const GROUP_FAULTS = 'Faults (protocol-aware fault injection; see Fault rules below):';
const GROUP_INSPECTOR = 'Inspector (a web page of the traffic; also: pgscope view CAPTURE, pgscope report CAPTURE -o FILE.html):';
const GROUP_OTHER = 'Other:';

const EXAMPLES = `
Examples:
  pgscope --demo
  pgscope db.example.com:5432 -p 6432
      (then: psql "host=localhost port=6432 user=… dbname=… channel_binding=disable";
       without it, libpq's SCRAM channel binding catches pgscope, a man in the middle, and fails)
  pgscope --server-host db.internal --server-sslmode verify-full --server-sslrootcert system
  pgscope db.example.com --override-auth --redact-passwords
      (clients that insist on channel binding: pgscope authenticates to the server itself)
  pgscope db.example.com --client-ca
      (then: psql "host=localhost sslmode=verify-full sslrootcert=$(pgscope ca --print-path) …")
  pgscope db.example.com --log-forwarded none --query-log - --jsonl trace.jsonl --pcap trace.pcapng
  pgscope read capture.pcap --keylog keys.log --query-log -
      (a capture pgscope was not in the path of: tcpdump -i any -w capture.pcap port 5432,
       while a libpq 18 client ran with sslkeylogfile=keys.log; without keys, plaintext only)
  pgscope sniff -i lo --port 5432 --log-forwarded compact
      (live and passive: tcpdump captures, pgscope decodes; needs capture rights)
  pgscope decode test/fixtures/psql-scram-simple-queries.json --bw

Filters (--filter): which messages reach the annotated/raw log and --jsonl; forwarding is untouched.
  --filter queries                   Query, Parse, Bind, Execute, … and their results
  --filter errors                    ErrorResponse (and pgscope's own errors)
  --filter 'Query,ErrorResponse'     messages by name (comma: any of them)
  --filter 'client'  /  'server'     one direction only
  --filter 'conn=3'                  one connection (conn=2-5 for a range)
  --filter 'sql ~* "^\\s*update"'     SQL by regex (~: case-sensitive, ~*: not; sql contains "text")
  --filter 'server and not DataRow'  combine with and, or, not, ( )

Fault rules (--fault, repeatable): ACTION [when CONDITION] [LIMIT…]; the condition is a --filter expression.
  Actions: error SQLSTATE ["message"] (the server fails the request too: client and server agree),
           fatal SQLSTATE ["message"] (FATAL, then both legs close), delay 300ms | delay 50ms..200ms,
           reset (abrupt close), close (quiet close), stall (hold the message and all after it),
           chunk N (N-byte writes), bandwidth 64KB/s, notice "text", refuse (new connections reset)
  Limits (in the order written): once, times N, after N (skip N matches), every N, probability P
  --fault 'error 40001 when sql ~ "^\\s*update" once'
  --fault 'fatal 57P01 when sql contains "boom-marker"'
  --fault 'error 53300 "sorry, too many clients already" when StartupMessage probability 0.5'
  --fault 'reset when server and DataRow after 1000'
  --fault 'delay 50ms..200ms when client'
`;

function buildProgram(io: CliIO, chosen: { run?: () => Promise<number> }): Command {
  const program = new Command('pgscope');
  const negatable = new Set<string>(); // long flags that also have a (hidden) --no- form

  program
    .description('pgscope: a PostgreSQL man-in-the-middle debugging proxy that shows every byte between clients and servers, decoded.')
    .usage('[options] [BACKEND]\n       pgscope read CAPTURE [--keylog FILE] [options]\n       pgscope sniff [-i IFACE] [--port N] [options]\n       pgscope view CAPTURE | pgscope report CAPTURE -o FILE.html\n       pgscope decode FILE [options]\n       pgscope ca [--print-path]')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(`pgscope: ${oneLine(s.replace(/^error: /, ''))}\n`),
    })
    .configureHelp({
      optionTerm: (o) => (o.long && negatable.has(o.long) ? o.flags.replace(/--/, '--[no-]') : o.flags),
      showGlobalOptions: false,
    })
    .enablePositionalOptions()
    .allowExcessArguments(false);

  const add = (group: string, ...options: Option[]): void => {
    for (const o of options) program.addOption(o.helpGroup(group));
  };
  const bool = (group: string, name: string, description: string, def?: boolean): void => {
    negatable.add(name);
    add(group, new Option(name, `${description}${def === undefined ? '' : dflt(def ? 'on' : 'off')}`), new Option(name.replace(/^--/, '--no-')).hideHelp());
  };

  program.argument('[BACKEND]', 'the server as host, host:port, [IPv6]:port or an IPv6 address, as pgMitm takes it (instead of --server-host and --server-connect-port)');

  add(
    GROUP_CLIENT,
    valueOption('--client-listen-ip <ip>', `address to listen on (::1, 0.0.0.0, …)${dflt(DEFAULTS.clientListenIp)}`, (v) => parseListenIp('--client-listen-ip', v)),
    valueOption('-p, --client-listen-port <port>', `port to listen on; 0: any free port${dflt(DEFAULTS.clientListenPort)}`, (v) => parsePort('--client-listen-port', v, true)),
    pathOption('--client-ssl-cert <path>', 'certificate (PEM) shown to clients, with --client-ssl-key (default: a generated self-signed one)'),
    pathOption('--client-ssl-key <path>', "that certificate's private key (PEM)"),
    choice('--client-cert-sig <type>', CERT_SIGS, 'key type of the generated certificate', DEFAULTS.clientCertSig),
  );
  bool(GROUP_CLIENT, '--client-deny-ssl', 'answer N to SSLRequest, so that the client leg stays plaintext (for Wireshark)', DEFAULTS.clientDenySsl);
  add(GROUP_CLIENT, pathOption('--client-sslkeylogfile <path>', 'append NSS key-log lines for the client leg to this file'));

  add(
    GROUP_SERVER,
    valueOption('--server-host <host>', "the server's host name (default: the name the client sent as SNI, minus the suffix below; else localhost)", (v) => parseNonEmpty('--server-host', v)),
    valueOption('--server-delete-suffix <suffix>', `removed from the end of the SNI name${dflt(DEFAULTS.serverDeleteSuffix)}`, (v) => v),
    valueOption('--server-connect-port <port>', `the server's port${dflt(DEFAULTS.serverConnectPort)}`, (v) => parsePort('--server-connect-port', v)),
    choice('--server-sslmode <mode>', SSL_MODES, 'TLS to the server, as libpq', DEFAULTS.serverSslmode),
    valueOption('--server-sslrootcert <system|path>', 'roots trusted for the server\'s certificate; "system": the system store (implies verify-full, as libpq)', (v) => parseNonEmpty('--server-sslrootcert', v)),
    choice('--server-sslnegotiation <how>', SSL_NEGOTIATIONS, 'do as the client did, TLS at once (ALPN postgresql, PG 17+), or SSLRequest first', DEFAULTS.serverSslnegotiation),
    pathOption('--server-sslkeylogfile <path>', 'append NSS key-log lines for the server leg to this file'),
  );

  add(
    GROUP_LOGGING,
    choice('--log-forwarded <how>', LOG_FORWARDED, 'how forwarded traffic is logged (annotated: every field with its bytes; compact: one line per message)', DEFAULTS.logForwarded),
    valueOption('--max-value-bytes <n>', `cut longer values in annotated and compact output${dflt(DEFAULTS.maxValueBytes)}`, (v) => parsePositiveInt('--max-value-bytes', v)),
  );
  bool(GROUP_LOGGING, '--log-certs', "print both legs' certificates", DEFAULTS.logCerts);
  add(
    GROUP_LOGGING,
    pathOption('-l, --logfile <path>', 'append the log to this file'),
    new Option('-c, --clear', 'empty the logfile first (with -l)'),
    new Option('-v, --verbose', 'say more about what the proxy does'),
  );
  negatable.add('--bw');
  add(GROUP_LOGGING, new Option('--bw', 'monochrome (--bw) or colour (--no-bw) (default: colour on a terminal; NO_COLOR and FORCE_COLOR honoured)'), new Option('--no-bw').hideHelp());

  add(GROUP_BEHAVIOUR, choice('--send-chunking <how>', SEND_CHUNKINGS, 'forward as received, or one byte per write (to smoke out clients that buffer badly)', DEFAULTS.sendChunking));
  bool(GROUP_BEHAVIOUR, '--quit-on-hangup', 'exit when the first connection ends', DEFAULTS.quitOnHangup);
  add(GROUP_BEHAVIOUR, valueOption('--max-connections <n>', 'with n clients connected, refuse more with FATAL 53300 "sorry, too many clients already", as PostgreSQL does; CancelRequests always pass. Keep 2n well below `ulimit -n` (default: no limit)', (v) => parsePositiveInt('--max-connections', v)));
  bool(GROUP_BEHAVIOUR, '--allow-self-loop', "allow connecting to pgscope's own listening address and port", DEFAULTS.allowSelfLoop);
  add(GROUP_BEHAVIOUR, new Option('--demo', 'start a throwaway PostgreSQL server (embedded, TLS, SCRAM), proxy to it and print a psql command to paste'));

  bool(GROUP_SECURITY, '--override-auth', 'ask the client for a cleartext password, then authenticate to the server as pgscope (cleartext, MD5, SCRAM-SHA-256[-PLUS])', DEFAULTS.overrideAuth);
  add(GROUP_SECURITY, choice('--server-channel-binding <mode>', CHANNEL_BINDINGS, 'SCRAM-SHA-256-PLUS toward the server with --override-auth', DEFAULTS.serverChannelBinding));
  bool(GROUP_SECURITY, '--redact-passwords', 'passwords and MD5 hashes never reach any output (raw: every "p" message)', DEFAULTS.redactPasswords);
  bool(GROUP_SECURITY, '--client-ca', "sign the client leg's certificates with pgscope's local CA, so that sslmode=verify-full works with sslrootcert=$(pgscope ca --print-path)", DEFAULTS.clientCa);
  add(GROUP_SECURITY, pathOption('--ca-dir <path>', "the local CA's folder (default: $PGSCOPE_CA_DIR, else ~/.local/share/pgscope/ca)"));

  add(
    GROUP_OUTPUTS,
    pathOption('--jsonl <path>', 'one JSON object per event (schema: docs/jsonl.md); "-": standard output'),
    pathOption('--pcap <path>', 'the decrypted conversations as a pcapng file for Wireshark/tshark'),
    pathOption('--query-log <path>', 'one line per completed statement, with its duration; "-": standard output'),
    pathOption('--filter <expr>', 'which messages reach the log and --jsonl (see Filters below)'),
  );
  bool(GROUP_OUTPUTS, '--summary', 'print connections, bytes and statements by total time at exit and on SIGUSR1 (default: on when stdout is a terminal)');
  bool(GROUP_OUTPUTS, '--lossless', 'when a reader of an output falls behind (pgscope | less, paused), make the traffic wait until it catches up, instead of dropping output lines (marked where the gap is) so that the traffic never waits', DEFAULTS.lossless);
  bool(GROUP_OUTPUTS, '--inline-decoding', 'decode and render on the thread that forwards the traffic, as before (by default a second thread does it, so that a round trip never waits for the log)', DEFAULTS.inlineDecoding);

  add(
    GROUP_INSPECTOR,
    new Option('--ui', 'serve the inspector, a web page of the traffic (live), and print its address with a random token'),
    valueOption('--ui-port <port>', `the inspector's port; 0: any free port${dflt(DEFAULTS.uiPort)}`, (v) => parsePort('--ui-port', v, true)),
    valueOption('--ui-host <ip>', `the inspector's address; beyond loopback it shows decrypted traffic to whoever has the token${dflt(DEFAULTS.uiHost)}`, (v) => parseListenIp('--ui-host', v)),
    valueOption('--ui-keep <n>', `messages the inspector keeps per connection (older ones are dropped and counted)${dflt(DEFAULTS.uiKeep)}`, (v) => parsePositiveInt('--ui-keep', v)),
  );

  add(GROUP_FAULTS, new Option('--fault <rule>', 'inject a fault where the rule says (repeatable; rules: see below)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]));

  program.optionsGroup(GROUP_OTHER);
  program.version(`pgscope ${packageVersion()}`, '--version', 'print the version and exit');
  program.helpOption('-h, --help', 'print this help and exit');
  program.addHelpText('after', EXAMPLES);

  program.action((backend: string | undefined) => {
    const flags = proxyFlags(program.opts(), backend);
    const config = buildConfig(flags, io.env, io.stdoutIsTTY);
    chosen.run = () => io.runProxy(config);
  });

  /** A subcommand's options come after its name: any before it are the proxy's, a mistake here. */
  const ownOptionsOnly = (name: string, usage: string): void => {
    if (Object.keys(program.opts()).length > 0) throw new ConfigError(`options before "${name}" belong to the proxy; put ${name}'s options after it (${usage})`);
  };

  const decode = program
    .command('decode')
    .description('print the transcript of a recorded conversation (JSON: {"chunks": [{"dir": "frontend"|"backend", "hex": "…"}]}, as in test/fixtures/)')
    .argument('<FILE>', 'the recording')
    .addOption(choice('--log-forwarded <how>', DECODE_FORMATS, 'output format (compact: one line per message)', 'annotated'))
    .addOption(valueOption('--max-value-bytes <n>', `cut longer values in annotated and compact output${dflt(DEFAULTS.maxValueBytes)}`, (v) => parsePositiveInt('--max-value-bytes', v)))
    .addOption(new Option('--bw', 'monochrome (--bw) or colour (--no-bw) (default: colour on a terminal)'))
    .addOption(new Option('--no-bw').hideHelp())
    .helpOption('-h, --help', 'print this help and exit')
    .configureHelp({ optionTerm: (o) => (o.long === '--bw' ? '--[no-]bw' : o.flags) })
    .allowExcessArguments(false);
  decode.action((file: string) => {
    ownOptionsOnly('decode', 'pgscope decode FILE [options]');
    const o = decode.opts<{ logForwarded?: DecodeFormat; maxValueBytes?: number; bw?: boolean }>();
    const opts = { format: o.logForwarded ?? 'annotated', maxValueBytes: o.maxValueBytes ?? DEFAULTS.maxValueBytes, colour: resolveColour(o.bw, io.env, io.stdoutIsTTY) };
    chosen.run = async () => decodeCommand(file, opts, io.out);
  });

  const ca = program
    .command('ca')
    .description("pgscope's local CA (for --client-ca): create it if missing and say where its certificate is")
    .addOption(new Option('--print-path', 'print only the path of the CA certificate (for sslrootcert=…)'))
    .addOption(pathOption('--ca-dir <path>', "the local CA's folder (default: $PGSCOPE_CA_DIR, else ~/.local/share/pgscope/ca)"))
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false);
  ca.action(() => {
    ownOptionsOnly('ca', 'pgscope ca [--print-path] [--ca-dir DIR]');
    const o = ca.opts<{ printPath?: boolean; caDir?: string }>();
    chosen.run = async () => (await import('./commands/ca.js')).caCommand({ printPath: o.printPath ?? false, caDir: o.caDir ?? io.env.PGSCOPE_CA_DIR ?? null }, io.out, io.err);
  });

  const view = addCaptureInputOptions(program.command('view'))
    .description('serve the inspector (a web page) over a saved capture (pcap or pcapng: tcpdump, Wireshark, --pcap; or the JSON lines of --jsonl); prints its address')
    .argument('<CAPTURE>', 'the capture file')
    .addOption(valueOption('--ui-port <port>', `port; 0: any free port${dflt(DEFAULTS.uiPort)}`, (v) => parsePort('--ui-port', v, true)))
    .addOption(valueOption('--ui-host <ip>', `address to listen on${dflt(DEFAULTS.uiHost)}`, (v) => parseListenIp('--ui-host', v)))
    .addOption(valueOption('--ui-keep <n>', `messages kept per connection${dflt(1_000_000)}`, (v) => parsePositiveInt('--ui-keep', v)))
    .addOption(new Option('--redact-passwords', 'passwords and MD5 hashes are not shown'))
    .addOption(valueOption('--max-value-bytes <n>', `cut longer values${dflt(DEFAULTS.maxValueBytes)}`, (v) => parsePositiveInt('--max-value-bytes', v)))
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false);
  view.action((file: string) => {
    ownOptionsOnly('view', 'pgscope view CAPTURE [options]');
    const o = view.opts<{ uiPort?: number; uiHost?: string; uiKeep?: number; redactPasswords?: boolean; maxValueBytes?: number; keylog?: string[]; port?: number[] }>();
    const opts = {
      keylogs: o.keylog ?? [],
      ...(o.port ? { ports: o.port } : {}),
      host: o.uiHost ?? DEFAULTS.uiHost,
      port: o.uiPort ?? DEFAULTS.uiPort,
      keep: o.uiKeep ?? 1_000_000,
      redact: o.redactPasswords ?? false,
      maxValueBytes: o.maxValueBytes ?? DEFAULTS.maxValueBytes,
    };
    if (!isLoopback(opts.host)) io.err(`pgscope: ${beyondLoopbackWarning(opts.host, opts.redact)}\n`);
    chosen.run = async () => (await import('./commands/capture-commands.js')).viewCommand(file, opts, io.out, io.err);
  });

  addCaptureCommands(program, io, chosen, ownOptionsOnly);

  const report = addCaptureInputOptions(program.command('report'))
    .description('write one self-contained HTML page of a saved capture (the inspector, offline: scripts, styles and data inline), for a bug report')
    .argument('<CAPTURE>', 'the capture file: the pcapng of --pcap or the JSON lines of --jsonl')
    .addOption(pathOption('-o, --output <FILE.html>', 'the page to write (owner-only; an existing file is replaced, a symbolic link refused)').makeOptionMandatory())
    .addOption(new Option('--redact-passwords', 'passwords and MD5 hashes are not written into the page'))
    .addOption(valueOption('--max-value-bytes <n>', `cut longer values${dflt(DEFAULTS.maxValueBytes)}`, (v) => parsePositiveInt('--max-value-bytes', v)))
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false);
  report.action((file: string) => {
    ownOptionsOnly('report', 'pgscope report CAPTURE -o FILE.html');
    const o = report.opts<{ output: string; redactPasswords?: boolean; maxValueBytes?: number; keylog?: string[]; port?: number[] }>();
    const opts = { redact: o.redactPasswords ?? false, maxValueBytes: o.maxValueBytes ?? DEFAULTS.maxValueBytes, keylogs: o.keylog ?? [], ...(o.port ? { ports: o.port } : {}) };
    chosen.run = async () => (await import('./commands/capture-commands.js')).reportCommand(file, o.output, opts, io.out, io.err);
  });

  return program;
}

/** commander's option values → Flags (the names are Config's, but for -c/--clear). */
function proxyFlags(opts: OptionValues, backend: string | undefined): Flags {
  const { clear, ...rest } = opts as Flags & { clear?: boolean };
  return { ...rest, ...(clear === undefined ? {} : { clearLogfile: clear }), ...(backend === undefined ? {} : { backend }) };
}

function oneLine(s: string): string {
  return s.trim().replace(/\s*\n\s*/g, ' ');
}

/**
 * The real proxy, loaded only when it runs: runProxy from run.js under `base` (run.ts
 * under tsx). When that module is not there at all, the runner reports "the proxy is not built
 * yet" (status 1); any other failure to load it is a real error and propagates.
 */
export function proxyRunnerFrom(base: URL): ProxyRunner {
  return async (config) => {
    const url = new URL('run.js', base);
    if (![url, new URL('run.ts', base)].some((u) => existsSync(fileURLToPath(u)))) throw new ProxyMissing();
    const mod = (await import(url.href)) as { runProxy?: unknown };
    if (typeof mod.runProxy !== 'function') throw new ProxyMissing();
    return (mod.runProxy as ProxyRunner)(config);
  };
}

class ProxyMissing extends Error {}

/**
 * Parse argv and run; resolves to the exit status. A mistake in the command line: one line
 * `pgscope: <what is wrong>` on err, status 2. --help/--version: printed on out, status 0.
 */
export async function main(argv: string[], io: Partial<CliIO> = {}): Promise<number> {
  const full: CliIO = {
    out: io.out ?? ((s) => void process.stdout.write(s)),
    err: io.err ?? ((s) => void process.stderr.write(s)),
    env: io.env ?? process.env,
    stdoutIsTTY: io.stdoutIsTTY ?? Boolean(process.stdout.isTTY),
    runProxy: io.runProxy ?? proxyRunnerFrom(new URL('.', import.meta.url)),
  };
  try {
    const chosen: { run?: () => Promise<number> } = {};
    buildProgram(full, chosen).parse(argv, { from: 'user' });
    if (!chosen.run) return 0;
    return await chosen.run();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // already reported by outputError
    if (e instanceof ConfigError || e instanceof UsageError) {
      full.err(`pgscope: ${oneLine(e.message)}\n`);
      return 2;
    }
    if (e instanceof ProxyMissing) {
      full.err('pgscope: the proxy is not built yet\n');
      return 1;
    }
    throw e;
  }
}
