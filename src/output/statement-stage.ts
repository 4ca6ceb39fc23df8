import { carriesPassword, redactRecord, redactSql, StatementTracker, type DecodeValue } from '../protocol/statements/index.js';
import type { DecodedMessage } from '../protocol/types.js';
import { isShared } from '../protocol/decode-memo.js';
import type { Label, ProxyEvent } from '../session/events.js';
import { clip } from '../protocol/clip.js';

export interface StatementStageOptions {
  /**
   * --redact-passwords: SQL carrying a password and the parameters that go with it are
   * marked secret before any sink sees them (whatever else is on), and records and
   * status lines carry no password literal.
   */
  redact: boolean;
  /** Type Bind parameters and DataRow columns (default true): for the annotated log and JSON lines. */
  typed?: boolean;
  /** Emit 'statement' events (default true): for the query log, JSON lines and the summary. */
  records?: boolean;
  /** Reads values as their types (default: src/protocol/values' decodeValue); for tests. */
  decode?: DecodeValue;
  /** Told once if the stage itself fails (a bug): it then passes events on untouched, but still marks secrets. */
  warn?: (text: string) => void;
}

/**
 * The client's conversation: forwarded traffic, plus what pgscope itself said to the
 * client or consumed from it (--override-auth authentication), which the tracker ignores.
 */
const CONVERSATION: ReadonlySet<Label> = new Set<Label>(['client -> server', 'server -> client', 'client -> script', 'script -> client']);

/**
 * Sits in front of the sinks: feeds every message of each client's conversation to that
 * connection's StatementTracker BEFORE passing the event on, so the typed values it adds
 * to Bind and DataRow spans reach every sink; then emits a 'statement' event per completed
 * statement. Everything else passes through unchanged. It never throws: a tracker that
 * fails stops tracking its connection, with one warning (and, when redacting, every Bind
 * parameter of that connection is marked secret from then on: the statement they belong
 * to is no longer known).
 */
export class StatementStage {
  private readonly trackers = new Map<number, StatementTracker>();
  /** Connections whose tracking failed (a bug, or a framing error that lost the message boundaries). */
  private readonly disabled = new Set<number>();
  private readonly typed: boolean;
  private readonly records: boolean;
  private failed = false;

  constructor(
    private readonly next: (ev: ProxyEvent) => void,
    private readonly opts: StatementStageOptions = { redact: false },
  ) {
    this.typed = opts.typed ?? true;
    this.records = opts.records ?? true;
  }

  write(ev: ProxyEvent): void {
    try {
      this.handle(ev);
    } catch (e) {
      // Not a tracker (observe catches those): the stage's own code or the next step.
      if (!this.failed) {
        this.failed = true;
        try {
          this.opts.warn?.(`statement tracking failed (${e instanceof Error ? e.message : String(e)}); proxying goes on`);
        } catch {
          /* nothing left to tell */
        }
      }
    }
  }

  private handle(ev: ProxyEvent): void {
    if (ev.kind === 'codec' && CONVERSATION.has(ev.label)) {
      // Secrets first, whatever state the tracker is in: redaction must not fail open.
      if (this.opts.redact && ev.event.kind === 'message') markSecrets(ev.event.message, this.disabled.has(ev.conn) || this.failed);
      const records = this.failed ? [] : this.observe(ev);
      this.next(ev);
      this.emit(ev.conn, ev.time, records);
      return;
    }
    if (this.failed) {
      this.next(ev);
      return;
    }
    if (ev.kind === 'connection' && ev.phase === 'closed') {
      const records = this.finish(ev.conn, ev.time);
      // Statements first: sinks may summarise a connection when they see it close.
      this.emit(ev.conn, ev.time, records);
      this.next(ev);
      return;
    }
    this.next(ev);
  }

  private observe(ev: Extract<ProxyEvent, { kind: 'codec' }>): ReturnType<StatementTracker['observe']> {
    if (this.disabled.has(ev.conn)) return [];
    try {
      if (ev.event.kind === 'error') {
        // After a framing error the codec cannot find message boundaries again.
        return this.disable(ev.conn, ev.time, 'the conversation can no longer be decoded');
      }
      if (ev.event.kind !== 'message') return [];
      let t = this.trackers.get(ev.conn);
      if (!t) {
        t = new StatementTracker({ conn: ev.conn, decode: this.opts.decode, typed: this.typed, redact: this.opts.redact, records: this.records });
        this.trackers.set(ev.conn, t);
      }
      return t.observe(ev.event.message, ev.time);
    } catch (e) {
      return this.disable(ev.conn, ev.time, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private disable(conn: number, time: number, why: string): ReturnType<StatementTracker['end']> {
    const t = this.trackers.get(conn);
    this.trackers.delete(conn);
    this.disabled.add(conn);
    this.next({ kind: 'status', conn, time, level: 'warn', text: `statement tracking stopped for this connection: ${why}` });
    try {
      return t ? t.end(time) : [];
    } catch {
      return [];
    }
  }

  private finish(conn: number, time: number): ReturnType<StatementTracker['end']> {
    this.disabled.delete(conn);
    const t = this.trackers.get(conn);
    if (!t) return [];
    this.trackers.delete(conn);
    try {
      const unanswered = t.unanswered();
      if (unanswered.length > 0) {
        // Redacted before it is cut: a cut must not leave half a password literal unrecognised.
        const sql = this.opts.redact ? redactSql(unanswered[0]!) : unanswered[0]!;
        const flat = sql.replace(/\s+/g, ' ');
        const first = clip(flat, 120);
        this.next({ kind: 'status', conn, time, level: 'info', text: `closed with ${unanswered.length === 1 ? 'a statement' : `${unanswered.length} statements`} unanswered (not in the query log): ${first}` });
      }
      return t.end(time);
    } catch {
      return [];
    }
  }

  private emit(conn: number, time: number, records: ReturnType<StatementTracker['end']>): void {
    if (!this.records) return;
    for (const r of records) this.next({ kind: 'statement', conn, time, record: this.opts.redact ? redactRecord(r) : r });
  }
}

/**
 * --redact-passwords: SQL that carries a password (ALTER ROLE … PASSWORD '…', a
 * subscription's connection string) is a secret like a PasswordMessage. Its text span is
 * marked so, before any sink sees it: the annotated and raw logs, JSON lines and pcapng
 * all hide it; the statement records keep the SQL with only the literal replaced.
 */
function markSqlPasswords(msg: DecodedMessage): void {
  const f = msg.frame;
  if (f.direction !== 'frontend' || (f.type !== 'Q' && f.type !== 'P')) return;
  for (const span of msg.spans) {
    if ((span.name === 'query' || span.name === 'query string') && typeof span.value === 'string' && carriesPassword(span.value)) span.secret = true;
  }
}

/**
 * What the stage marks secret itself, before the tracker (which marks the parameters of
 * statements it knows): SQL carrying a password; and, on a connection no longer tracked,
 * every Bind parameter, since which statement they go with is not known any more. If
 * that fails, the whole client message is marked: redaction fails closed.
 */
function markSecrets(msg: DecodedMessage, untracked: boolean): void {
  try {
    markSqlPasswords(msg);
    const f = msg.frame;
    if (untracked && f.direction === 'frontend' && f.type === 'B') {
      for (const span of msg.spans) if (span.name === 'parameter') for (const c of span.children ?? []) if (c.name === 'value') c.secret = true;
    }
  } catch {
    // A shared decoding (isShared) is frozen, and of a type that never holds a secret.
    if (msg.frame.direction === 'frontend' && !isShared(msg)) for (const span of msg.spans) span.secret = true;
  }
}
