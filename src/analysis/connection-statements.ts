import { isShared } from '../protocol/decode-memo.js';
import { clip } from '../protocol/clip.js';
import type { CodecEvent, DecodedMessage } from '../protocol/types.js';
import type { StatementRecord } from './records.js';
import { carriesPassword, redactRecord, redactSql, StatementTracker, type DecodeValue } from './statements/index.js';

export interface StatementAnalysisOptions {
  /**
   * --redact-passwords: SQL carrying a password and the parameters that go with it are
   * marked secret before any output sees them (whatever else is on), and records and
   * status lines carry no password literal.
   */
  redact: boolean;
  /** Type Bind parameters and DataRow columns (default true): for the annotated log and JSON lines. */
  typed?: boolean;
  /** Emit statement records (default true): for the query log, JSON lines and the summary. */
  records?: boolean;
  /** Reads values as their types (default: src/protocol/values' decodeValue); for tests. */
  decode?: DecodeValue;
}

/** What the analysis says about one event of the conversation: status lines first, then records. */
export interface StatementFindings {
  notes: { level: 'info' | 'warn'; text: string }[];
  records: StatementRecord[];
}

const NOTHING: StatementFindings = Object.freeze({ notes: [], records: [] }) as unknown as StatementFindings;

/**
 * One connection's statements: every message of the client's conversation goes through
 * `observe` BEFORE anyone else sees it (the typed values the tracker adds to Bind and
 * DataRow spans, and the secret marks, reach every output), and the statements it
 * completes come back to be emitted after it. It never throws: a tracker that fails stops
 * tracking this connection, with one note (and, when redacting, every Bind parameter is
 * marked secret from then on: the statement they belong to is no longer known).
 */
export class ConnectionStatements {
  private tracker: StatementTracker | null;
  private disabled = false;
  private readonly records: boolean;

  constructor(
    conn: number,
    private readonly opts: StatementAnalysisOptions,
  ) {
    this.records = opts.records ?? true;
    this.tracker = new StatementTracker({ conn, decode: opts.decode, typed: opts.typed ?? true, redact: opts.redact, records: this.records });
  }

  /** A codec event of the client's conversation (forwarded, or said or taken by pgscope). */
  observe(ev: CodecEvent, time: number): StatementFindings {
    // Secrets first, whatever state the tracker is in: redaction must not fail open.
    if (this.opts.redact && ev.kind === 'message') markSecrets(ev.message, this.disabled);
    if (this.disabled || !this.tracker) return NOTHING;
    try {
      // After a framing error the codec cannot find message boundaries again.
      if (ev.kind === 'error') return this.disable(time, 'the conversation can no longer be decoded');
      if (ev.kind !== 'message') return NOTHING;
      return this.found([], this.tracker.observe(ev.message, time));
    } catch (e) {
      return this.disable(time, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The connection closed: statements left unanswered are said, what completed comes out. */
  end(time: number): StatementFindings {
    const t = this.tracker;
    this.tracker = null;
    if (!t) return NOTHING;
    try {
      const notes: StatementFindings['notes'] = [];
      const unanswered = t.unanswered();
      if (unanswered.length > 0) {
        // Redacted before it is cut: a cut must not leave half a password literal unrecognised.
        const sql = this.opts.redact ? redactSql(unanswered[0]!) : unanswered[0]!;
        const first = clip(sql.replace(/\s+/g, ' '), 120);
        notes.push({ level: 'info', text: `closed with ${unanswered.length === 1 ? 'a statement' : `${unanswered.length} statements`} unanswered (not in the query log): ${first}` });
      }
      return this.found(notes, t.end(time));
    } catch {
      return NOTHING;
    }
  }

  private disable(time: number, why: string): StatementFindings {
    const t = this.tracker;
    this.tracker = null;
    this.disabled = true;
    let records: StatementRecord[] = [];
    try {
      records = t ? t.end(time) : [];
    } catch {
      records = [];
    }
    return this.found([{ level: 'warn', text: `statement tracking stopped for this connection: ${why}` }], records);
  }

  private found(notes: StatementFindings['notes'], records: StatementRecord[]): StatementFindings {
    if (!this.records) return notes.length ? { notes, records: [] } : NOTHING;
    if (notes.length === 0 && records.length === 0) return NOTHING;
    return { notes, records: this.opts.redact ? records.map(redactRecord) : records };
  }
}

/**
 * --redact-passwords: SQL that carries a password (ALTER ROLE … PASSWORD '…', a
 * subscription's connection string) is a secret like a PasswordMessage. Its text span is
 * marked so, before any output sees it: the annotated and raw logs, JSON lines and pcapng
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
 * What is marked secret before the tracker (which marks the parameters of statements it
 * knows): SQL carrying a password; and, on a connection no longer tracked, every Bind
 * parameter, since which statement they go with is not known any more. If that fails,
 * the whole client message is marked: redaction fails closed.
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
