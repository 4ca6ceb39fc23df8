import { F, T, U, evaluate, messageFacts, normalizedName, parseExpression, FilterError, type Facts, type FilterNode, type Sender } from '../filter/index.js';
import type { JsonlMessage } from '../output/jsonl/objects.js';
import type { MessagePage, MessageQuery, MessageRow } from './types.js';

/** One kept message: its row, and its JSON-lines object (or that object's line, parsed when asked for). */
interface Entry {
  row: MessageRow;
  detail: JsonlMessage | string | (() => JsonlMessage) | null;
  problem: string | null;
  /** The SQL a client request runs (for `sql` terms), or null. */
  sql: string | null;
  /** Bytes it is counted as (its line's length, or an estimate). */
  weight: number;
}

/** A filtered list of ids, extended as messages arrive. */
interface Selection {
  ids: number[];
  /** The highest id looked at. */
  scanned: number;
  /** `evictions` when `ids` was last cleaned of forgotten messages. */
  cleanAt: number;
  test: (e: Entry) => boolean;
}

const MAX_SELECTIONS = 6;
const NO_SUB: readonly string[] = [];

/** A FIFO of ids: push at the end, take from the front, without shifting arrays. */
class IdQueue {
  private items: number[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(id: number): void {
    this.items.push(id);
  }

  first(): number | undefined {
    return this.items[this.head];
  }

  shift(): number | undefined {
    const id = this.items[this.head];
    if (id === undefined) return undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return id;
  }

  /** Ids from the front, in order. */
  *values(): Generator<number> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }
}

function senderOf(from: MessageRow['from']): Sender {
  return from === 'script' ? 'pgscope' : from;
}

/**
 * The messages the inspector keeps: a ring per connection (`perConnection` each) within a
 * ring of `total`, the oldest forgotten first and counted. Queries filter with the --filter
 * language and a plain-text search; a query's result is kept and extended as messages
 * arrive, so scrolling a long list asks for pages of ids already found.
 */
export class MessageStore {
  private readonly entries = new Map<number, Entry>();
  /** Every id kept, oldest first (ids forgotten from the middle stay until met at the front). */
  private readonly order = new IdQueue();
  private readonly perConn = new Map<number | null, IdQueue>();
  private readonly selections = new Map<string, Selection>();
  private readonly facts: Facts = { conn: null, sender: null, name: null, sub: NO_SUB, named: false, query: U, error: U, sql: null };
  private nextId = 1;
  /** Messages forgotten, all told and per connection. */
  dropped = 0;
  private evictions = 0;
  readonly droppedPerConn = new Map<number | null, number>();

  private bytes = 0;

  constructor(
    private readonly perConnection: number,
    private readonly total: number,
    private readonly maxBytes: number,
  ) {}

  get kept(): number {
    return this.entries.size;
  }

  get seen(): number {
    return this.nextId - 1;
  }

  /** Keep a message; returns its id. */
  add(row: Omit<MessageRow, 'id' | 'kind'>, kind: MessageRow['kind'], detail: Entry['detail'], problem: string | null, sql: string | null, weight: number): number {
    const id = this.nextId++;
    this.entries.set(id, { row: { id, ...row, kind }, detail, problem, sql, weight });
    this.bytes += weight;
    this.order.push(id);
    let q = this.perConn.get(row.conn);
    if (!q) this.perConn.set(row.conn, (q = new IdQueue()));
    q.push(id);
    if (row.conn !== null && q.length > this.perConnection) this.forget(q.shift()!);
    while (this.entries.size > this.total || (this.bytes > this.maxBytes && this.entries.size > 1)) {
      const oldest = this.order.shift();
      if (oldest === undefined) break;
      const e = this.entries.get(oldest);
      if (!e) continue;
      // The oldest message overall is also the oldest of its connection.
      this.perConn.get(e.row.conn)?.shift();
      this.forget(oldest);
    }
    return id;
  }

  private forget(id: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.weight;
    this.dropped++;
    this.evictions++;
    this.droppedPerConn.set(e.row.conn, (this.droppedPerConn.get(e.row.conn) ?? 0) + 1);
    if (this.perConn.get(e.row.conn)?.length === 0) this.perConn.delete(e.row.conn);
  }

  entry(id: number): Entry | undefined {
    return this.entries.get(id);
  }

  /** A page of the messages matching `q`, or the filter's error. */
  query(q: MessageQuery): MessagePage {
    const filter = (q.filter ?? '').trim();
    const search = (q.search ?? '').trim().toLowerCase();
    const key = `${filter}\u0000${search}\u0000${q.conn ?? ''}`;
    let sel = this.selections.get(key);
    if (!sel) {
      let node: FilterNode | null = null;
      if (filter !== '') {
        try {
          node = parseExpression(filter);
        } catch (e) {
          if (e instanceof FilterError) return { total: 0, offset: 0, rows: [], error: e.message };
          throw e;
        }
      }
      sel = { ids: [], scanned: 0, cleanAt: this.evictions, test: this.tester(node, search, q.conn) };
      this.selections.set(key, sel);
      if (this.selections.size > MAX_SELECTIONS) this.selections.delete(this.selections.keys().next().value!);
    } else {
      // Most recently used last.
      this.selections.delete(key);
      this.selections.set(key, sel);
    }
    this.extend(sel, q.conn);
    const offset = Math.max(0, Math.min(q.offset, sel.ids.length));
    const limit = Math.max(0, Math.min(q.limit, 5000));
    const rows: MessageRow[] = [];
    for (let i = offset; i < sel.ids.length && rows.length < limit; i++) {
      const e = this.entries.get(sel.ids[i]!);
      if (e) rows.push(e.row);
    }
    return { total: sel.ids.length, offset, rows };
  }

  private extend(sel: Selection, conn: number | undefined): void {
    if (sel.cleanAt !== this.evictions) {
      sel.ids = sel.ids.filter((id) => this.entries.has(id));
      sel.cleanAt = this.evictions;
    }
    const source = conn === undefined ? this.order : this.perConn.get(conn);
    if (!source) return;
    // Ids are in ascending order in both queues: skip what was looked at.
    for (const id of source.values()) {
      if (id <= sel.scanned) continue;
      const e = this.entries.get(id);
      if (e && sel.test(e)) sel.ids.push(id);
      sel.scanned = id;
    }
  }

  private tester(node: FilterNode | null, search: string, conn: number | undefined): (e: Entry) => boolean {
    const f = this.facts;
    return (e) => {
      const r = e.row;
      if (conn !== undefined && r.conn !== conn) return false;
      if (search !== '' && !r.msg.toLowerCase().includes(search) && !r.summary.toLowerCase().includes(search)) return false;
      if (!node) return true;
      if (r.kind === 'message') messageFacts({ name: r.msg, sub: r.sub, frame: { direction: r.dir } }, senderOf(r.from), r.conn, e.sql, f);
      else {
        // Bytes not decoded are errors without a message name; pgscope's own actions are
        // lines about messages, not messages: names never match them.
        f.conn = r.conn;
        f.sender = senderOf(r.from);
        f.name = r.kind === 'codec-error' ? normalizedName(r.msg) : null;
        f.sub = NO_SUB;
        f.named = r.kind !== 'action';
        f.query = F;
        f.error = r.kind === 'action' ? F : T;
        f.sql = null;
      }
      return evaluate(node, f) === T;
    };
  }
}
