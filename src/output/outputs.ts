import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { OutputSetupError } from './output-setup-error.js';
import type { ProxyEvent, Sink } from '../session/events.js';
import { filterSink, parseFilter } from './filter/filter.js';
import { jsonlDroppedLine, JsonlSink } from './jsonl/jsonl-sink.js';
import { ByteLines } from './byte-lines.js';
import { LineWriter } from './line-writer.js';
import { OutputTarget, type DropCount, type OutputTargetOptions } from './output-target.js';
import { PcapngSink } from './pcapng/index.js';
import { pcapngGapMarker } from './pcapng/pcapng-sink.js';
import { QueryLogSink } from './query-log/index.js';
import { COLOUR, MONOCHROME } from './style.js';
import { SummarySink } from './summary/index.js';
import { terminalSafe } from './terminal-safe.js';
import { TextLog } from './text-log.js';

/**
 * All of pgscope's outputs, fed by the same events: the text log (annotated, compact or raw), and
 * on request JSON lines, pcapng, the query log and the summary. Each costs nothing unless
 * asked for: the statement tracker runs only when something shows its results (typed
 * values in the annotated log or JSON lines, statements in the query log, JSON lines or
 * summary) or --redact-passwords needs it, and sessions emit the plaintext bytes ('wire'
 * events) only for pcapng. A sink that throws is turned off with one warning; the rest go on.
 *
 * Every file or stream an output writes to is an OutputTarget: writing never blocks, so a
 * reader that stops reading (`pgscope | less`, paused) never stops the traffic or the
 * signals; what it cannot take is queued up to a bound, then dropped with a marker where
 * the gap is (or, with --lossless, the proxy stops reading traffic until it catches up).
 */
export interface Outputs {
  log(ev: ProxyEvent): void;
  /** One line in the text log (pgscope's own status, not tied to a connection). */
  status(text: string, level?: 'info' | 'warn' | 'error'): void;
  /** One line on standard error, `pgscope: text` (problems with outputs, before and after the log). */
  warn(text: string): void;
  flush(): void;
  /**
   * Flush, then give each output until `deadline` (Date.now() ms; default 1 s from now) to
   * be written, say on standard error what could not be, and close them. Resolves to
   * false when something had to be given up.
   */
  close(deadline?: number): Promise<boolean>;
  /** The summary so far (with what outputs dropped), or null without --summary. */
  summary(): string | null;
  /** The summary written into the text log (at exit, on SIGUSR1); false when there is none. */
  printSummary(): boolean;
  /** What each output dropped because its reader fell behind (only those that dropped something). */
  dropped(): DropCount[];
  /** Sessions must emit 'wire' events. */
  readonly wire: boolean;
  /** What the sessions' statement analysis must do for these outputs (null: none at all). */
  readonly statements: { redact: boolean; typed: boolean; records: boolean } | null;
  /** Some output shows forwarded messages; when none does, sessions decode only what they need themselves. */
  readonly showsMessages: boolean;
  /** Where the text log goes: --logfile, standard output, or standard error when another output took standard output. */
  readonly textLogTarget: 'logfile' | 'stdout' | 'stderr';
  /** What --filter keeps (its canonical form), or null. */
  readonly filterDescription: string | null;
}

/**
 * What the outputs are asked for: the flags of the same names (the app's Config has them
 * all; a startProxy() caller may give only these).
 */
export interface OutputsConfig {
  /** --log-forwarded: how the text log shows forwarded messages. */
  logForwarded: 'none' | 'raw' | 'annotated' | 'compact';
  maxValueBytes: number;
  verbose: boolean;
  redactPasswords: boolean;
  colour: boolean;
  /** -l/--logfile and -c/--clear. */
  logfile: string | null;
  clearLogfile: boolean;
  jsonl: string | null;
  pcap: string | null;
  queryLog: string | null;
  filter: string | null;
  summary: boolean;
  lossless: boolean;
}

export interface OutputOptions {
  /** Writes the text log instead of --logfile / standard output / standard error (tests). */
  writeText?: (text: string, lines: number) => void;
  /** Warnings about outputs (a file that cannot be written any more); default: standard error, `pgscope: …`. */
  warn?: (text: string) => void;
  /** The text log's reader on standard output went away (EPIPE): stop, as a program killed by SIGPIPE would. */
  onTextLogGone?: () => void;
  /** --lossless: some output's reader is behind (true: stop reading traffic) or has caught up (false). */
  onCongestion?: (congested: boolean) => void;
  /** Most bytes queued per output for a reader that is behind (default OUTPUT_QUEUE_LIMIT). */
  queueLimit?: number;
}

export function openOutputs(config: OutputsConfig, opts: OutputOptions = {}): Outputs {
  checkDistinctOutputs(config);
  // Already checked by validateConfig: a bad expression never gets this far.
  const filter = config.filter === null ? null : parseFilter(config.filter);
  const behindFilter = (sink: Sink): Sink => (filter ? filterSink(sink, filter) : sink);
  const style = config.colour ? COLOUR : MONOCHROME;
  const targets: OutputTarget[] = [];
  let stderr: OutputTarget | null = null;
  const warn =
    opts.warn ??
    ((t: string): void => {
      stderr ??= OutputTarget.forFd(2, { label: 'standard error', unit: 'line', warn: () => {} });
      stderr.writeText(`pgscope: ${terminalSafe(t)}\n`, 1);
    });
  // --lossless: traffic waits while any output's reader is behind.
  let congested = 0;
  const congestion = (on: boolean): void => {
    const before = congested > 0;
    congested += on ? 1 : -1;
    if (before !== congested > 0) opts.onCongestion?.(congested > 0);
  };
  const common = (label: string, unit: string, gapMarker: OutputTargetOptions['gapMarker']): OutputTargetOptions => ({
    label,
    unit,
    warn,
    gapMarker,
    lossless: config.lossless,
    onCongestion: congestion,
    ...(opts.queueLimit === undefined ? {} : { limit: opts.queueLimit }),
  });
  const textMarker = (label: string) => (units: number): Buffer => Buffer.from(terminalSafe(droppedText(units, 'line', label)) + '\n', 'utf8');
  const open = (flag: string, path: string, unit: string, marker: (label: string) => OutputTargetOptions['gapMarker']): OutputTarget => {
    const label = path === '-' ? `${flag} (standard output)` : `${flag} ${path}`;
    const t = OutputTarget.openPath(flag, path, false, common(label, unit, marker(label)));
    targets.push(t);
    return t;
  };

  const sinks: Named[] = [];
  const where = textLogTarget(config);
  let writeText = opts.writeText;
  if (!writeText) {
    const label = where === 'logfile' ? `the text log (--logfile ${config.logfile})` : `the text log (standard ${where === 'stdout' ? 'output' : 'error'})`;
    const options = { ...common(label, 'line', textMarker(label)), ...(where === 'stdout' && opts.onTextLogGone ? { onBrokenPipe: opts.onTextLogGone } : {}) };
    const t = where === 'logfile' ? OutputTarget.openPath('--logfile', config.logfile!, !config.clearLogfile, options) : OutputTarget.forFd(where === 'stdout' ? 1 : 2, options);
    targets.push(t);
    writeText = (text, lines) => t.writeText(text, lines);
  }
  const textLines = new LineWriter(writeText);
  // An output that took standard output moves the text log to standard error (unless --logfile).
  const text = new TextLog(textLines, { forwarded: config.logForwarded, style, maxValueBytes: config.maxValueBytes, verbose: config.verbose, redact: config.redactPasswords });
  sinks.push(named('text log', behindFilter({ write: (ev) => text.write(ev), flush: () => textLines.flush(), close: () => textLines.flush() })));

  if (config.jsonl !== null) {
    const f = open('--jsonl', config.jsonl, 'line', (label) => (units, time) => Buffer.from(jsonlDroppedLine(units, label, time) + '\n', 'utf8'));
    const lines = new ByteLines((b, n) => f.write(b, n));
    sinks.push(named('JSON lines', behindFilter(new JsonlSink(lines, { redact: config.redactPasswords, maxRawBytes: Math.max(config.maxValueBytes, 1024) }))));
  }
  if (config.queryLog !== null) {
    const f = open('--query-log', config.queryLog, 'line', textMarker);
    const lines = new LineWriter((t, n) => f.writeText(t, n));
    sinks.push(named('query log', new QueryLogSink(lines, { redact: config.redactPasswords, style: config.queryLog === '-' ? style : MONOCHROME })));
  }
  if (config.pcap !== null) {
    const f = open('--pcap', config.pcap, 'block', () => pcapngGapMarker);
    sinks.push(named('pcapng', new PcapngSink({ write: (b, n) => f.write(b, n) }, { redact: config.redactPasswords })));
  }
  checkDistinctTargets(targets);
  const summary = config.summary ? new SummarySink({ style }) : null;
  const summaryEntry = summary ? named('summary', summary) : null;
  if (summaryEntry) sinks.push(summaryEntry);

  // A sink that throws (a bug) must not take down the connection whose socket handler
  // logged the event, nor the proxy: it is turned off, with one warning, and the others go on.
  const failed = (n: Named, e: unknown): void => {
    if (n.off) return;
    n.off = true;
    try {
      warn(`the ${n.name} output failed (${e instanceof Error ? e.message : String(e)}) and was turned off; proxying goes on`);
    } catch {
      /* nothing left to tell */
    }
  };
  const fanOut = (ev: ProxyEvent): void => {
    for (const n of sinks) {
      if (n.off) continue;
      try {
        n.sink.write(ev);
      } catch (e) {
        failed(n, e);
      }
    }
  };
  // Statement analysis (in each session) only for what needs it: typed values for the
  // annotated and compact logs and JSON lines; statement records for the query log, JSON lines and the
  // summary; and with --redact-passwords, marking SQL that carries a password (and its
  // parameters) secret, whatever else is on. --pcap, the raw log or no log need none of it.
  const typed = config.logForwarded === 'annotated' || config.logForwarded === 'compact' || config.jsonl !== null;
  const records = config.jsonl !== null || config.queryLog !== null || summary !== null;
  const statements = typed || records || config.redactPasswords ? { redact: config.redactPasswords, typed, records } : null;
  const log = fanOut;

  const flush = (): void => {
    for (const n of sinks) {
      if (n.off) continue;
      try {
        n.sink.flush();
      } catch (e) {
        failed(n, e);
      }
    }
  };
  const dropped = (): DropCount[] => targets.map((t) => t.dropped).filter((d) => d.units > 0);
  const renderSummary = (): string | null => {
    if (!summary || !summaryEntry || summaryEntry.off) return null;
    try {
      const lost = dropped().map((d) => droppedText(d.units, d.unit, d.label, 'so far'));
      return [summary.render(), ...lost].join('\n');
    } catch (e) {
      failed(summaryEntry, e);
      return null;
    }
  };

  let closed = false;
  return {
    log,
    status(t, level = 'info') {
      log({ kind: 'status', conn: null, time: Date.now(), level, text: t });
    },
    warn,
    flush,
    async close(deadline = Date.now() + 1000) {
      if (closed) return true;
      closed = true;
      for (const n of sinks) {
        if (n.off) continue;
        try {
          await n.sink.close();
        } catch (e) {
          failed(n, e);
        }
      }
      const drained = await Promise.all(targets.map((t) => t.drain(deadline)));
      const summaryShown = summary !== null;
      for (const [i, t] of targets.entries()) {
        if (!drained[i]) warn(`${t.backlog} bytes of ${t.label} could not be written: its reader is not reading`);
        const d = t.dropped;
        if (d.units > 0 && !summaryShown) warn(droppedText(d.units, d.unit, d.label, 'in all'));
        t.close();
      }
      if (stderr) await stderr.drain(Math.max(deadline, Date.now() + 100));
      return drained.every(Boolean);
    },
    summary: renderSummary,
    printSummary() {
      flush();
      const s = renderSummary();
      if (s === null) return false;
      textLines.text(s);
      textLines.flush();
      return true;
    },
    dropped,
    wire: config.pcap !== null,
    statements,
    showsMessages: showsMessages(config),
    textLogTarget: where,
    filterDescription: filter ? filter.canonical : null,
  };
}

/** "1234 lines dropped here: the reader of the text log fell behind …" (where: 'here', or a total: 'so far', 'in all'). */
export function droppedText(units: number, unit: string, label: string, total?: string): string {
  const what = `${units} ${unit}${units === 1 ? '' : 's'} of ${label}`;
  if (total) return `${what} dropped ${total} because its reader fell behind`;
  return `pgscope: ${units} ${unit}${units === 1 ? '' : 's'} dropped here: the reader of ${label} fell behind (pgscope never makes traffic wait for its outputs; --lossless to wait instead)`;
}

/** A sink with the name its failure warning uses; `off` once it threw. */
interface Named {
  name: string;
  sink: Sink;
  off: boolean;
}

function named(name: string, sink: Sink): Named {
  return { name, sink, off: false };
}

/** --jsonl - and --query-log - take standard output; the text log then goes to standard error. */
export function textLogTarget(config: OutputsConfig): 'logfile' | 'stdout' | 'stderr' {
  if (config.logfile) return 'logfile';
  return config.jsonl === '-' || config.queryLog === '-' ? 'stderr' : 'stdout';
}

/** Whether any output shows forwarded traffic (messages, statements, bytes per batch). */
export function showsMessages(config: OutputsConfig): boolean {
  return config.logForwarded !== 'none' || config.jsonl !== null || config.queryLog !== null || config.pcap !== null || config.summary;
}

/** The outputs that name a file, with their flags. */
function namedFiles(config: OutputsConfig): [string, string][] {
  const all: [string, string | null][] = [
    ['--logfile', config.logfile],
    ['--jsonl', config.jsonl],
    ['--query-log', config.queryLog],
    ['--pcap', config.pcap],
  ];
  return all.filter((e): e is [string, string] => e[1] !== null && e[1] !== '-');
}

/**
 * Two outputs writing to one file would interleave into garbage (and opening the second
 * would truncate the first): refused before anything is opened, by path and, for files
 * that exist, by device and inode (hard links, a folder reached two ways). Devices such as
 * /dev/null may be shared.
 */
export function checkDistinctOutputs(config: OutputsConfig): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of namedFiles(config)) {
    const keys = [`path ${resolve(path)}`];
    try {
      const st = statSync(path);
      if (st.isCharacterDevice()) continue;
      keys.push(`file ${st.dev}:${st.ino}`);
    } catch {
      /* not there yet: the path alone */
    }
    for (const k of keys) {
      const other = seen.get(k);
      if (other) throw new OutputSetupError(`${other} and ${flag} name the same file (${path}): give each output a file of its own`);
      seen.set(k, flag);
    }
  }
}

/**
 * After opening: no output named by a path shares its file or pipe with another output,
 * standard output included (`pgscope > f --jsonl f`). Standard output and error may share
 * one (`2>&1 | less`).
 */
function checkDistinctTargets(targets: OutputTarget[]): void {
  const seen = new Map<string, OutputTarget>();
  for (const t of targets) {
    if (t.identity === null) continue;
    const other = seen.get(t.identity);
    if (other && (other.named || t.named)) {
      for (const x of targets) x.close();
      throw new OutputSetupError(`${other.label} and ${t.label} are the same file: give each output a file of its own`);
    }
    seen.set(t.identity, t);
  }
}
