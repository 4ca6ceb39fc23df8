import { isIP, isIPv6 } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { FaultRuleError, parseFaultRule } from '../faults/rule.js';
import { FilterError, parseFilter } from '../output/filter/filter.js';

/**
 * The proxy's configuration: what the command line (src/app/cli.ts) turns flags into, and all the
 * proxy (src/session, src/net) reads. Pure: no I/O here. Option names, values and defaults
 * follow Elephantshark's (docs: ../shared/reference/peers.md), plus pgMitm's short options
 * and positional BACKEND.
 */

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
export type SslNegotiation = 'mimic' | 'direct' | 'postgres';
export type SendChunking = 'whole' | 'byte';
export type CertSig = 'rsa' | 'ecdsa';
export type LogForwarded = 'none' | 'raw' | 'annotated' | 'compact';
export type ChannelBinding = 'disable' | 'prefer' | 'require';

export const SSL_MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];
export const SSL_NEGOTIATIONS: readonly SslNegotiation[] = ['mimic', 'direct', 'postgres'];
export const SEND_CHUNKINGS: readonly SendChunking[] = ['whole', 'byte'];
export const CERT_SIGS: readonly CertSig[] = ['rsa', 'ecdsa'];
export const LOG_FORWARDED: readonly LogForwarded[] = ['none', 'raw', 'annotated', 'compact'];
export const CHANNEL_BINDINGS: readonly ChannelBinding[] = ['disable', 'prefer', 'require'];

export interface Config {
  /** --server-host HOST, or the positional BACKEND's host; null: the SNI name (suffix removed), else localhost. */
  serverHost: string | null;
  /** --server-delete-suffix: removed from the end of the client's SNI name. */
  serverDeleteSuffix: string;
  /** --client-listen-ip */
  clientListenIp: string;
  /** --client-listen-port / -p; 0 = any free port. */
  clientListenPort: number;
  /** --server-connect-port, or BACKEND's port. */
  serverConnectPort: number;
  /** --server-sslmode (raised to verify-full by --server-sslrootcert system when not given, as libpq). */
  serverSslmode: SslMode;
  /** --server-sslrootcert: 'system' (the system store) or a PEM file's path. */
  serverSslrootcert: string | null;
  serverSslnegotiation: SslNegotiation;
  sendChunking: SendChunking;
  /** --client-ssl-cert / --client-ssl-key: both or neither; neither = a generated certificate. */
  clientSslCert: string | null;
  clientSslKey: string | null;
  /** Key type of the generated certificate. */
  clientCertSig: CertSig;
  clientDenySsl: boolean;
  logCerts: boolean;
  logForwarded: LogForwarded;
  quitOnHangup: boolean;
  /** --max-connections: past this many client connections, refuse with FATAL 53300 (CancelRequests pass); null: no limit. */
  maxConnections: number | null;
  clientSslkeylogfile: string | null;
  serverSslkeylogfile: string | null;
  allowSelfLoop: boolean;
  /** Resolved: see resolveColour. */
  colour: boolean;
  /** -l/--logfile: append output to this file. */
  logfile: string | null;
  /** -c/--clear: truncate the logfile first (needs -l). */
  clearLogfile: boolean;
  verbose: boolean;
  /** Values longer than this are cut in annotated and compact output. */
  maxValueBytes: number;
  demo: boolean;
  /** --override-auth: ask the client for a cleartext password and authenticate to the server as pgscope. */
  overrideAuth: boolean;
  /** --server-channel-binding: SCRAM-SHA-256-PLUS policy toward the server with --override-auth. */
  serverChannelBinding: ChannelBinding;
  /** --redact-passwords: passwords and MD5 hashes never reach any output. */
  redactPasswords: boolean;
  /** --client-ca: sign client-leg certificates with pgscope's local CA (see src/tls/local-ca.ts). */
  clientCa: boolean;
  /** --ca-dir, else $PGSCOPE_CA_DIR, else null: the per-user default (src/tls/local-ca.ts). */
  caDir: string | null;
  /** --jsonl PATH ('-' = stdout): one JSON object per event. */
  jsonl: string | null;
  /** --pcap PATH: the decrypted conversation as pcapng. */
  pcap: string | null;
  /** --query-log PATH ('-' = stdout): one line per completed statement. */
  queryLog: string | null;
  /** --filter EXPR: which messages reach the message outputs (checked at start-up). */
  filter: string | null;
  /** --fault RULE, repeatable: fault rules (src/faults/rule.ts; checked at start-up). */
  fault: string[];
  /** --[no-]summary; default: on when stdout is a terminal. */
  summary: boolean;
  /**
   * --lossless: when an output's reader falls behind, stop reading traffic until it catches
   * up, instead of dropping output (marked) so that traffic never waits.
   */
  lossless: boolean;
  /**
   * --inline-decoding: decode, analyse and render on the thread that forwards the traffic,
   * as before the decode thread (for comparison; the default moves them off it).
   */
  inlineDecoding: boolean;
  /** --ui: serve the inspector (a web page) next to the proxy. */
  ui: boolean;
  /** --ui-port; 0 = any free port. */
  uiPort: number;
  /** --ui-host: the inspector's address; beyond loopback only when asked (with a warning). */
  uiHost: string;
  /** --ui-keep: messages the inspector keeps per connection (older ones are dropped and counted). */
  uiKeep: number;
}

export const DEFAULTS: Config = Object.freeze({
  serverHost: null,
  serverDeleteSuffix: '.local.neon.build',
  clientListenIp: '127.0.0.1',
  clientListenPort: 5432,
  serverConnectPort: 5432,
  serverSslmode: 'prefer',
  serverSslrootcert: null,
  serverSslnegotiation: 'mimic',
  sendChunking: 'whole',
  clientSslCert: null,
  clientSslKey: null,
  clientCertSig: 'rsa',
  clientDenySsl: false,
  logCerts: false,
  logForwarded: 'annotated',
  quitOnHangup: false,
  maxConnections: null,
  clientSslkeylogfile: null,
  serverSslkeylogfile: null,
  allowSelfLoop: false,
  colour: false,
  logfile: null,
  clearLogfile: false,
  verbose: false,
  maxValueBytes: 256,
  demo: false,
  overrideAuth: false,
  serverChannelBinding: 'prefer',
  redactPasswords: false,
  clientCa: false,
  caDir: null,
  jsonl: null,
  pcap: null,
  queryLog: null,
  filter: null,
  fault: [],
  summary: false,
  lossless: false,
  inlineDecoding: false,
  ui: false,
  uiPort: 0,
  uiHost: '127.0.0.1',
  uiKeep: 20_000,
});

/** A configuration mistake; the CLI prints `pgscope: <message>` and exits with status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

// ---------------------------------------------------------------------------------------------
// Single values. `flag` is the option's name as the user knows it, for the message.

/** One of `allowed`, else a ConfigError listing them. */
export function parseChoice<T extends string>(flag: string, allowed: readonly T[], value: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${flag}: expected one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
}

/** A TCP port: decimal digits, 1..65535 (0 too when `allowZero`: any free port). */
export function parsePort(flag: string, value: string, allowZero = false): number {
  const min = allowZero ? 0 : 1;
  const n = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= 65535)) throw new ConfigError(`${flag}: expected a port number ${min}..65535; got ${JSON.stringify(value)}`);
  return n;
}

/** A positive whole number in decimal. */
export function parsePositiveInt(flag: string, value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(Number.isSafeInteger(n) && n >= 1)) throw new ConfigError(`${flag}: expected a positive whole number; got ${JSON.stringify(value)}`);
  return n;
}

/** A non-empty value (file paths, host names). */
export function parseNonEmpty(flag: string, value: string): string {
  if (value === '') throw new ConfigError(`${flag}: expected a value; got an empty string`);
  return value;
}

/** An IPv4 or IPv6 address to listen on. */
export function parseListenIp(flag: string, value: string): string {
  if (isIP(value) === 0) throw new ConfigError(`${flag}: expected an IPv4 or IPv6 address (such as 127.0.0.1, ::1, 0.0.0.0); got ${JSON.stringify(value)}`);
  return value;
}

/**
 * pgMitm's BACKEND: `host`, `host:port`, `[v6addr]:port`, `[v6addr]`, or a bare IPv6 address
 * (`fe80::1`, no port: with two or more colons the whole is the address).
 */
export function parseBackend(spec: string): { host: string; port: number | null } {
  const bad = (why: string): never => {
    throw new ConfigError(`BACKEND ${JSON.stringify(spec)}: ${why} (expected host, host:port, [IPv6]:port or an IPv6 address)`);
  };
  if (spec === '') bad('empty');
  if (/\s/.test(spec)) bad('contains white space');
  if (spec.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(spec);
    if (!m) bad('unbalanced brackets');
    const host = m![1]!;
    if (!isIPv6(host)) bad(`${JSON.stringify(host)} is not an IPv6 address (brackets are for IPv6 addresses)`);
    const port = m![2];
    return { host, port: port === undefined ? null : backendPort(spec, port) };
  }
  if (spec.includes(']')) bad('unbalanced brackets');
  const colons = spec.split(':').length - 1;
  if (colons === 0) return { host: spec, port: null };
  if (colons === 1) {
    const at = spec.indexOf(':');
    const host = spec.slice(0, at);
    if (host === '') bad('no host before the colon');
    return { host, port: backendPort(spec, spec.slice(at + 1)) };
  }
  if (!isIPv6(spec)) bad('not an IPv6 address; to give a port with one, write [address]:port');
  return { host: spec, port: null };
}

function backendPort(spec: string, port: string): number {
  try {
    return parsePort('BACKEND port', port);
  } catch {
    throw new ConfigError(`BACKEND ${JSON.stringify(spec)}: expected a port number 1..65535 after the colon; got ${JSON.stringify(port)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Colour

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Colour or not: `--bw` (bw = true) → no; `--no-bw` (bw = false) → yes; else FORCE_COLOR set,
 * non-empty and not "0" → yes; else NO_COLOR set and non-empty → no; else whether stdout is a
 * terminal.
 */
export function resolveColour(bw: boolean | undefined, env: Env, stdoutIsTTY: boolean): boolean {
  if (bw === true) return false;
  if (bw === false) return true;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stdoutIsTTY;
}

// ---------------------------------------------------------------------------------------------
// From parsed flags to a Config

/**
 * What the command-line parser produced: values already checked one by one (ports, choices),
 * undefined where the user did not give the option. Booleans with a --no- form: true, false or
 * undefined. Field names are the Config's, except the ones that do not reach the Config.
 */
export interface Flags extends Partial<Omit<Config, 'colour' | 'summary'>> {
  /** Positional BACKEND. */
  backend?: string;
  /** --bw (true) / --no-bw (false). */
  bw?: boolean;
  /** --summary (true) / --no-summary (false); undefined: on when stdout is a terminal. */
  summary?: boolean;
}

/** Flags → Config: defaults filled in, BACKEND applied, colour resolved, then validateConfig. */
export function buildConfig(flags: Flags, env: Env, stdoutIsTTY: boolean): Config {
  const given = new Set<keyof Config>();
  const c: Config = { ...DEFAULTS };
  const target = c as unknown as Record<string, unknown>;
  for (const key of Object.keys(DEFAULTS) as (keyof Config)[]) {
    const v = (flags as Record<string, unknown>)[key];
    if (key !== 'colour' && key !== 'summary' && v !== undefined) {
      target[key] = v;
      given.add(key);
    }
  }
  if (flags.backend !== undefined) {
    if (flags.serverHost !== undefined) throw new ConfigError('give the server either as BACKEND or with --server-host, not both');
    const b = parseBackend(flags.backend);
    c.serverHost = b.host;
    given.add('serverHost');
    if (b.port !== null) {
      if (flags.serverConnectPort !== undefined) throw new ConfigError(`give the server port either in BACKEND (${flags.backend}) or with --server-connect-port, not both`);
      c.serverConnectPort = b.port;
      given.add('serverConnectPort');
    }
  }
  if (c.demo) {
    // --demo starts its own server and points the proxy at it.
    const server: [keyof Config, string][] = [['serverHost', '--server-host'], ['serverConnectPort', '--server-connect-port'], ['serverSslmode', '--server-sslmode'], ['serverSslrootcert', '--server-sslrootcert'], ['serverDeleteSuffix', '--server-delete-suffix']];
    const clash = [...(flags.backend !== undefined ? ['BACKEND'] : []), ...server.filter(([k]) => given.has(k) && !(k === 'serverHost' && flags.backend !== undefined)).map(([, f]) => f)];
    if (clash.length) throw new ConfigError(`--demo starts its own server and connects to it itself: leave out ${clash.join(', ')}`);
  }
  c.colour = resolveColour(flags.bw, env, stdoutIsTTY);
  // The summary is for a person watching a terminal; pipes and files get it on request.
  c.summary = flags.summary ?? stdoutIsTTY;
  if (flags.caDir === undefined && env.PGSCOPE_CA_DIR) c.caDir = env.PGSCOPE_CA_DIR;
  return validateConfig(c, given);
}

/**
 * Checks a whole Config (single values and combinations) and returns it, possibly adjusted:
 * `--server-sslrootcert system` raises the sslmode to verify-full when the user did not
 * choose one, as libpq does; any other mode with it is an error (libpq: 'weak sslmode
 * "require" may not be used with sslrootcert=system (use "verify-full")').
 *
 * `given` names the fields the user chose; without it, a field counts as chosen when it
 * differs from DEFAULTS. Throws ConfigError. Does not modify `c`.
 */
export function validateConfig(c: Config, given?: ReadonlySet<keyof Config>): Config {
  const chosen = (k: keyof Config): boolean => (given ? given.has(k) : c[k] !== DEFAULTS[k]);
  const out: Config = { ...c };

  // Single values (the parser checks them too; this guards Configs built in code).
  if (out.serverHost !== null && out.serverHost === '') throw new ConfigError('--server-host: expected a host name or address; got an empty string');
  parseListenIp('--client-listen-ip', out.clientListenIp);
  checkPort('--client-listen-port', out.clientListenPort, 0);
  checkPort('--server-connect-port', out.serverConnectPort, 1);
  checkPort('--ui-port', out.uiPort, 0);
  parseListenIp('--ui-host', out.uiHost);
  if (!(Number.isSafeInteger(out.uiKeep) && out.uiKeep >= 1)) throw new ConfigError(`--ui-keep: expected a positive whole number; got ${out.uiKeep}`);
  parseChoice('--server-sslmode', SSL_MODES, out.serverSslmode);
  parseChoice('--server-sslnegotiation', SSL_NEGOTIATIONS, out.serverSslnegotiation);
  parseChoice('--send-chunking', SEND_CHUNKINGS, out.sendChunking);
  parseChoice('--client-cert-sig', CERT_SIGS, out.clientCertSig);
  parseChoice('--log-forwarded', LOG_FORWARDED, out.logForwarded);
  parseChoice('--server-channel-binding', CHANNEL_BINDINGS, out.serverChannelBinding);
  if (!(Number.isSafeInteger(out.maxValueBytes) && out.maxValueBytes >= 1)) {
    throw new ConfigError(`--max-value-bytes: expected a positive whole number; got ${out.maxValueBytes}`);
  }
  if (out.maxConnections !== null && !(Number.isSafeInteger(out.maxConnections) && out.maxConnections >= 1)) {
    throw new ConfigError(`--max-connections: expected a positive whole number; got ${out.maxConnections}`);
  }
  for (const [flag, v] of [
    ['--server-sslrootcert', out.serverSslrootcert],
    ['--client-ssl-cert', out.clientSslCert],
    ['--client-ssl-key', out.clientSslKey],
    ['--client-sslkeylogfile', out.clientSslkeylogfile],
    ['--server-sslkeylogfile', out.serverSslkeylogfile],
    ['--logfile', out.logfile],
    ['--ca-dir', out.caDir],
    ['--jsonl', out.jsonl],
    ['--pcap', out.pcap],
    ['--query-log', out.queryLog],
    ['--filter', out.filter],
  ] as const) {
    if (v === '') throw new ConfigError(`${flag}: expected a value; got an empty string`);
  }

  // Combinations.
  if (out.clientSslCert !== null && out.clientSslKey === null) throw new ConfigError('--client-ssl-cert needs --client-ssl-key (the certificate\'s private key)');
  if (out.clientSslKey !== null && out.clientSslCert === null) throw new ConfigError('--client-ssl-key needs --client-ssl-cert (the certificate it belongs to)');
  if (out.clearLogfile && out.logfile === null) throw new ConfigError('-c/--clear needs -l/--logfile (the file to clear)');
  if (out.serverSslrootcert === 'system' && out.serverSslmode !== 'verify-full') {
    if (chosen('serverSslmode')) {
      throw new ConfigError(`--server-sslmode ${out.serverSslmode} may not be used with --server-sslrootcert system (use --server-sslmode verify-full, or leave it out)`);
    }
    out.serverSslmode = 'verify-full';
  }
  if (out.clientCa && out.clientSslCert !== null) throw new ConfigError('--client-ca signs certificates with pgscope\'s local CA; --client-ssl-cert shows your own: choose one');
  if (out.clientCa && out.clientDenySsl) throw new ConfigError('--client-ca has nothing to sign with --client-deny-ssl (the client leg stays unencrypted)');
  if (out.filter !== null) {
    // A bad expression is a mistake in the command line, found before anything starts.
    try {
      parseFilter(out.filter);
    } catch (e) {
      if (e instanceof FilterError) throw new ConfigError(`--filter: ${e.message}`);
      throw e;
    }
  }
  for (const rule of out.fault) {
    try {
      parseFaultRule(rule);
    } catch (e) {
      if (e instanceof FaultRuleError) throw new ConfigError(e.message);
      throw e;
    }
  }
  if (out.pcap === '-') throw new ConfigError('--pcap: expected a file path (a pcapng file is binary; "-" is not supported)');
  if (out.jsonl === '-' && out.queryLog === '-') throw new ConfigError('--jsonl - and --query-log - cannot both write to standard output');
  // Two outputs on one file would interleave into garbage (src/output/outputs.ts checks
  // again when opening, by inode: hard links, a folder reached two ways).
  const files = new Map<string, string>();
  for (const [flag, path] of [['--logfile', out.logfile], ['--jsonl', out.jsonl], ['--query-log', out.queryLog], ['--pcap', out.pcap]] as const) {
    if (path === null || path === '-' || path === '/dev/null') continue;
    const key = resolvePath(path);
    const other = files.get(key);
    if (other) throw new ConfigError(`${other} and ${flag} name the same file (${path}): give each output a file of its own`);
    files.set(key, flag);
  }
  for (const k of ['uiPort', 'uiHost', 'uiKeep'] as const) {
    if (chosen(k) && !out.ui) throw new ConfigError(`--${k === 'uiPort' ? 'ui-port' : k === 'uiHost' ? 'ui-host' : 'ui-keep'} needs --ui (the inspector it sets up)`);
  }
  if (out.serverSslmode === 'disable' && out.serverSslnegotiation === 'direct') {
    throw new ConfigError('--server-sslnegotiation direct starts with TLS, which --server-sslmode disable rules out');
  }
  return out;
}

function checkPort(flag: string, n: number, min: number): void {
  if (!(Number.isInteger(n) && n >= min && n <= 65535)) throw new ConfigError(`${flag}: expected a port number ${min}..65535; got ${n}`);
}
