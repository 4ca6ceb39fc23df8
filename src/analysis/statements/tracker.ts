import type { StatementRecord } from '../records.js';
import type { DecodedMessage, Span } from '../../protocol/types.js';
import { decodeValue } from '../../protocol/values/index.js';
import { affectedRows } from './command-tag.js';
import { paramOid, portalColumns, type BoundParam, type Column, type Portal, type PreparedStatement, type ResultShape } from './prepared.js';
import { carriesPassword, connInfoCarriesPassword, REDACTED } from './redact.js';
import { splitStatements } from './sql-split.js';
import { formatAt, PARAM_KEEP_BYTES, paramText, spanBytes, typeLeaf, valueLeaf, type DecodeValue } from './typed-values.js';

export interface TrackerOptions {
  /** Connection number put in records. */
  conn: number;
  /** Reads a value as its type (default: src/protocol/values' decodeValue). */
  decode?: DecodeValue;
  /** Most completed records held while waiting for ReadyForQuery; beyond, they go out with untilReady null. */
  maxHeld?: number;
  /** Most named prepared statements remembered; the oldest are forgotten beyond. */
  maxStatements?: number;
  /**
   * Type Bind parameters and DataRow columns in place (default true). Off when no output
   * shows typed values: the tracker then only follows statements.
   */
  typed?: boolean;
  /**
   * --redact-passwords (default false): also mark secret a Bind parameter whose value carries
   * a password as connection strings do (SELECT dblink_connect($1) with 'host=… password=…'),
   * and show such parameters as <redacted> in records.
   */
  redact?: boolean;
  /**
   * Fill in the parts of records only a record shows (default true): the parameters (kept
   * and decoded once more) and the row count from the tag. Off when nobody reads the
   * records (the annotated log alone): they still come out, with no parameters and
   * `affected` null, and everything the tracker decides (typing, secrets, which statement
   * is which) is the same.
   */
  records?: boolean;
}

/** Pieces of a Query that splitStatements need not look at: at most one statement. */
const ONE_PIECE: string[] = [];

/**
 * Whether a Query text can hold more than one statement: it has a semicolon followed by
 * anything but whitespace. Only then is it worth splitting (the tracker only uses the
 * pieces when there are two or more).
 */
function mayHoldSeveral(sql: string): boolean {
  const first = sql.indexOf(';');
  if (first === -1) return false;
  for (let i = first + 1; i < sql.length; i++) {
    const c = sql.charCodeAt(i);
    // The lexer's whitespace: space, \t, \n, \v, \f, \r.
    if (c !== 0x20 && (c < 0x09 || c > 0x0d)) return true;
  }
  return false;
}

/** A statement of a simple Query in progress. */
interface SimpleStatement {
  sql: string;
  start: number;
  columns: Column[] | null;
  rows: number;
}

/**
 * What the client asked for and the server has not answered yet, in order: the server
 * answers the messages of the extended query protocol one by one, and a Query as a whole.
 */
type Pending =
  | { kind: 'parse'; statement: PreparedStatement; time: number }
  | { kind: 'bind'; portal: Portal; time: number }
  | { kind: 'describe'; statement: PreparedStatement | null; portal: Portal | null; time: number }
  | { kind: 'execute'; portal: Portal; start: number; rows: number; columns: ResultShape | 'unset' }
  | { kind: 'close' }
  | { kind: 'function' }
  | { kind: 'sync'; time: number }
  | { kind: 'query'; sql: string; pieces: string[]; time: number; done: number; lastEnd: number; open: SimpleStatement | null };

type Kind = Pending['kind'];

/** Sync, Query and FunctionCall each end with a ReadyForQuery. */
const BOUNDARY: ReadonlySet<Kind> = new Set(['sync', 'query', 'function']);

/**
 * Follows one connection's conversation and reports each statement when it completes
 * (StatementRecord), matching the server's responses to the client's requests in order.
 * Pure and sans-I/O: fed every decoded message of the client's conversation, frontend and
 * backend interleaved as they happened, with the time each was seen.
 *
 * What counts as a statement:
 * - Simple query: each statement of a Query ("the query string … can contain multiple SQL
 *   statements"): each CommandComplete, EmptyQueryResponse or ErrorResponse ends one (a
 *   COPY inside it ends at its CommandComplete). The first starts with the Query, each
 *   next one when the one before it completed (the server runs them in turn).
 * - Extended query: each Execute, ended by CommandComplete, EmptyQueryResponse,
 *   PortalSuspended or ErrorResponse. It starts with the request that leads to it: the
 *   first Parse/Bind/Describe sent since the previous Execute, Sync or Flush (the pg
 *   driver's Parse/Bind/Describe/Execute burst, pgbench -M prepared's Bind/Execute), or
 *   the Execute itself.
 * - A Parse, Bind or Describe that fails with no Execute of its own queued before the Sync
 *   is reported as a failed statement on its own (a statement that did not prepare).
 * - After an ErrorResponse "the backend will … discard messages until a Sync is reached":
 *   the Executes it skipped never ran and are not reported.
 * - FunctionCall is not a statement and is not reported.
 *
 * Records are held until the ReadyForQuery that ends their cycle (it gives `untilReady`),
 * then returned in completion order. `end()` (the connection closed) returns the held ones
 * with untilReady null; requests never answered are not reported as statements, since
 * their outcome is unknown (see `unanswered()`).
 *
 * Enrichment: Bind parameter values and DataRow columns get `typed` and a `meaning` on
 * their 'value' leaf span, in place, before any output renders the message: parameter
 * types from Parse, else ParameterDescription; column types from the RowDescription of
 * the Query, of Describe 'P', or of Describe 'S' with the Bind's result format codes.
 * Parameters of a statement that carries a password (ALTER ROLE … PASSWORD) are marked
 * `secret` instead, so redacting outputs hide them; with `redact`, so is a parameter whose
 * value carries a connection-string password. Without `typed`, nothing is typed.
 */
export class StatementTracker {
  private readonly conn: number;
  private readonly decode: DecodeValue;
  private readonly maxHeld: number;
  private readonly maxStatements: number;
  private readonly typed: boolean;
  private readonly redact: boolean;
  private readonly records: boolean;
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();
  private queue: Pending[] = [];
  /** Completed in the current cycle, waiting for ReadyForQuery. */
  private held: StatementRecord[] = [];
  /** When the current run of Parse/Bind/Describe began (see the class comment). */
  private requestStart: number | null = null;
  /** AuthenticationOk was seen: the next ReadyForQuery ends the startup, not a request. */
  private startupReady = false;

  constructor(opts: TrackerOptions) {
    this.conn = opts.conn;
    this.decode = opts.decode ?? decodeValue;
    this.maxHeld = opts.maxHeld ?? 10_000;
    this.maxStatements = opts.maxStatements ?? 10_000;
    this.typed = opts.typed ?? true;
    this.redact = opts.redact ?? false;
    this.records = opts.records ?? true;
  }

  /** Feed one message; returns the records completed by it (usually at a ReadyForQuery). */
  observe(msg: DecodedMessage, time: number): StatementRecord[] {
    if (msg.frame.kind !== 'message') return [];
    if (msg.frame.direction === 'frontend') {
      this.frontend(msg, time);
      return [];
    }
    return this.backend(msg, time);
  }

  /** The connection ended: the records still waiting for ReadyForQuery, with untilReady null. */
  end(time: number): StatementRecord[] {
    void time;
    const out = this.held;
    this.held = [];
    this.queue = [];
    return out;
  }

  /** SQL of the requests still unanswered (a statement running when the connection closed). */
  unanswered(): string[] {
    const out: string[] = [];
    for (const p of this.queue) {
      if (p.kind === 'execute') out.push(p.portal.statement.sql);
      // A Query counts once nothing of it completed yet, or while one of its statements runs.
      else if (p.kind === 'query' && (p.done === 0 || p.open !== null)) out.push(p.open?.sql ?? p.sql);
    }
    return out;
  }

  // ---- client messages -------------------------------------------------------------

  private frontend(msg: DecodedMessage, time: number): void {
    const spans = msg.spans;
    switch (msg.name) {
      case 'Query': {
        const sql = str(spans, 'query');
        // "the unnamed prepared statement and portal … are destroyed" by a simple Query.
        this.statements.delete('');
        this.portals.delete('');
        const pieces = mayHoldSeveral(sql) ? splitStatements(sql) : ONE_PIECE;
        this.queue.push({ kind: 'query', sql, pieces, time, done: 0, lastEnd: time, open: null });
        this.requestStart = null;
        return;
      }
      case 'Parse': {
        const name = str(spans, 'destination prepared statement');
        const oids = spans.find((s) => s.name === 'parameter types')?.value;
        const statement: PreparedStatement = {
          name,
          sql: str(spans, 'query string'),
          parseOids: Array.isArray(oids) ? oids.filter((o): o is number => typeof o === 'number') : [],
          result: undefined,
        };
        this.remember(statement);
        this.requestStart ??= time;
        this.queue.push({ kind: 'parse', statement, time });
        return;
      }
      case 'Bind': {
        const portal = this.bind(msg);
        this.portals.set(portal.name, portal);
        this.requestStart ??= time;
        this.queue.push({ kind: 'bind', portal, time });
        return;
      }
      case 'Describe': {
        const name = str(spans, 'name');
        const target = str(spans, 'target');
        const statement = target === 'S' ? this.statement(name) : null;
        const portal = target === 'P' ? this.portal(name) : null;
        this.requestStart ??= time;
        this.queue.push({ kind: 'describe', statement, portal, time });
        return;
      }
      case 'Execute': {
        const portal = this.portal(str(spans, 'portal'));
        this.queue.push({ kind: 'execute', portal, start: this.requestStart ?? time, rows: 0, columns: 'unset' });
        this.requestStart = null;
        return;
      }
      case 'Close': {
        const name = str(spans, 'name');
        if (str(spans, 'target') === 'S') {
          const s = this.statements.get(name);
          this.statements.delete(name);
          // "Closing a prepared statement implicitly closes any open portals that were constructed from that statement."
          if (s) for (const [k, p] of this.portals) if (p.statement === s) this.portals.delete(k);
        } else this.portals.delete(name);
        this.queue.push({ kind: 'close' });
        return;
      }
      case 'Sync':
        this.queue.push({ kind: 'sync', time });
        this.requestStart = null;
        return;
      case 'Flush':
        this.requestStart = null;
        return;
      case 'FunctionCall':
        this.queue.push({ kind: 'function' });
        return;
    }
  }

  /** Bind: the portal, its parameters typed from the statement, kept for the record. */
  private bind(msg: DecodedMessage): Portal {
    const spans = msg.spans;
    const statement = this.statement(str(spans, 'source prepared statement'));
    const formats = numbers(spans.find((s) => s.name === 'parameter format codes')?.value);
    statement.carriesPassword ??= carriesPassword(statement.sql);
    const secret = statement.carriesPassword;
    const params: BoundParam[] = [];
    let i = 0;
    for (const group of spans) {
      if (group.name !== 'parameter') continue;
      const format = formatAt(formats, i);
      const leaf = valueLeaf(group);
      if (!leaf) {
        if (this.records) params.push({ format, bytes: null, complete: true });
      } else {
        const bytes = spanBytes(msg, leaf);
        const retained = bytes ?? msg.frame.bytes.subarray(leaf.start, Math.min(leaf.end, msg.frame.bytes.length));
        // The password-bearing pattern is ASCII: latin1 reads every byte as one character.
        const carries = this.redact && connInfoCarriesPassword(retained.toString('latin1'));
        if (secret || carries) leaf.secret = true;
        else if (this.typed) typeLeaf(msg, leaf, paramOid(statement, i), format, this.decode);
        if (this.records) {
          const kept = Buffer.from(retained.subarray(0, PARAM_KEEP_BYTES));
          params.push({ format, bytes: kept, complete: bytes !== null && bytes.length <= PARAM_KEEP_BYTES, ...(carries ? { secret: true } : {}) });
        }
      }
      i++;
    }
    const resultFormats = numbers(spans.find((s) => s.name === 'result format codes')?.value);
    return { name: str(spans, 'destination portal'), statement, params, resultFormats, result: undefined };
  }

  private remember(s: PreparedStatement): void {
    this.statements.delete(s.name);
    this.statements.set(s.name, s);
    if (this.statements.size > this.maxStatements) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
    }
  }

  /** A statement by name; one the tracker never saw prepared (joined late, or forgotten) is a placeholder without SQL. */
  private statement(name: string): PreparedStatement {
    return this.statements.get(name) ?? { name, sql: '', parseOids: [], result: undefined };
  }

  private portal(name: string): Portal {
    return this.portals.get(name) ?? { name, statement: this.statement(''), params: [], resultFormats: [], result: undefined };
  }

  // ---- server messages -------------------------------------------------------------

  private backend(msg: DecodedMessage, time: number): StatementRecord[] {
    switch (msg.name) {
      case 'ParseComplete':
        this.answer('parse', true);
        return [];
      case 'BindComplete':
        this.answer('bind', true);
        return [];
      case 'CloseComplete':
        this.answer('close', true);
        return [];
      case 'ParameterDescription': {
        const d = this.answer('describe', false);
        if (d?.kind === 'describe' && d.statement) d.statement.describedOids = msg.spans.filter((s) => s.name === 'parameter type OID').map((s) => Number(s.value));
        return [];
      }
      case 'RowDescription': {
        const columns = readColumns(msg.spans);
        const q = this.head();
        if (q?.kind === 'query') {
          this.openSimple(q).columns = columns;
          return [];
        }
        const d = this.answer('describe', true);
        if (d?.kind === 'describe') {
          if (d.portal) d.portal.result = columns;
          if (d.statement) d.statement.result = columns;
        }
        return [];
      }
      case 'NoData': {
        const d = this.answer('describe', true);
        if (d?.kind === 'describe') {
          if (d.portal) d.portal.result = null;
          if (d.statement) d.statement.result = null;
        }
        return [];
      }
      case 'DataRow':
        this.dataRow(msg, time);
        return [];
      case 'CopyInResponse':
      case 'CopyOutResponse':
      case 'CopyBothResponse': {
        const q = this.head();
        if (q?.kind === 'query') this.openSimple(q);
        else this.answer('execute', false);
        return [];
      }
      case 'CommandComplete':
      case 'EmptyQueryResponse':
      case 'PortalSuspended':
        return this.completed(msg.name === 'CommandComplete' ? str(msg.spans, 'command tag') : null, time);
      case 'ErrorResponse':
        return this.failed(errorFields(msg.spans), time);
      case 'AuthenticationOk':
        this.startupReady = true;
        return [];
      case 'ReadyForQuery':
        if (this.startupReady) {
          // "ReadyForQuery … indicates that the backend is ready for its first query": it answers no request.
          this.startupReady = false;
          return [];
        }
        return this.ready(str(msg.spans, 'status'), time);
    }
    return [];
  }

  private head(): Pending | undefined {
    return this.queue[0];
  }

  /**
   * The pending request a response of this kind answers: the head of the queue. Requests
   * before it that got no answer (the tracker lost step) are dropped, but never past a
   * Sync or Query, whose ReadyForQuery keeps cycles apart. `pop`: the response is the last
   * one this request gets.
   */
  private answer(kind: Kind, pop: boolean): Pending | undefined {
    while (this.queue.length > 0 && this.queue[0]!.kind !== kind && !BOUNDARY.has(this.queue[0]!.kind)) this.queue.shift();
    const h = this.queue[0];
    if (!h || h.kind !== kind) return undefined;
    if (pop) this.queue.shift();
    return h;
  }

  private openSimple(q: Extract<Pending, { kind: 'query' }>): SimpleStatement {
    if (!q.open) {
      const sql = q.pieces.length > 1 && q.done < q.pieces.length ? q.pieces[q.done]! : q.sql;
      q.open = { sql, start: q.done === 0 ? q.time : q.lastEnd, columns: null, rows: 0 };
    }
    return q.open;
  }

  private dataRow(msg: DecodedMessage, time: number): void {
    const h = this.head();
    let columns: ResultShape;
    if (h?.kind === 'query') {
      const s = this.openSimple(h);
      s.rows++;
      columns = s.columns;
    } else {
      const e = this.answer('execute', false);
      if (e?.kind !== 'execute') return;
      e.rows++;
      if (e.columns === 'unset') e.columns = portalColumns(e.portal);
      columns = e.columns;
    }
    if (!columns || !this.typed) return;
    let i = 0;
    for (const group of msg.spans) {
      if (group.name !== 'column') continue;
      const c = columns[i++];
      const leaf = valueLeaf(group);
      if (c && leaf) typeLeaf(msg, leaf, c.oid, c.format, this.decode);
    }
  }

  /** CommandComplete (with its tag), EmptyQueryResponse or PortalSuspended (tag null). */
  private completed(tag: string | null, time: number): StatementRecord[] {
    const h = this.head();
    if (h?.kind === 'query') {
      const s = this.openSimple(h);
      this.hold(this.simpleRecord(s, time, tag, null));
      h.open = null;
      h.done++;
      h.lastEnd = time;
      return this.overflow();
    }
    const e = this.answer('execute', true);
    if (e?.kind !== 'execute') return [];
    this.hold(this.executeRecord(e, time, tag, null));
    return this.overflow();
  }

  /** ErrorResponse: which statement failed (see the class comment), then skip to the Sync. */
  private failed(error: NonNullable<StatementRecord['error']>, time: number): StatementRecord[] {
    const h = this.head();
    if (!h || h.kind === 'function') return [];
    if (h.kind === 'query') {
      const s = this.openSimple(h);
      this.hold(this.simpleRecord(s, time, null, error));
      h.open = null;
      h.done++;
      h.lastEnd = time;
      return this.overflow();
    }
    if (h.kind === 'sync') {
      // Raised while the Sync ended the implicit transaction (a deferred constraint at
      // commit): it belongs to the statement that completed last in this cycle.
      const last = this.held[this.held.length - 1];
      if (last && !last.error) last.error = error;
      return [];
    }
    // "When an error is detected while processing any extended-query message, the backend
    // issues ErrorResponse, then reads and discards messages until a Sync is reached."
    const skipped: Pending[] = [];
    while (this.queue.length > 0 && !BOUNDARY.has(this.queue[0]!.kind)) skipped.push(this.queue.shift()!);
    const failing = skipped[0]!;
    const own = skipped.find(
      (p): p is Extract<Pending, { kind: 'execute' }> =>
        p.kind === 'execute' &&
        (failing.kind === 'execute' ||
          (failing.kind === 'parse' && p.portal.statement === failing.statement) ||
          (failing.kind === 'bind' && p.portal === failing.portal) ||
          (failing.kind === 'describe' && (p.portal === failing.portal || p.portal.statement === failing.statement))),
    );
    if (own) this.hold(this.executeRecord(own, time, null, error));
    else if (failing.kind === 'parse') this.hold(this.extendedRecord(failing.statement, null, failing.time, time, null, null, error));
    else if (failing.kind === 'bind') this.hold(this.extendedRecord(failing.portal.statement, failing.portal, failing.time, time, null, null, error));
    else if (failing.kind === 'describe') {
      const statement = failing.portal?.statement ?? failing.statement;
      if (statement) this.hold(this.extendedRecord(statement, failing.portal, failing.time, time, null, null, error));
    }
    return this.overflow();
  }

  /** ReadyForQuery: the cycle is over; its records go out. */
  private ready(status: string, time: number): StatementRecord[] {
    const i = this.queue.findIndex((p) => BOUNDARY.has(p.kind));
    // Requests before the boundary were skipped after an error (or never answered).
    this.queue = i === -1 ? [] : this.queue.slice(i + 1);
    // "If successfully created, a named portal object lasts till the end of the current
    // transaction": idle means no transaction, so no portal survives.
    if (status === 'I') this.portals.clear();
    const out = this.held;
    this.held = [];
    for (const r of out) {
      r.untilReady = time - r.start;
      this.forgetDeallocated(r);
    }
    return out;
  }

  /** DEALLOCATE name / DEALLOCATE ALL / DISCARD ALL drop prepared statements as Close 'S' does. */
  private forgetDeallocated(r: StatementRecord): void {
    if (r.tag === 'DEALLOCATE ALL' || r.tag === 'DISCARD ALL') this.statements.clear();
    else if (r.tag === 'DEALLOCATE') {
      const m = /^\s*DEALLOCATE\s+(?:PREPARE\s+)?("(?:[^"]|"")+"|[^\s;]+)/i.exec(r.sql);
      if (m) this.statements.delete(m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!.toLowerCase());
    }
  }

  private hold(r: StatementRecord): void {
    this.held.push(r);
  }

  /** Too many records without a ReadyForQuery (a long pipeline): let the oldest go out now, untilReady null. */
  private overflow(): StatementRecord[] {
    if (this.held.length <= this.maxHeld) return [];
    return this.held.splice(0, this.held.length - this.maxHeld);
  }

  private simpleRecord(s: SimpleStatement, time: number, tag: string | null, error: StatementRecord['error']): StatementRecord {
    return {
      conn: this.conn,
      start: s.start,
      duration: time - s.start,
      untilReady: null,
      protocol: 'simple',
      sql: s.sql,
      statement: null,
      portal: null,
      params: [],
      rows: s.columns || s.rows > 0 ? s.rows : null,
      tag,
      affected: tag === null || !this.records ? null : affectedRows(tag),
      error,
    };
  }

  private executeRecord(e: Extract<Pending, { kind: 'execute' }>, time: number, tag: string | null, error: StatementRecord['error']): StatementRecord {
    const columns = e.columns === 'unset' ? portalColumns(e.portal) : e.columns;
    const rows = columns || e.rows > 0 ? e.rows : null;
    return this.extendedRecord(e.portal.statement, e.portal, e.start, time, tag, rows, error);
  }

  private extendedRecord(
    s: PreparedStatement,
    p: Portal | null,
    start: number,
    time: number,
    tag: string | null,
    rows: number | null,
    error: StatementRecord['error'],
  ): StatementRecord {
    return {
      conn: this.conn,
      start,
      duration: time - start,
      untilReady: null,
      protocol: 'extended',
      sql: s.sql,
      statement: s.name,
      portal: p ? p.name : null,
      params: p && this.records ? p.params.map((b, i) => this.paramRecord(s, b, i)) : [],
      rows,
      tag,
      affected: tag === null || !this.records ? null : affectedRows(tag),
      error,
    };
  }

  private paramRecord(s: PreparedStatement, b: BoundParam, i: number): StatementRecord['params'][number] {
    const format = b.format === 1 ? 'binary' : 'text';
    if (b.bytes === null) return { type: null, format, value: null };
    if (b.secret) return { type: null, format, value: REDACTED };
    const oid = paramOid(s, i);
    const { type, value } = paramText(oid, b.format, b.bytes, b.complete, this.decode);
    return { type, format, value };
  }
}

function str(spans: Span[], name: string): string {
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.name === name) return typeof s.value === 'string' ? s.value : '';
  }
  return '';
}

function numbers(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
}

/** RowDescription fields: name, "the object ID of the field's data type", "the format code being used for the field". */
function readColumns(spans: Span[]): Column[] {
  // Plain loops: one RowDescription per statement (per execution, for Describe-first clients such as pgbench -M prepared).
  const columns: Column[] = [];
  for (const f of spans) {
    if (f.name !== 'field') continue;
    let name: unknown, oid: unknown, format: unknown;
    for (const c of f.children ?? []) {
      if (c.name === 'field name') name ??= c.value;
      else if (c.name === 'data type OID') oid ??= c.value;
      else if (c.name === 'format code') format ??= c.value;
    }
    columns.push({ name: String(name ?? ''), oid: Number(oid ?? 0), format: Number(format ?? 0) });
  }
  return columns;
}

/** "Error and Notice Message Fields": S (or V, never localized), C (SQLSTATE), M (message). */
function errorFields(spans: Span[]): NonNullable<StatementRecord['error']> {
  const f: Record<string, string> = {};
  for (const s of spans) {
    if (s.name !== 'field' || !s.children) continue;
    const code = s.children.find((c) => c.name === 'field type')?.value;
    const value = s.children.find((c) => c.name === 'value')?.value;
    if (typeof code === 'string' && typeof value === 'string') f[code] = value;
  }
  return { severity: f['V'] ?? f['S'] ?? 'ERROR', code: f['C'] ?? '', message: f['M'] ?? '' };
}
