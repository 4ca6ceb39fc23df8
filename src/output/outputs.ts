import type { Config } from '../config.js';
import type { ProxyEvent, Sink } from '../session/events.js';
import { describeFilter, filterSink, parseFilter } from './filter/filter.js';
import { JsonlSink } from './jsonl/jsonl-sink.js';
import { ByteLines } from './byte-lines.js';
import { LineWriter } from './line-writer.js';
import { OutputFile } from './output-file.js';
import { PcapngSink } from './pcapng/index.js';
import { QueryLogSink } from './query-log/index.js';
import { StatementStage } from './statement-stage.js';
import { COLOUR, MONOCHROME } from './style.js';
import { SummarySink } from './summary/index.js';
import { TextLog } from './text-log.js';

/**
 * All of pgscope's outputs, fed by the same events: the text log (annotated or raw), and
 * on request JSON lines, pcapng, the query log and the summary. Each costs nothing unless
 * asked for: the statement tracker runs only when something shows its results (typed
 * values in the annotated log or JSON lines, statements in the query log, JSON lines or
 * summary) or --redact-passwords needs it, and sessions emit the plaintext bytes ('wire'
 * events) only for pcapng. A sink that throws is turned off with one warning; the rest go on.
 */
export interface Outputs {
  log(ev: ProxyEvent): void;
  /** One line in the text log (pgscope's own status, not tied to a connection). */
  status(text: string, level?: 'info' | 'warn' | 'error'): void;
  flush(): void;
  close(): Promise<void>;
  /** The summary so far, or null without --summary. */
  summary(): string | null;
  /** Sessions must emit 'wire' events. */
  readonly wire: boolean;
  /** Some output shows forwarded messages; when none does, sessions decode only what they need themselves. */
  readonly showsMessages: boolean;
  /** Where the text log goes: --logfile, standard output, or standard error when another output took standard output. */
  readonly textLogTarget: 'logfile' | 'stdout' | 'stderr';
  /** What --filter keeps, in words, or null. */
  readonly filterDescription: string | null;
}

export interface OutputOptions {
  /** Writes the text log (the proxy's guarded writer for --logfile / stdout / stderr: see textLogTarget). */
  writeText: (text: string) => void;
  /** Warnings about outputs (a file that cannot be written any more): to stderr by default. */
  warn: (text: string) => void;
}

export function openOutputs(config: Config, opts: OutputOptions): Outputs {
  // Already checked by validateConfig: a bad expression never gets this far.
  const filter = config.filter === null ? null : parseFilter(config.filter);
  const behindFilter = (sink: Sink): Sink => (filter ? filterSink(sink, filter) : sink);
  const style = config.colour ? COLOUR : MONOCHROME;
  const files: OutputFile[] = [];
  const open = (flag: string, path: string): OutputFile => {
    const f = OutputFile.open(flag, path, opts.warn);
    files.push(f);
    return f;
  };

  const sinks: Named[] = [];
  const textLines = new LineWriter(opts.writeText);
  // An output that took standard output moves the text log to standard error (unless --logfile).
  const text = new TextLog(textLines, { forwarded: config.logForwarded, style, maxValueBytes: config.maxValueBytes, verbose: config.verbose, redact: config.redactPasswords });
  sinks.push(named('text log', behindFilter({ write: (ev) => text.write(ev), flush: () => textLines.flush(), close: () => textLines.flush() })));

  if (config.jsonl !== null) {
    const f = open('--jsonl', config.jsonl);
    const lines = new ByteLines((b) => f.writeBytes(b));
    sinks.push(named('JSON lines', behindFilter(new JsonlSink(lines, { redact: config.redactPasswords, maxRawBytes: Math.max(config.maxValueBytes, 1024) }))));
  }
  if (config.queryLog !== null) {
    const f = open('--query-log', config.queryLog);
    const lines = new LineWriter((t) => f.writeText(t));
    sinks.push(named('query log', new QueryLogSink(lines, { redact: config.redactPasswords, style: config.queryLog === '-' ? style : MONOCHROME })));
  }
  if (config.pcap !== null) {
    const f = open('--pcap', config.pcap);
    sinks.push(named('pcapng', new PcapngSink({ write: (b) => f.writeBytes(b) }, { redact: config.redactPasswords })));
  }
  const summary = config.summary ? new SummarySink({ style }) : null;
  const summaryEntry = summary ? named('summary', summary) : null;
  if (summaryEntry) sinks.push(summaryEntry);

  // A sink that throws (a bug) must not take down the connection whose socket handler
  // logged the event, nor the proxy: it is turned off, with one warning, and the others go on.
  const failed = (n: Named, e: unknown): void => {
    if (n.off) return;
    n.off = true;
    try {
      opts.warn(`the ${n.name} output failed (${e instanceof Error ? e.message : String(e)}) and was turned off; proxying goes on`);
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
  // The statement stage runs only for what needs it: typed values for the annotated log
  // and JSON lines; statement records for the query log, JSON lines and the summary; and
  // with --redact-passwords, marking SQL that carries a password (and its parameters)
  // secret, whatever else is on. --pcap, the raw log or no log at all need none of it.
  const typed = config.logForwarded === 'annotated' || config.jsonl !== null;
  const records = config.jsonl !== null || config.queryLog !== null || summary !== null;
  const stage = typed || records || config.redactPasswords ? new StatementStage(fanOut, { redact: config.redactPasswords, typed, records, warn: opts.warn }) : null;
  const log = stage ? (ev: ProxyEvent): void => stage.write(ev) : fanOut;

  let closed = false;
  return {
    log,
    status(t, level = 'info') {
      log({ kind: 'status', conn: null, time: Date.now(), level, text: t });
    },
    flush() {
      for (const n of sinks) {
        if (n.off) continue;
        try {
          n.sink.flush();
        } catch (e) {
          failed(n, e);
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const n of sinks) {
        if (n.off) continue;
        try {
          await n.sink.close();
        } catch (e) {
          failed(n, e);
        }
      }
      for (const f of files) f.close();
    },
    summary: () => {
      if (!summary || !summaryEntry || summaryEntry.off) return null;
      try {
        return summary.render();
      } catch (e) {
        failed(summaryEntry, e);
        return null;
      }
    },
    wire: config.pcap !== null,
    showsMessages: showsMessages(config),
    textLogTarget: textLogTarget(config),
    filterDescription: filter ? describeFilter(filter) : null,
  };
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
export function textLogTarget(config: Config): 'logfile' | 'stdout' | 'stderr' {
  if (config.logfile) return 'logfile';
  return config.jsonl === '-' || config.queryLog === '-' ? 'stderr' : 'stdout';
}

/** Whether any output shows forwarded traffic (messages, statements, bytes per batch). */
export function showsMessages(config: Config): boolean {
  return config.logForwarded !== 'none' || config.jsonl !== null || config.queryLog !== null || config.pcap !== null || config.summary;
}
