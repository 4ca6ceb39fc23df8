import type { Config } from './config.js';
import type { FaultSet } from '../faults/fault-set.js';
import { Inspector } from '../inspector/inspector.js';
import { jsonlObjectSink } from '../output/jsonl/object-sink.js';
import type { ProxyEvent, Sink } from '../session/events.js';
import { startInspectorServer, type InspectorServer } from '../web/server.js';

/** What --ui adds to a running proxy: the inspector's model, fed every event, and its server. */
export interface LiveInspector {
  /** Every event, unfiltered (the page has its own filter). */
  readonly sink: Sink;
  start(title: string, status: (text: string, level?: 'info' | 'warn') => void): Promise<InspectorServer>;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1']);
/** Events waiting for the inspector at most; beyond, they are dropped and counted (the page says so). */
const MAX_QUEUED = 50_000;
/** Time the inspector takes at once before letting traffic through again. */
const SLICE_MS = 8;

/**
 * The inspector next to the proxy (--ui). Events become JSON-lines objects (the very form
 * --jsonl writes, redacted alike with --redact-passwords) and the Inspector keeps them,
 * bounded: --ui-keep messages per connection, ten times that in all.
 */
export function liveInspector(config: Config, faults: FaultSet | null): LiveInspector {
  let inspector: Inspector | null = null;
  const pending: { o: Parameters<Inspector['ingest']>[0]; line: string }[] = [];
  const objects = jsonlObjectSink(
    (o, line) => {
      if (inspector) inspector.ingest(o, line);
      else if (pending.length < 10_000) pending.push({ o, line });
    },
    { redact: config.redactPasswords, maxRawBytes: Math.max(config.maxValueBytes, 64 * 1024) },
  );
  let server: InspectorServer | null = null;
  // The traffic never waits for the inspector: events are queued (bounded) and rendered
  // between I/O callbacks, a few milliseconds at a time.
  let queue: ProxyEvent[] = [];
  let head = 0;
  let dropped = 0;
  let scheduled: NodeJS.Immediate | null = null;
  const drain = (): void => {
    scheduled = null;
    const until = performance.now() + SLICE_MS;
    while (head < queue.length) {
      objects.write(queue[head++]!);
      if ((head & 63) === 0 && performance.now() > until) break;
    }
    if (head >= queue.length) {
      queue = [];
      head = 0;
    } else scheduled = setImmediate(drain);
    if (dropped > 0 && head >= queue.length) {
      objects.write({ kind: 'status', conn: null, time: Date.now(), level: 'warn', text: `the inspector fell behind the traffic and missed ${dropped} events` });
      dropped = 0;
    }
  };
  const sink: Sink = {
    write(ev) {
      // Bytes for the pcapng and forwarding counts: nothing the page shows.
      if (ev.kind === 'wire' || ev.kind === 'forwarded') return;
      if (queue.length - head >= MAX_QUEUED) {
        dropped++;
        return;
      }
      queue.push(ev);
      scheduled ??= setImmediate(drain);
    },
    flush() {
      if (scheduled) clearImmediate(scheduled);
      scheduled = null;
      while (head < queue.length) objects.write(queue[head++]!);
      queue = [];
      head = 0;
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
        limits: { messagesPerConnection: config.uiKeep, messages: Math.max(config.uiKeep * 10, 200_000) },
      });
      for (const p of pending.splice(0)) inspector.ingest(p.o, p.line);
      server = await startInspectorServer({ host: config.uiHost, port: config.uiPort, inspector, faults, title });
      if (!LOOPBACK.has(config.uiHost)) {
        status(
          `--ui-host ${config.uiHost}: the inspector is reachable beyond this machine; whoever has its address sees the decrypted traffic${config.redactPasswords ? '' : ' and passwords (add --redact-passwords)'}`,
          'warn',
        );
      }
      return server;
    },
    async close() {
      await sink.close();
      await server?.close();
    },
  };
}
