import type { StatementRecord } from '../records.js';
import { bindAsRead } from '../../protocol/frontend/bind.js';
import { errorFields } from '../../protocol/inspect.js';
import { formatAt, paramOid, StatementContext, type ExecuteRequest, type Portal, type PreparedStatement, type QueryRequest, type Request, type StatementStep } from '../../protocol/statement-context.js';
import type { DecodedMessage } from '../../protocol/types.js';
import { decodeValue } from '../../protocol/values/index.js';
import { affectedRows } from './command-tag.js';
import { connInfoCarriesPassword, REDACTED } from './redact.js';
import { PARAM_KEEP_BYTES, paramText, spanBytes, type DecodeValue } from './typed-values.js';

export interface TrackerOptions {
  /** Connection number put in records. */
  conn: number;
  /** Reads a parameter as its type for records (default: src/protocol/values' decodeValue). */
  decode?: DecodeValue;
  /** Most completed records held while waiting for ReadyForQuery; beyond, they go out with untilReady null. */
  maxHeld?: number;
  /** Most named prepared statements remembered; the oldest are forgotten beyond (a context of the tracker's own; default 10,000). */
  maxStatements?: number;
  /**
   * --redact-passwords (default false): show a Bind parameter whose value carries a password
   * as connection strings do (SELECT dblink_connect($1) with 'host=… password=…') as
   * <redacted> in records.
   */
  redact?: boolean;
  /**
   * Fill in the parts of records only a record shows (default true): the parameters (kept
   * and decoded once more) and the row count from the tag. Off when nobody reads the
   * records (the annotated log alone): they still come out, with no parameters and
   * `affected` null, and which statement is which is the same.
   */
  records?: boolean;
}

/** One Bind parameter as kept for the record: at most PARAM_KEEP_BYTES of its bytes. */
interface BoundParam {
  format: number;
  /** null: SQL NULL (length -1). */
  bytes: Buffer | null;
  /** False when only a prefix was kept (or the frame itself was cut). */
  complete: boolean;
  /** The value carries a password (a connection string): redacted records show none of it. */
  secret?: boolean;
}

/** A statement of a simple Query in progress. */
interface SimpleStatement {
  sql: string;
  start: number;
  rows: number;
}

/**
 * What the tracker keeps about a request (the statement context's `note`): when it was
 * sent (Parse, Bind, Describe, Query; for an Execute, when its statement began), the rows
 * an Execute returned, and a Query's statement in progress.
 */
interface Note {
  time: number;
  rows: number;
  /** Query: when its last statement ended (the next one starts then). */
  lastEnd: number;
  /** Query: the statement running now, once the server said anything about it. */
  open: SimpleStatement | null;
}

type Context = StatementContext<Note, BoundParam[]>;
type Req = Request<Note, BoundParam[]>;
type Execute = ExecuteRequest<Note, BoundParam[]>;
type Failed = Extract<StatementStep<Note, BoundParam[]>, { kind: 'failed' }>;

/**
 * Follows one connection's conversation and reports each statement when it completes
 * (StatementRecord). Pure and sans-I/O: fed every decoded message of the client's
 * conversation, frontend and backend interleaved as they happened, with the time each was
 * seen. Which response answers which request, which statement a Bind or Execute names and
 * what the server forgets is the protocol's statement context's to say
 * (src/protocol/statement-context.ts): the tracker reads what each message did (a
 * StatementStep) from the context the conversation decoded it with (`follow`), or, fed
 * messages decoded without one, from a context of its own. It never writes to a message
 * (values are typed, and secrets marked, while decoding); it keeps its own facts about
 * requests and portals in their `note`.
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
 */
export class StatementTracker {
  private readonly conn: number;
  private readonly decode: DecodeValue;
  private readonly maxHeld: number;
  private readonly redact: boolean;
  private readonly records: boolean;
  private readonly ctx: Context;
  /** True: the context is the conversation's (steps are read with stepOf); false: the tracker's own. */
  private readonly following: boolean;
  /** Completed in the current cycle, waiting for ReadyForQuery. */
  private held: StatementRecord[] = [];
  /** When the current run of Parse/Bind/Describe began (see the class comment). */
  private requestStart: number | null = null;

  /**
   * `follow`: the statement context the messages are decoded with (`conv.statements`),
   * which keeps each message's step for the tracker from now on; without it (messages
   * decoded elsewhere), the tracker runs a context of its own.
   */
  constructor(opts: TrackerOptions, follow: StatementContext | null = null) {
    this.conn = opts.conn;
    this.decode = opts.decode ?? decodeValue;
    this.maxHeld = opts.maxHeld ?? 10_000;
    this.redact = opts.redact ?? false;
    this.records = opts.records ?? true;
    this.following = follow !== null;
    // The notes are the tracker's alone: the context holds them for it and never reads them.
    this.ctx = follow !== null ? (follow as unknown as Context) : new StatementContext({ maxStatements: opts.maxStatements });
    if (follow !== null) follow.follow();
  }

  /** Nothing held or begun: a fresh tracker behaves the same from here on. */
  get quiet(): boolean {
    return this.held.length === 0 && this.requestStart === null;
  }

  /** Feed one message; returns the records completed by it (usually at a ReadyForQuery). */
  /**
   * `seen`: the message the client received in place of `msg` (pgscope replaced a server
   * message: a fault rule's error); the step is `msg`'s, an error's fields are `seen`'s.
   */
  observe(msg: DecodedMessage, time: number, seen: DecodedMessage = msg): StatementRecord[] {
    const step = this.following ? this.ctx.stepOf(msg) : this.ctx.observe(msg);
    if (step === null) return [];
    switch (step.kind) {
      case 'request':
        this.request(step.request, msg, time);
        return [];
      case 'flush':
        this.requestStart = null;
        return [];
      case 'running': {
        const s = this.open(step.query, step.piece, time);
        if (step.row) s.rows++;
        return [];
      }
      case 'row':
        (step.execute.note ??= note(time)).rows++;
        return [];
      case 'statement-done': {
        const q = step.query;
        const s = this.open(q, step.piece, time);
        this.hold(this.simpleRecord(s, time, step.tag, step.failed ? errorOf(seen) : null, step.described));
        // open() gave the Query its note.
        q.note!.open = null;
        q.note!.lastEnd = time;
        return this.overflow();
      }
      case 'execute-done':
        this.hold(this.executeRecord(step.execute, time, step.tag, null, step.described, step.describedOids));
        return this.overflow();
      case 'sync-error': {
        // Raised while the Sync ended the implicit transaction (a deferred constraint at
        // commit): it belongs to the statement that completed last in this cycle.
        const last = this.held[this.held.length - 1];
        if (last && !last.error) last.error = errorOf(seen);
        return [];
      }
      case 'failed':
        return this.failed(step, errorOf(seen), time);
      case 'ready':
        return this.ready(time);
    }
  }

  /** The connection ended: the records still waiting for ReadyForQuery, with untilReady null. */
  end(time: number): StatementRecord[] {
    void time;
    const out = this.held;
    this.held = [];
    if (!this.following) this.ctx.end();
    return out;
  }

  /** SQL of the requests still unanswered (a statement running when the connection closed). */
  unanswered(): string[] {
    const out: string[] = [];
    for (const p of this.ctx.pending()) {
      if (p.kind === 'execute') out.push(p.portal.statement.sql);
      // A Query counts once nothing of it completed yet, or while one of its statements runs.
      else if (p.kind === 'query' && (p.done === 0 || p.note?.open)) out.push(p.note?.open?.sql ?? p.sql);
    }
    return out;
  }

  // ---- client messages -------------------------------------------------------------

  private request(r: Req, msg: DecodedMessage, time: number): void {
    switch (r.kind) {
      case 'query':
        r.note = { time, rows: 0, lastEnd: time, open: null };
        this.requestStart = null;
        return;
      case 'parse':
      case 'describe':
        r.note = note(time);
        this.requestStart ??= time;
        return;
      case 'bind':
        r.note = note(time);
        if (this.records) r.portal.note = this.params(msg);
        this.requestStart ??= time;
        return;
      case 'execute':
        r.note = note(this.requestStart ?? time);
        this.requestStart = null;
        return;
      case 'sync':
        this.requestStart = null;
        return;
    }
  }

  /** A Bind's parameters as records show them: at most PARAM_KEEP_BYTES of each, and whether it carries a password. */
  private params(msg: DecodedMessage): BoundParam[] {
    const b = bindAsRead(msg);
    const formats = b.paramFormats ?? [];
    const params: BoundParam[] = [];
    b.paramValues.forEach((leaf, i) => {
      const format = formatAt(formats, i);
      if (!leaf) {
        params.push({ format, bytes: null, complete: true });
        return;
      }
      const bytes = spanBytes(msg, leaf);
      const retained = bytes ?? msg.frame.bytes.subarray(leaf.start, Math.min(leaf.end, msg.frame.bytes.length));
      // The password-bearing pattern is ASCII: latin1 reads every byte as one character.
      const carries = this.redact && connInfoCarriesPassword(retained.toString('latin1'));
      const kept = Buffer.from(retained.subarray(0, PARAM_KEEP_BYTES));
      params.push({ format, bytes: kept, complete: bytes !== null && bytes.length <= PARAM_KEEP_BYTES, ...(carries ? { secret: true } : {}) });
    });
    return params;
  }

  // ---- server messages -------------------------------------------------------------

  /**
   * The statement of a Query that runs now (its `piece`), opened at the first word the
   * server says of it. (A request the tracker was never shown gets its note now.)
   */
  private open(q: QueryRequest<Note>, piece: number, time: number): SimpleStatement {
    const n = (q.note ??= note(time));
    n.open ??= { sql: this.ctx.statementSql(q, piece), start: piece === 0 ? n.time : n.lastEnd, rows: 0 };
    return n.open;
  }

  /** ErrorResponse after extended-query messages: the statement that failed with the request that did (see the class comment). */
  private failed(step: Failed, error: NonNullable<StatementRecord['error']>, time: number): StatementRecord[] {
    if (step.execute) this.hold(this.executeRecord(step.execute, time, null, error, step.described, step.describedOids));
    else if (step.statement) this.hold(this.extendedRecord(step.statement, step.portal, step.request.note?.time ?? time, time, null, null, error, step.describedOids));
    return this.overflow();
  }

  /** ReadyForQuery: the cycle is over; its records go out. */
  private ready(time: number): StatementRecord[] {
    const out = this.held;
    this.held = [];
    for (const r of out) r.untilReady = time - r.start;
    return out;
  }

  private hold(r: StatementRecord): void {
    this.held.push(r);
  }

  /** Too many records without a ReadyForQuery (a long pipeline): let the oldest go out now, untilReady null. */
  private overflow(): StatementRecord[] {
    if (this.held.length <= this.maxHeld) return [];
    return this.held.splice(0, this.held.length - this.maxHeld);
  }

  private simpleRecord(s: SimpleStatement, time: number, tag: string | null, error: StatementRecord['error'], described: boolean): StatementRecord {
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
      rows: described || s.rows > 0 ? s.rows : null,
      tag,
      affected: tag === null || !this.records ? null : affectedRows(tag),
      error,
    };
  }

  /** `described`: its rows had a description; `oids`: its statement's described parameter types then. */
  private executeRecord(e: Execute, time: number, tag: string | null, error: StatementRecord['error'], described: boolean, oids: readonly number[] | undefined): StatementRecord {
    const n = (e.note ??= note(time));
    const rows = described || n.rows > 0 ? n.rows : null;
    return this.extendedRecord(e.portal.statement, e.portal, n.time, time, tag, rows, error, oids);
  }

  private extendedRecord(
    s: PreparedStatement,
    p: Portal<BoundParam[]> | null,
    start: number,
    time: number,
    tag: string | null,
    rows: number | null,
    error: StatementRecord['error'],
    oids: readonly number[] | undefined,
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
      params: p && this.records ? (p.note ?? []).map((b, i) => this.paramRecord(s, b, i, oids)) : [],
      rows,
      tag,
      affected: tag === null || !this.records ? null : affectedRows(tag),
      error,
    };
  }

  private paramRecord(s: PreparedStatement, b: BoundParam, i: number, oids: readonly number[] | undefined): StatementRecord['params'][number] {
    const format = b.format === 1 ? 'binary' : 'text';
    if (b.bytes === null) return { type: null, format, value: null };
    if (b.secret) return { type: null, format, value: REDACTED };
    const oid = paramOid(s, i, oids);
    const { type, value } = paramText(oid, b.format, b.bytes, b.complete, this.decode);
    return { type, format, value };
  }
}

function note(time: number): Note {
  return { time, rows: 0, lastEnd: time, open: null };
}

/** "Error and Notice Message Fields": S (or V, never localized), C (SQLSTATE), M (message). */
function errorOf(msg: DecodedMessage): NonNullable<StatementRecord['error']> {
  const f = errorFields(msg);
  return { severity: f['V'] ?? f['S'] ?? 'ERROR', code: f['C'] ?? '', message: f['M'] ?? '' };
}
