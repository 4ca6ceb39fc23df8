import type { JsonlMessage, JsonlObject } from '../output/jsonl/objects.js';
import { summaryLine } from '../protocol/summary-line.js';
import { ConnectionTable } from './connection-table.js';
import { readyIdle, startupParameters } from './jsonl-fields.js';
import { MessageStore } from './message-store.js';
import { RequestSql } from './request-sql.js';
import { StatementStore } from './statement-store.js';
import type { FingerprintGroup, LiveMessage, MessageDetail, MessagePage, MessageQuery, Overview, Series, StatementPage, StatementQuery } from './types.js';

/** What the inspector keeps, unless told otherwise (`--ui-keep`). */
export const DEFAULT_LIMITS: Overview['limits'] = {
  messagesPerConnection: 20_000,
  messages: 200_000,
  bytes: 256 * 1024 * 1024,
  statements: 100_000,
  connections: 10_000,
};

export interface InspectorOptions {
  mode: Overview['mode'];
  title: string;
  redacted: boolean;
  limits?: Partial<Overview['limits']>;
  /** Fault rules are served next to it (live). */
  faults?: boolean;
}

const MAX_WARNINGS = 200;
/**
 * What a kept message costs beyond its JSON line or object: its row (a dozen fields, the
 * summary string, the sub-message names) and the ring's bookkeeping, counted against the
 * byte bound so that it bounds memory and not only text.
 */
const ROW_BYTES = 320;
/** Client requests remembered per connection to find a statement's first message by its start time. */
const MAX_REQUESTS = 256;

function isErrorMessage(o: JsonlMessage): boolean {
  return o.msg === 'ErrorResponse' || o.error !== undefined;
}

/**
 * The inspector's model: JSON-lines objects in, what the page asks for out. Pure (no I/O):
 * it runs in pgscope for `--ui` and `pgscope view`, and inside the page of a report. What
 * it keeps is bounded (limits; the oldest forgotten first and counted); statement groups
 * and per-second figures cover everything seen.
 */
export class Inspector {
  private readonly limits: Overview['limits'];
  private readonly messages: MessageStore;
  private readonly statements: StatementStore;
  private readonly connections: ConnectionTable;
  private readonly sql = new Map<number, RequestSql>();
  private readonly requests = new Map<number, Map<number, number>>();
  private readonly warnings: Overview['warnings'] = [];
  private errors = 0;
  private first: number | null = null;
  private last: number | null = null;
  /** Moves with every object taken in. */
  version = 0;

  constructor(private readonly opts: InspectorOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.messages = new MessageStore(this.limits.messagesPerConnection, this.limits.messages, this.limits.bytes);
    this.statements = new StatementStore(this.limits.statements);
    this.connections = new ConnectionTable(this.limits.connections);
  }

  /** Take one JSON-lines object; `line`, its text when at hand, is kept instead of the object (less memory). */
  ingest(o: JsonlObject, line?: string): void {
    this.version++;
    this.first ??= o.ts;
    if (this.last === null || o.ts > this.last) this.last = o.ts;
    switch (o.type) {
      case 'message':
        this.takeMessage(o, line);
        break;
      case 'statement': {
        const first = o.conn === null ? null : (this.requests.get(o.conn)?.get(o.startTs) ?? null);
        this.statements.add(o, first);
        if (o.conn !== null) this.connections.get(o.conn, o.ts).statements++;
        break;
      }
      case 'connection':
        this.connections.connection(o);
        if (o.phase === 'closed' && o.conn !== null) {
          this.sql.delete(o.conn);
          this.requests.delete(o.conn);
          this.statements.forgetConnection(o.conn);
        }
        break;
      case 'security':
        this.connections.security(o);
        break;
      case 'status':
        // A fault rule acting on a connection: a row of its own among the messages, where it happened.
        if (o.conn !== null && o.text.startsWith('fault rule ')) {
          this.messages.add(
            { conn: o.conn, ts: o.ts, from: 'script', to: 'client', dir: 'backend', msg: 'fault', sub: [], size: 0, summary: o.text, error: false },
            'action',
            null,
            o.text,
            null,
            o.text.length + 200,
          );
        }
        if (o.level === 'warn' || o.level === 'error') {
          this.warnings.push({ ts: o.ts, level: o.level, text: o.text });
          if (this.warnings.length > MAX_WARNINGS) this.warnings.shift();
        }
        break;
      case 'codec-error':
      case 'unparsed': {
        const summary = o.type === 'codec-error' ? o.error.message : `${o.length} bytes not decoded: ${o.reason}`;
        const row = { conn: o.conn, ts: o.ts, from: o.from, to: o.to, dir: o.dir, msg: o.type === 'codec-error' ? o.error.code : 'unparsed', sub: [], size: o.type === 'unparsed' ? o.length : 0, summary, error: true };
        this.messages.add(row, o.type, null, summary, null, summary.length + 200);
        this.errors++;
        if (o.conn !== null) this.connections.error(o.conn, o.ts, summary);
        break;
      }
      case 'dropped':
        this.warnings.push({ ts: o.ts, level: 'warn', text: o.text });
        if (this.warnings.length > MAX_WARNINGS) this.warnings.shift();
        break;
    }
  }

  private takeMessage(o: JsonlMessage, line: string | undefined): void {
    let sqlOf = o.conn === null ? undefined : this.sql.get(o.conn);
    if (!sqlOf && o.conn !== null) this.sql.set(o.conn, (sqlOf = new RequestSql()));
    this.addMessage(
      { conn: o.conn, ts: o.ts, from: o.from, to: o.to, dir: o.dir, msg: o.msg, sub: o.sub, size: o.size, summary: summaryLine(o.msg, o.sub, o.fields), error: isErrorMessage(o) },
      line ?? o,
      sqlOf?.see(o) ?? null,
      o.msg === 'StartupMessage' && o.from === 'client' ? startupParameters(o.fields) : null,
      o.msg === 'ReadyForQuery' && readyIdle(o.fields),
      line?.length ?? o.size * 2 + 300,
    );
  }

  /**
   * A message from a live proxy: its row and facts read from the decoded message, its
   * JSON-lines object made when the page asks (see LiveMessage). Cheaper than a line.
   */
  ingestMessage(m: LiveMessage): void {
    this.version++;
    const ts = m.row.ts;
    this.first ??= ts;
    if (this.last === null || ts > this.last) this.last = ts;
    this.addMessage(m.row, m.detail, m.sql, m.startup ? new Map(Object.entries(m.startup)) : null, m.idle, m.weight);
  }

  private addMessage(row: LiveMessage['row'], detail: Parameters<MessageStore['add']>[2], sql: string | null, startup: ReadonlyMap<string, string> | null, idle: boolean, weight: number): void {
    const id = this.messages.add(row, 'message', detail, null, sql, weight + ROW_BYTES + row.summary.length);
    if (row.error) this.errors++;
    const conn = row.conn;
    if (conn === null) return;
    this.connections.message(conn, row, startup);
    if (idle) this.statements.idle(conn, row.ts);
    if (sql !== null) {
      let reqs = this.requests.get(conn);
      if (!reqs) this.requests.set(conn, (reqs = new Map()));
      if (!reqs.has(row.ts)) reqs.set(row.ts, id);
      if (reqs.size > MAX_REQUESTS) reqs.delete(reqs.keys().next().value!);
    }
  }

  overview(): Overview {
    const connections = this.connections.all();
    for (const c of connections) c.droppedMessages = this.messages.droppedPerConn.get(c.conn) ?? 0;
    return {
      mode: this.opts.mode,
      title: this.opts.title,
      redacted: this.opts.redacted,
      version: this.version,
      counts: {
        messages: this.messages.seen,
        kept: this.messages.kept,
        dropped: this.messages.dropped,
        statements: this.statements.seen,
        statementsKept: this.statements.kept,
        connections: connections.length + this.connections.forgotten,
        errors: this.errors,
      },
      limits: this.limits,
      first: this.first,
      last: this.last,
      connections,
      faults: this.opts.faults ?? false,
      warnings: this.warnings,
    };
  }

  queryMessages(q: MessageQuery): MessagePage {
    return this.messages.query(q);
  }

  message(id: number): MessageDetail | null {
    const e = this.messages.entry(id);
    if (!e) return null;
    const d = e.detail;
    const message = typeof d === 'string' ? (JSON.parse(d) as JsonlMessage) : typeof d === 'function' ? d() : d;
    return { row: e.row, message, problem: e.problem };
  }

  queryStatements(q: StatementQuery): StatementPage {
    return this.statements.query(q);
  }

  fingerprints(conn?: number): FingerprintGroup[] {
    return this.statements.fingerprints(conn);
  }

  series(conn?: number): Series {
    return this.statements.series(conn);
  }
}
