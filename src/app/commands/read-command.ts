/**
 * `pgscope read CAPTURE`: a saved capture (pcap or pcapng, from tcpdump, Wireshark or
 * pgscope's --pcap; "-" for standard input) through every output the live proxy has:
 * the text log (annotated, raw, compact), JSON lines, the query log (latencies from the
 * capture's timestamps), the summary, filters and a pcapng of the decrypted conversations.
 * TLS is decrypted with --keylog files. What a reader should know (encrypted connections,
 * bytes missing, packets skipped) is said in the log where it happens and again, once, on
 * standard error at the end. Outputs are lossless here: reading waits for a
 * slow reader of an output (pgscope read big.pcap | less) instead of dropping lines.
 */
import { forEachCaptureEvent, fileChunks } from '../../capture/read-capture.js';
import { CaptureError } from '../../capture/capture-error.js';
import { KeyLog, KeyLogError } from '../../capture/tls/key-log.js';
import { openOutputs, type Outputs, type OutputsConfig } from '../../output/outputs.js';
import { OutputSetupError } from '../../output/output-setup-error.js';
import type { ProxyEvent } from '../../session/events.js';

export interface CaptureDecodeOptions {
  outputs: OutputsConfig;
  /** --keylog files. */
  keylogs: string[];
  /** --port: server ports (a connection whose start is not captured is found by them). */
  ports: number[];
}

type Say = (s: string) => void;

/** Key logs read now: a file that cannot be read is a mistake the user hears of before anything starts. */
export function openKeyLogs(paths: string[], err: Say): KeyLog | null | 'failed' {
  if (paths.length === 0) return null;
  const keys = new KeyLog();
  try {
    for (const p of paths) keys.add(p);
  } catch (e) {
    if (!(e instanceof KeyLogError)) throw e;
    err(`pgscope: ${e.message}\n`);
    return 'failed';
  }
  return keys;
}

/** The outputs, or null after saying why they cannot be opened. */
export function openCaptureOutputs(config: OutputsConfig, err: Say, onCongestion?: (congested: boolean) => void): Outputs | null {
  try {
    return openOutputs(config, onCongestion ? { onCongestion } : {});
  } catch (e) {
    if (e instanceof OutputSetupError) {
      err(`pgscope: ${e.message}\n`);
      return null;
    }
    throw e;
  }
}

/**
 * Decode chunks of a capture into the outputs; resolves to the exit status (0, or 1 when
 * the input is not a capture). `name` names the input in notes and errors.
 */
export async function decodeCaptureInto(outputs: Outputs, input: AsyncIterable<Buffer>, name: string, keys: KeyLog | null, opts: CaptureDecodeOptions, err: Say): Promise<number> {
  const events = (ev: ProxyEvent): void => outputs.log(ev);
  try {
    const { notes } = await forEachCaptureEvent(input, name, { redact: opts.outputs.redactPasswords, serverPorts: opts.ports, keys, statements: outputs.statements, wire: outputs.wire, narrate: opts.outputs.logForwarded !== 'none' }, events);
    outputs.flush();
    if (opts.outputs.summary) outputs.printSummary();
    for (const n of notes) err(`pgscope: ${name}: ${n}\n`);
    return 0;
  } catch (e) {
    outputs.flush();
    if (e instanceof CaptureError) {
      err(`pgscope: ${e.message}\n`);
      return 1;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ELOOP') {
      err(`pgscope: cannot read ${name}: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}

/** `pgscope read CAPTURE`; resolves to the exit status. */
export async function readCommand(file: string, opts: CaptureDecodeOptions, err: Say): Promise<number> {
  const keys = openKeyLogs(opts.keylogs, err);
  if (keys === 'failed') return 2;
  // Lossless: reading pauses (between chunks) while an output's reader is behind.
  let congested = false;
  let resume: (() => void) | null = null;
  const outputs = openCaptureOutputs({ ...opts.outputs, lossless: true }, err, (on) => {
    congested = on;
    if (!on) resume?.();
  });
  if (!outputs) return 2;
  const source = file === '-' ? (process.stdin as AsyncIterable<Buffer>) : fileChunks(file);
  async function* paced(): AsyncIterable<Buffer> {
    for await (const chunk of source) {
      yield chunk;
      outputs!.flush();
      while (congested) await new Promise<void>((r) => (resume = r));
    }
  }
  const status = await decodeCaptureInto(outputs, paced(), file === '-' ? 'standard input' : file, keys, opts, err);
  // Everything read must be written: give the outputs as long as their readers take.
  await outputs.close(Date.now() + 24 * 3600_000);
  return status;
}
