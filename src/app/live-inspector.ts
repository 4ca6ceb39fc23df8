import type { StatementAnalysisOptions } from '../analysis/connection-statements.js';
import type { Config } from './config.js';
import { Inspector } from '../inspector/inspector.js';
import { ByteLines } from '../output/byte-lines.js';
import { messageSummary } from '../output/compact.js';
import { JsonlSink } from '../output/jsonl/jsonl-sink.js';
import { jsonlObjectSink } from '../output/jsonl/object-sink.js';
import { epochMicros } from '../output/time.js';
import { readyStatus } from '../protocol/backend/ready-for-query.js';
import { startupParameters } from '../protocol/frontend/startup-message.js';
import type { DecodedMessage } from '../protocol/types.js';
import type { Label, ProxyEvent, Sink } from '../session/events.js';
import type { FaultControl } from '../web/fault-control.js';
import { beyondLoopbackWarning, isLoopback } from '../web/guard.js';
import { startInspectorServer, type InspectorServer } from '../web/server.js';

/** The flags the inspector reads (all a worker is sent of the Config). */
export type LiveInspectorConfig = Pick<Config, 'redactPasswords' | 'maxValueBytes' | 'uiKeep' | 'uiHost' | 'uiPort'>;

export function pickLiveInspectorConfig(c: LiveInspectorConfig): LiveInspectorConfig {
  return { redactPasswords: c.redactPasswords, maxValueBytes: c.maxValueBytes, uiKeep: c.uiKeep, uiHost: c.uiHost, uiPort: c.uiPort };
}

/** The inspector shows statements with typed values whatever the outputs need. */
export function inspectorAnalysis(c: LiveInspectorConfig): StatementAnalysisOptions {
  return { redact: c.redactPasswords, typed: true, records: true };
}

/** What --ui adds to a running proxy: the inspector's model, fed every event, and its server. */
export interface LiveInspector {
  /** Every event, unfiltered (the page has its own filter). */
  readonly sink: Sink;
  start(title: string, status: (text: string, level?: 'info' | 'warn') => void): Promise<InspectorServer>;
  close(): Promise<void>;
}

/** Events waiting for the inspector at most; beyond, they are dropped and counted (the page says so). */
const MAX_QUEUED = 50_000;
/** Time the inspector takes at once before letting traffic through again. */
const SLICE_MS = 8;

type Side = 'client' | 'server' | 'script';

/** Who sent and who received, per label ("client -> server"): worked out once per label, not per message. */
const SIDES = new Map<Label, { from: Side; to: Side }>();
function sides(label: Label): { from: Side; to: Side } {
  let s = SIDES.get(label);
  if (!s) {
    const [from, , to] = label.split(' ') as [Side, string, Side];
    SIDES.set(label, (s = { from, to }));
  }
  return s;
}

/**
 * One event's JSON line, made when asked (the page opening a message): the very sink
 * --jsonl writes with, so the page shows what a JSON-lines file would hold.
 */
function lineRenderer(opts: { redact: boolean; maxRawBytes: number }): (ev: ProxyEvent) => string {
  let text = '';
  const lines = new ByteLines((bytes) => (text = bytes.toString('utf8', 0, bytes.length - 1)), 0, 1);
  const sink = new JsonlSink(lines, opts);
  return (ev) => {
    text = '';
    sink.write(ev);
    lines.flush();
    return text;
  };
}

/**
 * The inspector next to the proxy (--ui). Messages, by far the most numerous events, reach
 * it as rows read from the decoded message (the summary the compact log prints, redacted
 * alike) with their JSON line as text, parsed only when the page opens one; the other
 * events as JSON-lines objects. What it keeps is bounded: --ui-keep messages per connection, five
 * times that (at least 100,000) in all, and about 256 MiB.
 *
 * On the decode thread (`sliced: false`, the default path) each event is taken as it comes:
 * the inspector then works at the decode thread's pace, and the hand-off's bound
 * (decode-thread.ts) makes the traffic wait when it falls behind, so that it misses nothing.
 * On the forwarding thread (--inline-decoding) the traffic never waits for it: events are
 * queued (bounded: beyond, dropped and counted) and taken in between I/O callbacks, a few
 * milliseconds at a time.
 */
export function liveInspector(config: LiveInspectorConfig, faults: FaultControl | null, opts: { sliced: boolean } = { sliced: true }): LiveInspector {
  let inspector: Inspector | null = null;
  const jsonlOpts = { redact: config.redactPasswords, maxRawBytes: Math.max(config.maxValueBytes, 64 * 1024) };
  const objects = jsonlObjectSink((o, line) => inspector?.ingest(o, line), jsonlOpts);
  const render = lineRenderer(jsonlOpts);
  let server: InspectorServer | null = null;

  const message = (ev: Extract<ProxyEvent, { kind: 'codec' }>, m: DecodedMessage, sql: string | undefined): void => {
    const { from, to } = sides(ev.label);
    // The JSON line now, as text: one string per message is cheap to keep (the garbage
    // collector need not walk it), where the decoded message would hold many objects.
    const line = render(ev);
    inspector!.ingestMessage({
      row: {
        conn: ev.conn,
        ts: epochMicros(ev.time),
        from,
        to,
        dir: m.frame.direction,
        msg: m.name,
        sub: m.sub,
        size: m.frame.size,
        summary: messageSummary(m, config.maxValueBytes, config.redactPasswords),
        error: m.name === 'ErrorResponse' || m.error !== undefined,
      },
      sql: sql ?? null,
      startup: m.name === 'StartupMessage' && from === 'client' ? (startupParameters(m) ?? null) : null,
      idle: m.name === 'ReadyForQuery' && readyStatus(m) === 'I',
      weight: line.length + 200,
      detail: line,
    });
  };

  let queue: ProxyEvent[] = [];
  let head = 0;
  let dropped = 0;
  let scheduled: NodeJS.Immediate | null = null;
  const take = (ev: ProxyEvent): void => {
    if (ev.kind === 'codec' && ev.event.kind === 'message') message(ev, ev.event.message, ev.event.sql);
    else objects.write(ev);
  };
  const drain = (): void => {
    scheduled = null;
    if (!inspector) return;
    const until = performance.now() + SLICE_MS;
    while (head < queue.length) {
      take(queue[head++]!);
      if ((head & 63) === 0 && performance.now() > until) break;
    }
    if (head >= queue.length) {
      queue = [];
      head = 0;
      if (dropped > 0) {
        objects.write({ kind: 'status', conn: null, time: Date.now(), level: 'warn', text: `the inspector fell behind the traffic and missed ${dropped} events` });
        dropped = 0;
      }
    } else scheduled = setImmediate(drain);
  };
  const sink: Sink = {
    write(ev) {
      // Bytes for the pcapng and forwarding counts: nothing the page shows.
      if (ev.kind === 'wire' || ev.kind === 'forwarded') return;
      if (ev.kind === 'codec' && ev.event.kind === 'message-start') return;
      if (!opts.sliced && inspector && head >= queue.length) {
        // On the decode thread: taken at once, so that the hand-off's bound makes the
        // traffic wait for the inspector, as for decoding, instead of events being dropped.
        take(ev);
        return;
      }
      if (queue.length - head >= MAX_QUEUED) {
        dropped++;
        return;
      }
      queue.push(ev);
      if (inspector) scheduled ??= setImmediate(drain);
    },
    flush() {
      if (scheduled) clearImmediate(scheduled);
      scheduled = null;
      if (inspector) while (head < queue.length) take(queue[head++]!);
    },
    close() {
      sink.flush();
      return objects.close();
    },
  };
  return {
    sink,
    async start(title, status) {
      inspector = new Inspector({
        mode: 'live',
        title,
        redacted: config.redactPasswords,
        faults: faults !== null,
        limits: { messagesPerConnection: config.uiKeep, messages: Math.max(config.uiKeep * 5, 100_000) },
      });
      // What happened before (the start-up status lines) is taken first.
      sink.flush();
      server = await startInspectorServer({ host: config.uiHost, port: config.uiPort, inspector, faults, title });
      if (!isLoopback(config.uiHost)) status(beyondLoopbackWarning(config.uiHost, config.redactPasswords), 'warn');
      return server;
    },
    async close() {
      await sink.close();
      await server?.close();
    },
  };
}
