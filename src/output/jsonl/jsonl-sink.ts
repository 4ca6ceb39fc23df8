import type { Label, ProxyEvent, Sink, StatementRecord } from '../../session/events.js';
import type { DecodedMessage, Span } from '../../protocol/types.js';
import { isShared } from '../../protocol/decode-memo.js';
import type { ByteLines } from '../byte-lines.js';
import { JsonOut, terminalSafeJson } from './json-out.js';
import { jsonBytes, jsonName, jsonNumber } from './json-value.js';
import { writeMessageJson, writeMessageRest, writeMessageStart } from './message-json.js';
import { JSONL_VERSION } from './schema.js';
import { epochMicros, isoMicros } from '../time.js';

export interface JsonlOptions {
  /** --redact-passwords: no secret value and no raw bytes of a message holding one. */
  redact: boolean;
  /** Most bytes of a frame shown in `raw` (and of any one byte-string value). */
  maxRawBytes: number;
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

/** `,"label":…,"from":…,"to":…` of each label, as JSON text. */
const LABEL_MEMBERS = new Map<string, string>(
  Object.entries(ENDS).map(([label, e]) => [label, `,"label":${JSON.stringify(label)},"from":${JSON.stringify(e.from)},"to":${JSON.stringify(e.to)}`]),
);

/** Members every line starts with: no other member of a line may have these names (see membersText). */
const HEAD_MEMBERS: ReadonlySet<string> = new Set(['v', 'type', 'conn', 'time', 'ts']);

/**
 * --jsonl: one JSON object per event (schema: docs/jsonl.md). 'forwarded' and 'wire'
 * events are not written: each message line already has its offset and size, and the
 * forwarded batches are an I/O detail of the text log. A codec 'message-start' (the head
 * of a huge message) is not written either: the message's own line follows when it ends.
 *
 * Message lines, by far the most numerous, are written as UTF-8 bytes in place (JsonOut,
 * through ByteLines); the other lines are built as text, member by member. Both in the
 * order and form that JSON.stringify gave the objects this sink used to build (one object
 * per event, with spreads; test/unit/jsonl/reference keeps that version, and a test holds
 * the two equal byte for byte): no intermediate objects for the common lines (messages,
 * statements, status, connection facts), JSON.stringify only for strings and values that
 * may need escaping, and the time's ISO text up to the second made once per second
 * (src/output/time.ts).
 */
export class JsonlSink implements Sink {
  /** writeShared's bytes, by the shared spans they were made of. */
  private readonly rest = new WeakMap<Span[], Buffer>();

  constructor(
    private readonly lines: ByteLines,
    private readonly opts: JsonlOptions,
  ) {}

  write(ev: ProxyEvent): void {
    if (ev.kind === 'forwarded' || ev.kind === 'wire') return;
    if (ev.kind === 'codec') {
      const c = ev.event;
      if (c.kind === 'message-start') return;
      if (c.kind === 'message') {
        // The most common line by far: written as bytes in place (see JsonOut).
        const label = LABEL_MEMBERS.get(ev.label);
        if (label === undefined) throw new TypeError(`unknown label ${JSON.stringify(ev.label)}`);
        const out = this.lines.out;
        const start = out.pos;
        try {
          writeHead(out, 'message', ev.conn, ev.time);
          out.ascii(label);
          const m = c.message;
          if (isShared(m)) this.writeShared(out, m);
          else writeMessageJson(out, m, this.opts);
          out.byte(0x7d);
        } catch (e) {
          out.pos = start; // no half line in the file
          throw e;
        }
        this.lines.endLine();
        return;
      }
    }
    const text = this.toLine(ev);
    if (text !== null) this.lines.line(text);
  }

  /**
   * writeMessageJson for a message whose spans are shared (isShared): the
   * members after `offset` are written once, then copied as bytes for every message that
   * shares them.
   */
  private writeShared(out: JsonOut, m: DecodedMessage): void {
    writeMessageStart(out, m);
    const kept = this.rest.get(m.spans);
    if (kept !== undefined) {
      out.bytes(kept);
      return;
    }
    const at = out.pos;
    writeMessageRest(out, m, this.opts);
    this.rest.set(m.spans, Buffer.from(out.buf.subarray(at, out.pos)));
  }

  flush(): void {
    this.lines.flush();
  }

  close(): void {
    this.lines.flush();
  }

  /** The JSON line for one event but a message (without its newline), or null for events that have none. */
  toLine(ev: ProxyEvent): string | null {
    switch (ev.kind) {
      case 'codec': {
        const c = ev.event;
        switch (c.kind) {
          case 'message':
            return null; // written by write() directly
          case 'error':
          case 'unparsed':
            return this.rareCodecLine(ev.label, ev.conn, ev.time, c);
          default:
            return null;
        }
      }
      case 'status':
        return head('status', ev.conn, ev.time) + member('level', ev.level) + member('text', ev.text) + '}';
      case 'statement': {
        const r = ev.record;
        const h = head('statement', ev.conn, ev.time);
        const startUs = epochMicros(r.start);
        const rest = statementMembers(r);
        if (rest === null) return JSON.stringify(statementObject(ev));
        return h + ',"start":"' + isoMicros(startUs) + '","startTs":' + jsonNumber(startUs) + rest + '}';
      }
      case 'connection': {
        const h = head('connection', ev.conn, ev.time);
        // The fact's own members (phase, addresses, TLS, reason, byte counts) as they are.
        const rest = membersText(ev, CONNECTION_SKIP, HEAD_MEMBERS);
        return rest === null ? JSON.stringify(connectionObject(ev)) : h + rest + '}';
      }
      case 'security': {
        const h = head('security', ev.conn, ev.time);
        const rest = membersText(ev.verdict, NONE, HEAD_MEMBERS);
        return rest === null ? JSON.stringify({ ...headObject('security', ev.conn, ev.time), ...ev.verdict }) : h + rest + '}';
      }
      default:
        return null;
    }
  }

  /** codec-error and unparsed lines: rare, built as objects. */
  private rareCodecLine(label: Label, conn: number, time: number, c: Extract<ProxyEvent, { kind: 'codec' }>['event']): string | null {
    const ends = ENDS[label];
    if (c.kind === 'error') {
      return JSON.stringify({ ...headObject('codec-error', conn, time), label, from: ends.from, to: ends.to, dir: c.error.direction, offset: c.error.offset, error: { ...c.error.toJSON(), text: c.error.message } });
    }
    if (c.kind !== 'unparsed') return null;
    const o: Record<string, unknown> = { ...headObject('unparsed', conn, time), label, from: ends.from, to: ends.to, dir: c.direction, offset: c.offset, length: c.length, reason: c.reason };
    // Undecodable bytes may hold anything, a password included: never shown when redacting.
    if (this.opts.redact) o.redacted = true;
    else o.prefix = jsonBytes(c.prefix, this.opts.maxRawBytes, c.length);
    return JSON.stringify(o);
  }
}

/**
 * The line that stands where JSON lines were dropped because the reader fell behind (see
 * OutputTarget): `{"v":1,"type":"dropped","conn":null,…,"lines":N,"output":…,"text":…}`.
 */
export function jsonlDroppedLine(lines: number, output: string, time: number): string {
  const text = `${lines} line${lines === 1 ? '' : 's'} dropped here: the reader of ${output} fell behind (pgscope never makes traffic wait for its outputs; --lossless to wait instead)`;
  return terminalSafeJson(head('dropped', null, time) + ',"lines":' + jsonNumber(lines) + member('output', output) + member('text', text) + '}');
}

const HEAD_START = '{"v":' + JSONL_VERSION + ',"type":"';

/** `{"v":1,"type":…,"conn":…,"time":…,"ts":…` (no closing brace). */
function head(type: string, conn: number | null, time: number): string {
  headOut.pos = 0;
  writeHead(headOut, type, conn, time);
  return headOut.buf.toString('latin1', 0, headOut.pos);
}

/** Where head() writes: the head is ASCII, read back as text at once. */
const headOut = new JsonOut(256);

/** head(), written into `out`. */
function writeHead(out: JsonOut, type: string, conn: number | null, time: number): void {
  const ts = epochMicros(time);
  out.ascii(HEAD_START);
  out.ascii(type);
  if (conn === undefined) out.byte(0x22);
  else if (conn === null) out.ascii('","conn":null');
  else {
    out.ascii('","conn":');
    out.num(conn);
  }
  out.ascii(',"time":"');
  out.ascii(isoMicros(ts));
  out.ascii('","ts":');
  out.num(ts);
}

function headObject(type: string, conn: number | null, time: number): Record<string, unknown> {
  const ts = epochMicros(time);
  return { v: JSONL_VERSION, type, conn, time: isoMicros(ts), ts };
}

/** `,"name":value`, or nothing when the value has no JSON form (undefined), as JSON.stringify leaves such members out. */
function member(name: string, v: unknown): string {
  const t = JSON.stringify(v);
  return t === undefined ? '' : ',"' + name + '":' + t;
}

/**
 * The own members of `o` but those in `skip`, as `,"k":v…` in JSON.stringify's form and
 * order, to follow a line's head as `{...head, ...o}` would; null when that spread would
 * not simply append them (a member named like one already there, in `taken`, or an
 * integer-like name, which objects put first): the caller then builds the object.
 */
function membersText(o: object, skip: ReadonlySet<string>, taken: ReadonlySet<string>): string | null {
  let out = '';
  for (const k of Object.keys(o)) {
    if (skip.has(k)) continue;
    if (taken.has(k) || isIndexLike(k)) return null;
    const t = JSON.stringify((o as Record<string, unknown>)[k]);
    if (t !== undefined) out += ',' + jsonName(k) + ':' + t;
  }
  return out;
}

/**
 * A statement record's members but conn and start, as `,"k":v…` (see membersText): one
 * JSON.stringify of the whole record, less its first two members, when the record is a
 * plain object whose members start with conn and start, as the tracker makes them (its
 * member names are checked once per shape); else member by member.
 */
function statementMembers(r: StatementRecord): string | null {
  const keys = Object.keys(r);
  if (!sameKeys(keys, statementShape)) {
    if (!(keys[0] === 'conn' && keys[1] === 'start' && Object.getPrototypeOf(r) === Object.prototype && keys.every((k, i) => i < 2 || !(STATEMENT_TAKEN.has(k) || k === 'toJSON' || isIndexLike(k))))) {
      return membersText(r, STATEMENT_SKIP, STATEMENT_TAKEN);
    }
    statementShape = keys;
  }
  const { conn, start } = r;
  if (!(Number.isFinite(conn) && Number.isFinite(start))) return membersText(r, STATEMENT_SKIP, STATEMENT_TAKEN);
  const all = JSON.stringify(r);
  return all.slice(STATEMENT_PREFIX + ('' + conn).length + ('' + start).length, -1);
}

/** `{"conn":` and `,"start":`, before the record's own members in its JSON. */
const STATEMENT_PREFIX = '{"conn":,"start":'.length;
/** The member names (in order) of the last statement record written with one JSON.stringify. */
let statementShape: string[] = [];

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isIndexLike(k: string): boolean {
  const c = k.charCodeAt(0);
  return c >= 48 && c <= 57;
}

const NONE: ReadonlySet<string> = new Set();
const STATEMENT_SKIP: ReadonlySet<string> = new Set(['conn', 'start']);
const STATEMENT_TAKEN: ReadonlySet<string> = new Set([...HEAD_MEMBERS, 'start', 'startTs']);
const CONNECTION_SKIP: ReadonlySet<string> = new Set(['kind', 'conn', 'time']);

function statementObject(ev: Extract<ProxyEvent, { kind: 'statement' }>): Record<string, unknown> {
  const r = ev.record;
  const startUs = epochMicros(r.start);
  const { conn: _c, start: _s, ...rest } = r;
  return { ...headObject('statement', ev.conn, ev.time), start: isoMicros(startUs), startTs: startUs, ...rest };
}

function connectionObject(ev: Extract<ProxyEvent, { kind: 'connection' }>): Record<string, unknown> {
  const { kind: _k, conn: _c, time: _t, ...fact } = ev;
  return { ...headObject('connection', ev.conn, ev.time), ...fact };
}
