// The JsonlSink as it was before the issue 6 rewrite (commit 03bc2ff), kept as the reference
// the fast one must match byte for byte (test/unit/jsonl/jsonl-equivalence.test.ts).
import type { Label, ProxyEvent, Sink } from '../../../../src/session/events.js';
import type { Filter } from '../../../../src/output/filter/filter.js';
import type { LineWriter } from '../../../../src/output/line-writer.js';
import { jsonBytes } from './json-value.js';
import { messageJson } from './message-json.js';
import { JSONL_VERSION } from '../../../../src/output/jsonl/schema.js';
import { epochMicros, isoMicros } from './time.js';

export interface JsonlOptions {
  /** --redact-passwords: no secret value and no raw bytes of a message holding one. */
  redact: boolean;
  /** Most bytes of a frame shown in `raw` (and of any one byte-string value). */
  maxRawBytes: number;
  /** --filter: events it rejects are not written. */
  filter?: Filter | null;
}

/** `from` and `to` of each label ("script" is pgscope itself). */
const ENDS: Record<Label, { from: string; to: string }> = {
  'client -> server': { from: 'client', to: 'server' },
  'server -> client': { from: 'server', to: 'client' },
  'client -> script': { from: 'client', to: 'script' },
  'script -> client': { from: 'script', to: 'client' },
  'script -> server': { from: 'script', to: 'server' },
  'server -> script': { from: 'server', to: 'script' },
};

/**
 * --jsonl: one JSON object per event (schema: docs/jsonl.md). 'forwarded' and 'wire'
 * events are not written: each message line already has its offset and size, and the
 * forwarded batches are an I/O detail of the text log. A codec 'message-start' (the head
 * of a huge message) is not written either: the message's own line follows when it ends.
 */
export class JsonlSink implements Sink {
  private readonly filter: Filter | null;

  constructor(
    private readonly lines: LineWriter,
    private readonly opts: JsonlOptions,
  ) {
    this.filter = opts.filter ?? null;
  }

  write(ev: ProxyEvent): void {
    if (ev.kind === 'forwarded' || ev.kind === 'wire') return;
    if (ev.kind === 'codec' && ev.event.kind === 'message-start') return;
    if (this.filter && !this.filter.matches(ev)) return;
    const obj = this.toJson(ev);
    if (obj) this.lines.line(JSON.stringify(obj));
  }

  flush(): void {
    this.lines.flush();
  }

  close(): void {
    this.lines.flush();
  }

  /** The object for one event, or null for events that have none. */
  toJson(ev: ProxyEvent): Record<string, unknown> | null {
    const ts = epochMicros(ev.time);
    const head = { v: JSONL_VERSION, type: '', conn: ev.conn, time: isoMicros(ts), ts };
    switch (ev.kind) {
      case 'status':
        head.type = 'status';
        return { ...head, level: ev.level, text: ev.text };
      case 'connection': {
        head.type = 'connection';
        // The fact's own members (phase, addresses, TLS, reason, byte counts) as they are.
        const { kind: _k, conn: _c, time: _t, ...fact } = ev;
        return { ...head, ...fact };
      }
      case 'security': {
        head.type = 'security';
        return { ...head, ...ev.verdict };
      }
      case 'statement': {
        head.type = 'statement';
        const r = ev.record;
        const startUs = epochMicros(r.start);
        const { conn: _c, start: _s, ...rest } = r;
        return { ...head, start: isoMicros(startUs), startTs: startUs, ...rest };
      }
      case 'codec': {
        const ends = ENDS[ev.label];
        const c = ev.event;
        switch (c.kind) {
          case 'message':
            head.type = 'message';
            return { ...head, label: ev.label, from: ends.from, to: ends.to, ...messageJson(c.message, this.opts) };
          case 'error':
            head.type = 'codec-error';
            return { ...head, label: ev.label, from: ends.from, to: ends.to, dir: c.error.direction, offset: c.error.offset, error: { ...c.error.toJSON(), text: c.error.message } };
          case 'unparsed': {
            head.type = 'unparsed';
            const o: Record<string, unknown> = { ...head, label: ev.label, from: ends.from, to: ends.to, dir: c.direction, offset: c.offset, length: c.length, reason: c.reason };
            // Undecodable bytes may hold anything, a password included: never shown when redacting.
            if (this.opts.redact) o.redacted = true;
            else o.prefix = jsonBytes(c.prefix, this.opts.maxRawBytes, c.length);
            return o;
          }
          default:
            return null;
        }
      }
      default:
        return null;
    }
  }
}
