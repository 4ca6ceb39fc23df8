/**
 * The subcommands that decode traffic pgscope was not in the path of: `pgscope read
 * CAPTURE` (a saved pcap or pcapng) and `pgscope sniff` (live, through tcpdump or dumpcap).
 * Both take the proxy's output options under the same names, turned into a Config by the
 * same buildConfig (so that --filter, --jsonl - and the rest are checked alike).
 */
import { Command, Option } from 'commander';
import { choice, dflt, pathOption, valueOption } from './cli-options.js';
import { buildConfig, ConfigError, DEFAULTS, LOG_FORWARDED, parseNonEmpty, parsePort, parsePositiveInt, type Env, type Flags } from './config.js';

interface CaptureFlags {
  keylog?: string[];
  port?: number[];
  logForwarded?: Flags['logForwarded'];
  maxValueBytes?: number;
  logfile?: string;
  clear?: boolean;
  verbose?: boolean;
  bw?: boolean;
  jsonl?: string;
  pcap?: string;
  queryLog?: string;
  filter?: string;
  summary?: boolean;
  redactPasswords?: boolean;
  interface?: string;
}

const repeatable = <T>(parse: (v: string) => T) => (v: string, prev: T[] | undefined): T[] => [...(prev ?? []), parse(v)];

/** --keylog and --port: what reading any capture takes (read, sniff, view, report). */
export function addCaptureInputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--keylog <file>', "NSS key log to decrypt TLS with (libpq 18's sslkeylogfile, SSLKEYLOGFILE, pgscope's --client-/--server-sslkeylogfile); repeatable").argParser(repeatable((v) => parseNonEmpty('--keylog', v))))
    .addOption(new Option('--port <port>', 'a server port (repeatable; default 5432): how a connection whose start is not captured is found; any connection that starts with a startup packet or TLS is found on any port').argParser(repeatable((v) => parsePort('--port', v))));
}

/** The options `read` and `sniff` share. */
function addShared(cmd: Command): Command {
  return addCaptureInputOptions(cmd)
    .addOption(choice('--log-forwarded <how>', LOG_FORWARDED, 'how messages are logged (annotated: every field with its bytes; compact: one line per message)', DEFAULTS.logForwarded))
    .addOption(valueOption('--max-value-bytes <n>', `cut longer values in annotated and compact output${dflt(DEFAULTS.maxValueBytes)}`, (v) => parsePositiveInt('--max-value-bytes', v)))
    .addOption(pathOption('-l, --logfile <path>', 'append the log to this file'))
    .addOption(new Option('-c, --clear', 'empty the logfile first (with -l)'))
    .addOption(new Option('-v, --verbose', 'say more'))
    .addOption(new Option('--bw', 'monochrome (--bw) or colour (--no-bw) (default: colour on a terminal)'))
    .addOption(new Option('--no-bw').hideHelp())
    .addOption(pathOption('--jsonl <path>', 'one JSON object per event (docs/jsonl.md); "-": standard output'))
    .addOption(pathOption('--pcap <path>', 'the decrypted conversations as a pcapng file'))
    .addOption(pathOption('--query-log <path>', 'one line per completed statement, with its duration from the capture\'s timestamps; "-": standard output'))
    .addOption(pathOption('--filter <expr>', 'which messages reach the log and --jsonl (pgscope --help: Filters)'))
    .addOption(new Option('--summary', 'print connections, bytes and statements at the end (default: on when stdout is a terminal)'))
    .addOption(new Option('--no-summary').hideHelp())
    .addOption(new Option('--redact-passwords', 'passwords and MD5 hashes never reach any output'))
    .helpOption('-h, --help', 'print this help and exit')
    .configureHelp({ optionTerm: (o) => (o.long === '--bw' || o.long === '--summary' ? o.flags.replace(/--/, '--[no-]') : o.flags) });
}

function decodeOptions(o: CaptureFlags, env: Env, stdoutIsTTY: boolean): { outputs: ReturnType<typeof buildConfig>; keylogs: string[]; ports: number[] } {
  // buildConfig takes what was not given as undefined, as the proxy's flags.
  const flags: Flags = {
    logForwarded: o.logForwarded,
    maxValueBytes: o.maxValueBytes,
    logfile: o.logfile,
    clearLogfile: o.clear,
    verbose: o.verbose,
    bw: o.bw,
    jsonl: o.jsonl,
    pcap: o.pcap,
    queryLog: o.queryLog,
    filter: o.filter,
    summary: o.summary,
    redactPasswords: o.redactPasswords,
  };
  return { outputs: buildConfig(flags, env, stdoutIsTTY), keylogs: o.keylog ?? [], ports: o.port ?? [5432] };
}

export interface CaptureCliIO {
  err: (s: string) => void;
  env: Env;
  stdoutIsTTY: boolean;
}

export function addCaptureCommands(program: Command, io: CaptureCliIO, chosen: { run?: () => Promise<number> }, ownOptionsOnly: (name: string, usage: string) => void): void {
  const read = addShared(
    program
      .command('read')
      .description('decode a saved capture (pcap or pcapng: tcpdump, Wireshark, pgscope --pcap) into the same outputs as the proxy; TLS is decrypted with --keylog')
      .argument('<CAPTURE>', 'the capture file; "-": standard input'),
  ).allowExcessArguments(false);
  read.action((file: string) => {
    ownOptionsOnly('read', 'pgscope read CAPTURE [options]');
    const opts = decodeOptions(read.opts<CaptureFlags>(), io.env, io.stdoutIsTTY);
    chosen.run = async () => (await import('./commands/read-command.js')).readCommand(file, opts, io.err);
  });

  const sniff = addShared(
    program
      .command('sniff')
      .description('decode live traffic passively (tcpdump or dumpcap captures; pgscope is not in the path), into the same outputs as the proxy')
      .argument('[BPF...]', 'a capture filter, as tcpdump takes it (default: tcp, on the --port ports when given)')
      .addOption(valueOption('-i, --interface <name>', 'the interface to capture on (default: any)', (v) => parseNonEmpty('--interface', v))),
  );
  sniff.action((bpf: string[]) => {
    ownOptionsOnly('sniff', 'pgscope sniff [-i IFACE] [--port N] [options] [BPF filter]');
    const o = sniff.opts<CaptureFlags>();
    const opts = decodeOptions(o, io.env, io.stdoutIsTTY);
    if (bpf.length > 0 && o.port !== undefined) throw new ConfigError('give either --port or a capture filter, not both (the filter decides what is captured)');
    // Without --port, any connection that starts with a startup packet is found: the filter keeps to TCP.
    const sniffOpts = { ...opts, iface: o.interface ?? 'any', bpf, filterPorts: o.port ?? [] };
    chosen.run = async () => (await import('./commands/sniff-command.js')).sniffCommand(sniffOpts, io.err, process.env);
  });
}
