/**
 * `pgscope sniff`: decode live traffic passively, without being in its path. tcpdump (or
 * Wireshark's dumpcap) captures and writes pcap to a pipe; pgscope reads the pipe as `read`
 * reads a file, into the same outputs. Live, an output whose reader falls behind drops
 * lines (marked) rather than making the capture wait, which would make the kernel drop
 * packets instead. SIGINT or SIGTERM stops the capture; what it had is decoded to the end.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { terminalSafe } from '../../output/terminal-safe.js';
import { decodeCaptureInto, openCaptureOutputs, openKeyLogs, type CaptureDecodeOptions } from './read-command.js';

export interface SniffOptions extends CaptureDecodeOptions {
  /** -i: the interface (default "any"). */
  iface: string;
  /** A BPF filter (words after the options); default: TCP, on `filterPorts` when given. */
  bpf: string[];
  /** The ports --port gave (none: any port). */
  filterPorts: number[];
}

type Say = (s: string) => void;

export interface Capturer {
  tool: 'tcpdump' | 'dumpcap';
  path: string;
  args: string[];
  /** The capture filter among the args, for the line that says what is captured. */
  filter: string;
}

/** The first of tcpdump and dumpcap on PATH, with the arguments that write pcap to standard output. */
export function findCapturer(opts: Pick<SniffOptions, 'iface' | 'bpf' | 'filterPorts'>, path: string | undefined): Capturer | null {
  const ports = opts.filterPorts;
  const filter = opts.bpf.length > 0 ? opts.bpf.join(' ') : ports.length > 0 ? `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})` : 'tcp';
  for (const tool of ['tcpdump', 'dumpcap'] as const) {
    const found = onPath(tool, path);
    if (found === null) continue;
    // -U: each packet written at once (not a buffer at a time); -s 0: whole packets.
    // --immediate-mode: packets handed over as they come, not when the kernel's buffer block fills (a quiet connection would wait).
    // -B: a 16 MiB kernel buffer (the default 2 MiB drops packets while a large row passes; a loss costs decoding until the next message boundary).
    if (tool === 'tcpdump') return { tool, path: found, args: ['-i', opts.iface, '--immediate-mode', '-B', '16384', '-U', '-s', '0', '-n', '-w', '-', filter], filter };
    // dumpcap writes pcapng, which pgscope reads as well.
    return { tool, path: found, args: ['-i', opts.iface, '-q', '-B', '16', '-f', filter, '-w', '-'], filter };
  }
  return null;
}

function onPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

const NOT_INSTALLED = 'pgscope sniff needs tcpdump or dumpcap, and neither is on PATH: install tcpdump (Debian, Ubuntu: apt-get install tcpdump; Fedora: dnf install tcpdump; macOS has it) or Wireshark\'s dumpcap';

/** What the capture tool's complaint means for the user, with what to do. */
function explain(tool: Capturer, text: string): string | null {
  if (/permission|not permitted|privilege/i.test(text)) {
    return `${tool.tool} may not capture here (${text.trim()}): run pgscope sniff as root, or let ${tool.tool} capture as you: sudo setcap cap_net_raw,cap_net_admin=eip ${tool.path}`;
  }
  if (/no such device|doesn't exist|no suitable device|there is no device/i.test(text)) return `${tool.tool}: ${text.trim().replace(/^(tcpdump|dumpcap): /, '')} (list interfaces with ${tool.tool} -D)`;
  return null;
}

/** `pgscope sniff`; resolves to the exit status when the capture ends (SIGINT, SIGTERM, or `until`). */
export async function sniffCommand(opts: SniffOptions, err: Say, env: NodeJS.ProcessEnv, until?: Promise<void>): Promise<number> {
  const capturer = findCapturer(opts, env['PATH']);
  if (capturer === null) {
    err(`pgscope: ${NOT_INSTALLED}\n`);
    return 1;
  }
  const keys = openKeyLogs(opts.keylogs, err);
  if (keys === 'failed') return 2;
  const outputs = openCaptureOutputs(opts.outputs, err);
  if (!outputs) return 2;

  const child = spawn(capturer.path, capturer.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let complaint = '';
  let said = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    complaint += text;
    for (const line of text.split('\n')) {
      // tcpdump: "listening on lo, link-type …"; dumpcap: "Capturing on 'Loopback: lo'".
      if (!said && /^(tcpdump: )?listening on|^Capturing on/.test(line)) {
        said = true;
        err(`pgscope: sniffing on ${terminalSafe(opts.iface)} with ${capturer.tool} (${terminalSafe(capturer.filter)}); Ctrl-C to stop\n`);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));

  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  // pgscope ending any other way (an uncaught error) must not leave the capture running.
  const orphaned = (): void => void child.kill('SIGKILL');
  process.once('exit', orphaned);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  void until?.then(stop);
  const flusher = setInterval(() => outputs.flush(), 50);
  let status: number;
  try {
    // Before the tool captures, what decoding says (an empty input) is not the news: the tool's own complaint is.
    const early: string[] = [];
    const decodeErr = (s: string): void => void (said ? err(s) : early.push(s));
    const decoding = decodeCaptureInto(outputs, child.stdout as AsyncIterable<Buffer>, `${capturer.tool} on ${opts.iface}`, keys, opts, decodeErr);
    const failed = await Promise.race([spawnError, exited.then(() => null)]);
    if (failed) {
      err(`pgscope: cannot run ${capturer.path}: ${failed.message}\n`);
      status = 1;
    } else {
      const code = await exited;
      status = await decoding;
      // A capture tool that failed before capturing anything: say what it said, and what to do.
      if (!said && code !== 0) {
        const first = complaint.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'no message';
        const why = explain(capturer, first) ?? `${capturer.tool} ended (status ${code}): ${first}`;
        err(`pgscope: ${terminalSafe(why)}\n`);
        status = 1;
      } else {
        for (const s of early) err(s);
      }
    }
  } finally {
    clearInterval(flusher);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('exit', orphaned);
    await outputs.close(Date.now() + 2000);
  }
  return status;
}
