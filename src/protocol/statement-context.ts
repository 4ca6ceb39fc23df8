/**
 * The statements of one conversation, as decoding needs them: what the server keeps between
 * messages of the extended query protocol (prepared statements from Parse, portals from
 * Bind), and the requests it has not answered yet, in order, so that each response is
 * matched to its request and each DataRow to the description that applies to it (a simple
 * Query's RowDescription; a portal's Describe 'P'; its statement's Describe 'S' with the
 * Bind's result formats). With it, decoders type DataRow columns and Bind parameters and
 * mark secrets while decoding (`readsContext`): nothing writes to a decoded message after.
 *
 * A Conversation created with `statements` options holds one in its DecodeContext and
 * updates it after each message it decodes (both directions); the DataRow, Bind, Query and
 * Parse decoders read it. The statement tracker (src/analysis/statements/tracker.ts) reads
 * it too: for each message, what the message did (a StatementStep, `stepOf`). A
 * Conversation decodes a whole chunk before its first event is observed, so the context
 * may be a chunk ahead of its follower: steps are kept for it, in order, and say everything
 * as it was at that message (which statement of a Query ended, whether an Execute had a
 * row description, the parameter types known then). The follower keeps its own facts on
 * requests and portals (`note`), which the context never reads. A tracker fed messages
 * decoded elsewhere runs an instance of its own (`observe` returns the same steps).
 *
 * The rules, from "Extended Query" and "Message Flow" in the documentation:
 * - The server answers the messages of the extended query protocol one by one, and a Query
 *   as a whole: each response answers the oldest request still waiting for one of its kind.
 *   Requests before it that got no answer (a follower that lost step) are dropped, but never
 *   past a Sync, Query or FunctionCall, whose ReadyForQuery keeps cycles apart.
 * - "the unnamed prepared statement and portal … are destroyed" by a simple Query; "Closing
 *   a prepared statement implicitly closes any open portals that were constructed from that
 *   statement"; a named portal "lasts till the end of the current transaction" (none is
 *   left once ReadyForQuery says idle); DEALLOCATE and DISCARD ALL drop statements (applied
 *   at the ReadyForQuery that ends their cycle).
 * - "When an error is detected while processing any extended-query message, the backend
 *   issues ErrorResponse, then reads and discards messages until a Sync is reached."
 * - A statement's parameter types are Parse's OIDs where given (non-zero), else those of
 *   ParameterDescription; a portal's columns are its Describe 'P', else its statement's
 *   Describe 'S' ("the format code is not yet known": the Bind's result formats apply).
 *
 * Pure; never throws out of decoding: a failure (a bug, a framing error) makes it `lost`,
 * after which it types nothing and, when redacting, marks every Bind parameter secret (the
 * statement they belong to is no longer known: redaction fails closed).
 */
import { commandTagAsRead } from './backend/command-complete.js';
import { parameterTypesAsRead } from './backend/parameter-description.js';
import { readyStatus } from './backend/ready-for-query.js';
import { rowDescriptionColumns } from './backend/row-description.js';
import { clip } from './clip.js';
import { bindTarget } from './frontend/bind.js';
import { closeAsRead } from './frontend/close.js';
import { describeAsRead } from './frontend/describe.js';
import { executePortal } from './frontend/execute.js';
import { parseAsRead } from './frontend/parse.js';
import { queryText } from './frontend/query.js';
import { carriesPassword, connInfoCarriesPassword } from './sql/passwords.js';
import { mayHoldSeveral, splitStatements } from './sql/split.js';
import type { Column, ParameterMarker, ResultShape, StatementTyping } from './statement-typing.js';
import type { DecodedMessage, Frame, Span, TypedValue } from './types.js';
import { decodeValue, type DecodeValue } from './values/index.js';

export type { Column, ResultShape };

export interface PreparedStatement {
  readonly name: string;
  readonly sql: string;
  /** Parse: "the object ID of the parameter data type. Placing a zero here is equivalent to leaving the type unspecified." */
  readonly parseOids: readonly number[];
  /** ParameterDescription answering Describe 'S': the types the server resolved (replaced, never changed in place). */
  describedOids?: readonly number[];
  /** RowDescription or NoData answering Describe 'S'. Its format codes are all zero: "the format code is not yet known". */
  result: ResultShape;
  /** carriesPassword(sql), worked out at its first Bind and kept (the SQL never changes). */
  carriesPassword?: boolean;
}

export interface Portal<P = unknown> {
  readonly name: string;
  readonly statement: PreparedStatement;
  /** "The result-column format codes" of the Bind. */
  readonly resultFormats: readonly number[];
  /** RowDescription or NoData answering Describe 'P' (with the real format codes). */
  result: ResultShape;
  /** A follower's own facts about the portal (the tracker: its parameters as kept for records). */
  note?: P;
}

/** A simple Query: its statements run in turn, each ended by CommandComplete, EmptyQueryResponse or ErrorResponse. */
export interface QueryRequest<N = unknown> {
  readonly kind: 'query';
  readonly sql: string;
  /** Statements of it that completed (or failed) so far. */
  done: number;
  /** The RowDescription of the statement running now (null before one, and after it completed). */
  columns: readonly Column[] | null;
  /** Its statements (splitStatements), worked out when first needed; empty when it holds at most one. */
  pieces?: string[];
  note?: N;
}

export interface ExecuteRequest<N = unknown, P = unknown> {
  readonly kind: 'execute';
  readonly portal: Portal<P>;
  /** The columns its DataRows carry, fixed at its first DataRow. */
  columns: ResultShape | 'unset';
  note?: N;
}

/** What the client asked for and the server has not answered yet. */
export type Request<N = unknown, P = unknown> =
  | { readonly kind: 'parse'; readonly statement: PreparedStatement; note?: N }
  | { readonly kind: 'bind'; readonly portal: Portal<P>; note?: N }
  | { readonly kind: 'describe'; readonly statement: PreparedStatement | null; readonly portal: Portal<P> | null; note?: N }
  | ExecuteRequest<N, P>
  | { readonly kind: 'close'; note?: N }
  | { readonly kind: 'function'; note?: N }
  | { readonly kind: 'sync'; note?: N }
  | QueryRequest<N>;

type Kind = Request['kind'];

/** The SQL a request runs: a Query's string, else that of the prepared statement behind it; undefined for Close, FunctionCall, Sync. */
export function requestSql(r: Request): string | undefined {
  switch (r.kind) {
    case 'query':
      return r.sql;
    case 'parse':
      return r.statement.sql;
    case 'bind':
    case 'execute':
      return r.portal.statement.sql;
    case 'describe':
      return r.statement?.sql ?? r.portal?.statement.sql;
    default:
      return undefined;
  }
}

/** Sync, Query and FunctionCall each end with a ReadyForQuery. */
const BOUNDARY: ReadonlySet<Kind> = new Set<Kind>(['sync', 'query', 'function']);

/** What one message did, for a follower (the statement tracker); null: nothing it needs to know. */
export type StatementStep<N = unknown, P = unknown> =
  /** Query, Parse, Bind, Describe, Execute, Close, FunctionCall or Sync joined the requests. */
  | { readonly kind: 'request'; readonly request: Request<N, P> }
  | { readonly kind: 'flush' }
  /** A statement of a Query runs: its RowDescription, a DataRow (`row`), or a Copy*Response. */
  | { readonly kind: 'running'; readonly query: QueryRequest<N>; readonly piece: number; readonly row: boolean }
  /** A DataRow of an Execute. */
  | { readonly kind: 'row'; readonly execute: ExecuteRequest<N, P> }
  /**
   * A statement of a Query ended: CommandComplete (`tag`), EmptyQueryResponse (tag null)
   * or ErrorResponse (`failed`). `described`: it had a RowDescription.
   */
  | { readonly kind: 'statement-done'; readonly query: QueryRequest<N>; readonly piece: number; readonly described: boolean; readonly tag: string | null; readonly failed: boolean }
  /**
   * An Execute ended: CommandComplete (`tag`), EmptyQueryResponse or PortalSuspended (tag
   * null). `described`: its rows had a description; `describedOids`: its statement's
   * parameter types from ParameterDescription, as known then.
   */
  | { readonly kind: 'execute-done'; readonly execute: ExecuteRequest<N, P>; readonly tag: string | null; readonly described: boolean; readonly describedOids: readonly number[] | undefined }
  /** ErrorResponse while the Sync ended the implicit transaction (a deferred constraint at commit). */
  | { readonly kind: 'sync-error' }
  /**
   * ErrorResponse while processing extended-query messages ("the backend … reads and
   * discards messages until a Sync is reached"). `request`: the one that failed. The
   * statement that failed with it: `execute`, the Execute of its own queued before the Sync
   * (the failing one, or the one its Parse, Bind or Describe led to), else, for a Parse,
   * Bind or Describe, its `statement` (and `portal`); none for a Close. `described` and
   * `describedOids` as for execute-done.
   */
  | {
      readonly kind: 'failed';
      readonly request: Request<N, P>;
      readonly execute: ExecuteRequest<N, P> | null;
      readonly statement: PreparedStatement | null;
      readonly portal: Portal<P> | null;
      readonly described: boolean;
      readonly describedOids: readonly number[] | undefined;
    }
  /** ReadyForQuery ended a cycle (not the one that ends the startup). */
  | { readonly kind: 'ready'; readonly status: string };

export interface StatementContextOptions {
  /** Type DataRow columns and Bind parameters while decoding (an output shows typed values). */
  typeValues?: boolean;
  /**
   * --redact-passwords: mark secret the SQL of a Query or Parse that carries a password, a
   * Bind parameter that carries a connection-string password, and, once the context is
   * lost, every Bind parameter. (Parameters of a statement whose SQL carries a password are
   * marked secret whenever there is a context.)
   */
  redact?: boolean;
  /** Reads a value as its type (default: src/protocol/values' decodeValue); tests give a stand-in. */
  decodeValue?: DecodeValue;
  /** Most named prepared statements remembered; the oldest are forgotten beyond (default 10,000). */
  maxStatements?: number;
}

/** Why the context stopped following the conversation, and at which message (if one). */
export interface ContextFailure {
  why: string;
  frame: Frame | null;
}

/** Most characters of a typed value shown in a span's meaning (and in a statement record's parameter). */
export const VALUE_MAX_CHARS = 256;

/** How a typed value reads in a span's meaning: "int4 42", "text 'abc'". */
export function typedMeaning(t: TypedValue): string {
  return `${t.type} ${clip(t.text, VALUE_MAX_CHARS)}`;
}

/**
 * The format of value `i` given the format codes sent for the list: "zero to indicate that
 * there are no parameters or that the parameters all use the default format (text); or
 * one, in which case the specified format code is applied to all parameters; or it can
 * equal the actual number of parameters." The same rule holds for result columns.
 */
export function formatAt(codes: readonly number[], i: number): number {
  if (codes.length === 0) return 0;
  if (codes.length === 1) return codes[0]!;
  return codes[i] ?? 0;
}

/**
 * The type of parameter i: Parse's OID when given (non-zero), else ParameterDescription's
 * (`described`: the statement's describedOids, now or as known at an earlier message),
 * else 0 (unknown).
 */
export function paramOid(s: PreparedStatement, i: number, described: readonly number[] | undefined): number {
  const given = s.parseOids[i] ?? 0;
  return given !== 0 ? given : (described?.[i] ?? 0);
}

/**
 * The columns a portal's DataRows carry: its own description (Describe 'P'), else its
 * statement's (Describe 'S', as pgbench -M prepared does once) with the formats the Bind
 * asked for; null when it returns no rows; undefined when nobody described it.
 */
export function portalColumns(p: Portal<unknown>): ResultShape {
  if (p.result !== undefined) return p.result;
  const s = p.statement.result;
  if (!s) return s;
  return s.map((c, i) => ({ ...c, format: formatAt(p.resultFormats, i) }));
}

/** Whether an Execute's rows have a description (portalColumns, without building it). */
function hasColumns(e: ExecuteRequest<unknown, unknown>): boolean {
  if (e.columns !== 'unset') return Boolean(e.columns);
  return e.portal.result !== undefined ? Boolean(e.portal.result) : Boolean(e.portal.statement.result);
}

const ONE_PIECE: string[] = [];

/** Steps kept for the follower, in one direction: message, step, message, step… from `head` on. */
interface Kept {
  head: number;
  entries: (DecodedMessage | StatementStep<unknown, unknown> | undefined)[];
}

/** A DEALLOCATE or DISCARD ALL that completed: applied to the statements at the cycle's ReadyForQuery. */
interface Deallocation {
  tag: string;
  sql: string;
}

export class StatementContext<N = unknown, P = unknown> implements StatementTyping {
  readonly redact: boolean;
  private typeValues: boolean;
  private readonly decode: DecodeValue;
  private readonly maxStatements: number;
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal<P>>();
  private queue: Request<N, P>[] = [];
  /** AuthenticationOk was seen: the next ReadyForQuery ends the startup, not a request. */
  private startupReady = false;
  private deallocations: Deallocation[] = [];
  private lostWhy: ContextFailure | null = null;
  /** Steps kept for a follower that reads them later (follow / stepOf), per direction; null: nobody follows. */
  private keptFrontend: Kept | null = null;
  private keptBackend: Kept | null = null;

  constructor(opts: StatementContextOptions = {}) {
    this.typeValues = opts.typeValues ?? false;
    this.redact = opts.redact ?? false;
    this.decode = opts.decodeValue ?? decodeValue;
    this.maxStatements = opts.maxStatements ?? 10_000;
  }

  /** Set once the context stopped following the conversation (see the module comment). */
  get failure(): ContextFailure | null {
    return this.lostWhy;
  }

  /** Whether decoders type values now. */
  get typing(): boolean {
    return this.typeValues && this.lostWhy === null;
  }

  /** Stop following the conversation (the first reason is kept). */
  fail(why: string, frame: Frame | null = null): void {
    if (this.lostWhy) return;
    this.lostWhy = { why, frame };
    this.queue = [];
    this.deallocations = [];
    // Steps kept for messages before the failure stay readable: the follower is behind.
  }

  /**
   * Nothing held: no prepared statement, portal or pending request, no step a follower has
   * not read, not lost, not between AuthenticationOk and the first ReadyForQuery. A fresh
   * context (that follows) behaves the same from here on.
   */
  get quiet(): boolean {
    const unread = (k: Kept | null): boolean => k !== null && k.head < k.entries.length;
    return this.statements.size === 0 && this.portals.size === 0 && this.queue.length === 0 && this.deallocations.length === 0 && this.lostWhy === null && !this.startupReady && !unread(this.keptFrontend) && !unread(this.keptBackend);
  }

  /** No follower any more (its analysis moved elsewhere): steps are no longer kept, values no longer typed. */
  unfollow(): void {
    this.keptFrontend = null;
    this.keptBackend = null;
    this.typeValues = false;
  }

  /** Keep each message's step for a follower that reads it later with `stepOf`. */
  follow(): void {
    this.keptFrontend ??= { head: 0, entries: [] };
    this.keptBackend ??= { head: 0, entries: [] };
  }

  /**
   * What a message this context observed did (see `follow`); null for a message that did
   * nothing a follower needs to know, one of another conversation, or one observed after
   * the context was lost. Asked in order within each direction (the directions may
   * interleave differently than they were decoded): a message of the conversation the
   * follower never asks about (one pgscope consumed) is passed over.
   */
  stepOf(msg: DecodedMessage): StatementStep<N, P> | null {
    const f = msg.frame;
    const k = f.direction === 'frontend' ? this.keptFrontend : this.keptBackend;
    if (k === null || f.kind !== 'message') return null;
    const e = k.entries;
    while (k.head < e.length) {
      const m = e[k.head] as DecodedMessage;
      if (m !== msg) {
        // Later in the stream: msg is not one of ours, or was passed over already.
        if (m.frame.offset > f.offset) return null;
        e[k.head] = e[k.head + 1] = undefined;
        k.head += 2;
        continue;
      }
      const step = e[k.head + 1] as StatementStep<N, P>;
      e[k.head] = e[k.head + 1] = undefined;
      k.head += 2;
      if (k.head === e.length) {
        k.entries = [];
        k.head = 0;
      } else if (k.head >= 1024) {
        e.splice(0, k.head);
        k.head = 0;
      }
      return step;
    }
    return null;
  }

  /** Requests not answered yet, oldest first. */
  pending(): readonly Request<N, P>[] {
    return this.queue;
  }

  /** The connection ended: nothing is waiting any more. */
  end(): void {
    this.queue = [];
    this.deallocations = [];
  }

  /** The text of statement `piece` of a Query: its own text when the Query holds several, else the whole. */
  statementSql(q: QueryRequest<N>, piece: number): string {
    q.pieces ??= mayHoldSeveral(q.sql) ? splitStatements(q.sql) : ONE_PIECE;
    return q.pieces.length > 1 && piece < q.pieces.length ? q.pieces[piece]! : q.sql;
  }

  // ---- what decoders read -------------------------------------------------------------

  /**
   * The columns the DataRow being decoded carries, as far as known: a Query's current
   * RowDescription, else the shape of the Execute its rows answer (fixed at its first
   * DataRow, as `observe` would fix it). The matching itself is left to `observe`.
   */
  rowColumns(): ResultShape {
    const h = this.queue[0];
    if (h === undefined) return undefined;
    if (h.kind === 'query') return h.columns;
    for (const r of this.queue) {
      if (r.kind === 'execute') {
        if (r.columns === 'unset') r.columns = portalColumns(r.portal);
        return r.columns;
      }
      if (BOUNDARY.has(r.kind)) return undefined;
    }
    return undefined;
  }

  /**
   * Whether a Query's or Parse's SQL is to be marked secret: --redact-passwords and the SQL
   * carries a password. Fails closed: if the check itself fails, it is.
   */
  sqlIsSecret(sql: string): boolean {
    if (!this.redact) return false;
    try {
      return carriesPassword(sql);
    } catch {
      return true;
    }
  }

  /**
   * What the Bind decoder does with each parameter value it reads, for a Bind of statement
   * `name` with these parameter format codes: a statement whose SQL carries a password
   * (ALTER ROLE … PASSWORD $1) has all its parameters marked secret; with redaction, so is
   * a value that carries a connection-string password (dblink_connect($1)), and once the
   * context is lost, every value; others are typed when typing is on. Null: nothing to do.
   */
  bindParameters(name: string, codes: readonly number[], frame: Frame): ParameterMarker | null {
    const lost = this.lostWhy !== null;
    if (lost && !this.redact) return null;
    let statement: PreparedStatement | null = null;
    let allSecret = lost;
    if (!lost) {
      try {
        statement = this.statement(name);
        allSecret = statement.carriesPassword ??= carriesPassword(statement.sql);
      } catch (e) {
        this.fail(internal(e), frame);
        if (!this.redact) return null;
        allSecret = true;
      }
    }
    if (!allSecret && !this.redact && !this.typing) return null;
    this.bindStatement = statement;
    this.bindAllSecret = allSecret;
    this.bindCodes = codes;
    this.bindFrame = frame;
    return this.markParameter;
  }

  // The Bind being decoded (bindParameters), for markParameter.
  private bindStatement: PreparedStatement | null = null;
  private bindAllSecret = false;
  private bindCodes: readonly number[] = [];
  private bindFrame: Frame | null = null;

  /** bindParameters' marker: one per context, reading the Bind being decoded. */
  private readonly markParameter: ParameterMarker = (leaf, i) => {
    if (this.bindAllSecret) {
      leaf.secret = true;
      return;
    }
    const frame = this.bindFrame!;
    try {
      const statement = this.bindStatement;
      // The password-bearing pattern is ASCII: latin1 reads every byte as one character.
      if (this.redact && connInfoCarriesPassword((leaf.value as Buffer).toString('latin1'))) leaf.secret = true;
      else if (this.typing && statement !== null) this.typeLeaf(leaf, paramOid(statement, i, statement.describedOids), formatAt(this.bindCodes, i), frame);
    } catch (e) {
      this.fail(internal(e), frame);
      if (this.redact) leaf.secret = true;
    }
  };

  /**
   * Read a value leaf (a DataRow column's, a Bind parameter's) as its type and record it on
   * the span (`typed`, and a `meaning` that replaces the generic one), unless the type is
   * unknown (0), the bytes were not all retained, or they do not fit the type (decodeValue
   * returns null: the escaped bytes stay as they are).
   */
  typeLeaf(leaf: Span, oid: number, format: number, frame: Frame): void {
    if (oid === 0 || leaf.flag !== undefined || leaf.retained !== undefined) return;
    let t: TypedValue | null;
    try {
      t = this.decode(oid, format, leaf.value as Buffer);
    } catch (e) {
      this.fail(internal(e), frame);
      return;
    }
    if (!t) return;
    leaf.typed = t;
    leaf.meaning = typedMeaning(t);
  }

  // ---- following the conversation -----------------------------------------------------

  /**
   * Update the context from a decoded message (of either direction, in the order they
   * were seen). Returns what the message did, for a follower. Throws only on a bug; the
   * Conversation then calls `fail`.
   */
  observe(msg: DecodedMessage): StatementStep<N, P> | null {
    if (this.lostWhy !== null || msg.frame.kind !== 'message') return null;
    const frontend = msg.frame.direction === 'frontend';
    const step = frontend ? this.frontend(msg) : this.backend(msg);
    if (step !== null) {
      const k = frontend ? this.keptFrontend : this.keptBackend;
      if (k !== null) {
        k.entries.push(msg);
        k.entries.push(step);
      }
    }
    return step;
  }

  private push(r: Request<N, P>): StatementStep<N, P> {
    this.queue.push(r);
    return { kind: 'request', request: r };
  }

  private frontend(msg: DecodedMessage): StatementStep<N, P> | null {
    switch (msg.name) {
      case 'Query':
        this.statements.delete('');
        this.portals.delete('');
        return this.push({ kind: 'query', sql: queryText(msg) ?? '', done: 0, columns: null, note: undefined });
      case 'Parse': {
        const p = parseAsRead(msg);
        const statement: PreparedStatement = { name: p.statement ?? '', sql: p.query ?? '', parseOids: p.parameterTypes ?? [], result: undefined };
        this.remember(statement);
        return this.push({ kind: 'parse', statement, note: undefined });
      }
      case 'Bind': {
        const b = bindTarget(msg);
        const portal: Portal<P> = { name: b.portal ?? '', statement: this.statement(b.statement ?? ''), resultFormats: b.resultFormats ?? [], result: undefined, note: undefined };
        this.portals.set(portal.name, portal);
        return this.push({ kind: 'bind', portal, note: undefined });
      }
      case 'Describe': {
        const d = describeAsRead(msg);
        const name = d.name ?? '';
        return this.push({ kind: 'describe', statement: d.target === 'S' ? this.statement(name) : null, portal: d.target === 'P' ? this.portal(name) : null, note: undefined });
      }
      case 'Execute':
        return this.push({ kind: 'execute', portal: this.portal(executePortal(msg) ?? ''), columns: 'unset', note: undefined });
      case 'Close': {
        const c = closeAsRead(msg);
        const name = c.name ?? '';
        if (c.target === 'S') {
          const s = this.statements.get(name);
          this.statements.delete(name);
          if (s) for (const [k, p] of this.portals) if (p.statement === s) this.portals.delete(k);
        } else this.portals.delete(name);
        return this.push({ kind: 'close', note: undefined });
      }
      case 'Sync':
        return this.push({ kind: 'sync', note: undefined });
      case 'Flush':
        return { kind: 'flush' };
      case 'FunctionCall':
        return this.push({ kind: 'function', note: undefined });
    }
    return null;
  }

  private backend(msg: DecodedMessage): StatementStep<N, P> | null {
    switch (msg.name) {
      case 'ParseComplete':
        this.answer('parse', true);
        return null;
      case 'BindComplete':
        this.answer('bind', true);
        return null;
      case 'CloseComplete':
        this.answer('close', true);
        return null;
      case 'ParameterDescription': {
        const d = this.answer('describe', false);
        if (d?.kind === 'describe' && d.statement) d.statement.describedOids = parameterTypesAsRead(msg);
        return null;
      }
      case 'RowDescription': {
        const columns = rowDescriptionColumns(msg);
        const q = this.queue[0];
        if (q?.kind === 'query') {
          q.columns = columns;
          return { kind: 'running', query: q, piece: q.done, row: false };
        }
        const d = this.answer('describe', true);
        if (d?.kind === 'describe') {
          if (d.portal) d.portal.result = columns;
          if (d.statement) d.statement.result = columns;
        }
        return null;
      }
      case 'NoData': {
        const d = this.answer('describe', true);
        if (d?.kind === 'describe') {
          if (d.portal) d.portal.result = null;
          if (d.statement) d.statement.result = null;
        }
        return null;
      }
      case 'DataRow': {
        const q = this.queue[0];
        if (q?.kind === 'query') return { kind: 'running', query: q, piece: q.done, row: true };
        const e = this.answer('execute', false);
        if (e?.kind !== 'execute') return null;
        if (e.columns === 'unset') e.columns = portalColumns(e.portal);
        return { kind: 'row', execute: e };
      }
      case 'CopyInResponse':
      case 'CopyOutResponse':
      case 'CopyBothResponse': {
        const q = this.queue[0];
        if (q?.kind === 'query') return { kind: 'running', query: q, piece: q.done, row: false };
        this.answer('execute', false);
        return null;
      }
      case 'CommandComplete':
      case 'EmptyQueryResponse':
      case 'PortalSuspended':
        return this.completed(msg.name === 'CommandComplete' ? (commandTagAsRead(msg) ?? '') : null);
      case 'ErrorResponse':
        return this.failed();
      case 'AuthenticationOk':
        this.startupReady = true;
        return null;
      case 'ReadyForQuery':
        if (this.startupReady) {
          // "ReadyForQuery … indicates that the backend is ready for its first query": it answers no request.
          this.startupReady = false;
          return null;
        }
        return this.ready(readyStatus(msg) ?? '');
    }
    return null;
  }

  /**
   * The pending request a response of this kind answers: the head of the queue. Requests
   * before it that got no answer are dropped, but never past a boundary. `pop`: the
   * response is the last one this request gets.
   */
  private answer(kind: Kind, pop: boolean): Request<N, P> | undefined {
    while (this.queue.length > 0 && this.queue[0]!.kind !== kind && !BOUNDARY.has(this.queue[0]!.kind)) this.queue.shift();
    const h = this.queue[0];
    if (!h || h.kind !== kind) return undefined;
    if (pop) this.queue.shift();
    return h;
  }

  /** CommandComplete (with its tag), EmptyQueryResponse or PortalSuspended (tag null). */
  private completed(tag: string | null): StatementStep<N, P> | null {
    const h = this.queue[0];
    if (h?.kind === 'query') {
      const piece = h.done;
      const described = h.columns !== null;
      if (tag !== null) this.deallocated(tag, () => this.statementSql(h, piece));
      h.columns = null;
      h.done++;
      return { kind: 'statement-done', query: h, piece, described, tag, failed: false };
    }
    const e = this.answer('execute', true);
    if (e?.kind !== 'execute') return null;
    if (tag !== null) this.deallocated(tag, () => e.portal.statement.sql);
    return { kind: 'execute-done', execute: e, tag, described: hasColumns(e), describedOids: e.portal.statement.describedOids };
  }

  /** ErrorResponse: which request failed; after an extended-query message, skip to the Sync. */
  private failed(): StatementStep<N, P> | null {
    const h = this.queue[0];
    if (!h || h.kind === 'function') return null;
    if (h.kind === 'query') {
      const piece = h.done;
      const described = h.columns !== null;
      h.columns = null;
      h.done++;
      return { kind: 'statement-done', query: h, piece, described, tag: null, failed: true };
    }
    if (h.kind === 'sync') return { kind: 'sync-error' };
    const skipped: Request<N, P>[] = [];
    while (this.queue.length > 0 && !BOUNDARY.has(this.queue[0]!.kind)) skipped.push(this.queue.shift()!);
    // The head is no boundary: at least the failing request was skipped.
    const failing = skipped[0]!;
    const own =
      skipped.find(
        (p): p is ExecuteRequest<N, P> =>
          p.kind === 'execute' &&
          (failing.kind === 'execute' ||
            (failing.kind === 'parse' && p.portal.statement === failing.statement) ||
            (failing.kind === 'bind' && p.portal === failing.portal) ||
            (failing.kind === 'describe' && (p.portal === failing.portal || p.portal.statement === failing.statement))),
      ) ?? null;
    let statement: PreparedStatement | null = null;
    let portal: Portal<P> | null = null;
    if (own) {
      statement = own.portal.statement;
      portal = own.portal;
    } else if (failing.kind === 'parse') statement = failing.statement;
    else if (failing.kind === 'bind') {
      statement = failing.portal.statement;
      portal = failing.portal;
    } else if (failing.kind === 'describe') {
      statement = failing.portal?.statement ?? failing.statement;
      portal = failing.portal;
    }
    return { kind: 'failed', request: failing, execute: own, statement, portal, described: own !== null && hasColumns(own), describedOids: statement?.describedOids };
  }

  /** ReadyForQuery: the cycle is over. */
  private ready(status: string): StatementStep<N, P> {
    // Requests before the boundary were skipped after an error (or never answered).
    const q = this.queue;
    let i = 0;
    while (i < q.length && !BOUNDARY.has(q[i]!.kind)) i++;
    if (i >= q.length - 1) this.queue = [];
    else q.splice(0, i + 1);
    if (status === 'I') this.portals.clear();
    if (this.deallocations.length > 0) {
      for (const d of this.deallocations) this.forget(d);
      this.deallocations = [];
    }
    return { kind: 'ready', status };
  }

  /** Remember a DEALLOCATE / DISCARD ALL that completed, with the text of its statement. */
  private deallocated(tag: string, sql: () => string): void {
    if (tag === 'DEALLOCATE' || tag === 'DEALLOCATE ALL' || tag === 'DISCARD ALL') this.deallocations.push({ tag, sql: sql() });
  }

  /** DEALLOCATE name / DEALLOCATE ALL / DISCARD ALL drop prepared statements as Close 'S' does. */
  private forget(d: Deallocation): void {
    if (d.tag === 'DEALLOCATE ALL' || d.tag === 'DISCARD ALL') this.statements.clear();
    else {
      const m = /^\s*DEALLOCATE\s+(?:PREPARE\s+)?("(?:[^"]|"")+"|[^\s;]+)/i.exec(d.sql);
      if (m) this.statements.delete(m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!.toLowerCase());
    }
  }

  private remember(s: PreparedStatement): void {
    this.statements.delete(s.name);
    this.statements.set(s.name, s);
    if (this.statements.size > this.maxStatements) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
    }
  }

  /** A statement by name; one never seen prepared (joined late, or forgotten) is a placeholder without SQL. */
  private statement(name: string): PreparedStatement {
    return this.statements.get(name) ?? { name, sql: '', parseOids: [], result: undefined };
  }

  private portal(name: string): Portal<P> {
    return this.portals.get(name) ?? { name, statement: this.statement(''), resultFormats: [], result: undefined, note: undefined };
  }
}

function internal(e: unknown): string {
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}
