import { clip } from '../protocol/clip.js';
import type { ConversationOptions } from '../protocol/conversation.js';
import type { StatementContext } from '../protocol/statement-context.js';
import type { CodecEvent, DecodedMessage } from '../protocol/types.js';
import type { StatementRecord } from './records.js';
import { redactRecord, redactSql, StatementTracker, type DecodeValue } from './statements/index.js';

export interface StatementAnalysisOptions {
  /**
   * --redact-passwords: SQL carrying a password and the parameters that go with it are
   * marked secret while decoding (whatever else is on), and records and status lines carry
   * no password literal.
   */
  redact: boolean;
  /** Type Bind parameters and DataRow columns while decoding (default true): for the annotated log and JSON lines. */
  typed?: boolean;
  /** Emit statement records (default true): for the query log, JSON lines and the summary. */
  records?: boolean;
  /** Reads values as their types (default: src/protocol/values' decodeValue); for tests. */
  decode?: DecodeValue;
  /**
   * A test mode: the conversation deep-freezes every message right after decoding it, so
   * that anything that writes to a decoded message afterwards (this analysis, an output)
   * throws. See Conversation's freezeDecoded.
   */
  freezeDecoded?: boolean;
}

/**
 * What the connection's Conversation must be created with for this analysis: a statement
 * context that types values and marks secrets while decoding (src/protocol/statement-context.ts).
 * Pass the Conversation's context (`conv.statements`) to ConnectionStatements.
 */
export function decodingOptions(opts: StatementAnalysisOptions): Pick<ConversationOptions, 'statements' | 'freezeDecoded'> {
  const out: Pick<ConversationOptions, 'statements' | 'freezeDecoded'> = { statements: { typeValues: opts.typed ?? true, redact: opts.redact, decodeValue: opts.decode } };
  if (opts.freezeDecoded) out.freezeDecoded = true;
  return out;
}

/** What two users of the analysis ask of it, together (the outputs and the inspector, say); null: nobody asks. */
export function mergeAnalysis(a: StatementAnalysisOptions | null, b: StatementAnalysisOptions | null): StatementAnalysisOptions | null {
  if (!a || !b) return a ?? b;
  return { redact: a.redact || b.redact, typed: (a.typed ?? true) || (b.typed ?? true), records: (a.records ?? true) || (b.records ?? true) };
}

/** What the analysis says about one event of the conversation: status lines first, then records. */
export interface StatementFindings {
  notes: { level: 'info' | 'warn'; text: string }[];
  records: StatementRecord[];
}

const NOTHING: StatementFindings = Object.freeze({ notes: [], records: [] }) as unknown as StatementFindings;

/**
 * One connection's statements: every message of the client's conversation goes through
 * `observe`, and the statements it completes come back to be emitted after it. Typed
 * values and secret marks are not its business: the connection's Conversation sets them
 * while decoding, from its statement context (decodingOptions); this only reads (the
 * messages, and what the context says each did). It never
 * throws: a tracker that fails stops tracking this connection, with one note, and so does
 * the decoding context's failure (a bug, or a framing error); either way the decoding
 * context stops too, so that from then on, when redacting, every Bind parameter is marked
 * secret (the statement they belong to is no longer known: redaction fails closed).
 */
export class ConnectionStatements {
  private tracker: StatementTracker | null;
  private disabled = false;
  private readonly records: boolean;

  constructor(
    conn: number,
    private readonly opts: StatementAnalysisOptions,
    /** The statement context the connection's Conversation decodes with, if any (`conv.statements`). */
    private readonly decoding: StatementContext | null = null,
  ) {
    this.records = opts.records ?? true;
    // The tracker reads what each message did from the conversation's own statement context.
    this.tracker = new StatementTracker({ conn, decode: opts.decode, redact: opts.redact, records: this.records }, decoding);
  }

  /** Still tracking, with nothing held or begun: a fresh one (on a fresh statement context) would go on the same. */
  get quiet(): boolean {
    return !this.disabled && this.tracker !== null && this.tracker.quiet;
  }

  /** A codec event of the client's conversation (forwarded, or said or taken by pgscope). */
  observe(ev: CodecEvent, time: number, seen?: DecodedMessage): StatementFindings {
    if (this.disabled || !this.tracker) return NOTHING;
    try {
      // After a framing error the codec cannot find message boundaries again.
      if (ev.kind === 'error') return this.disable(time, 'the conversation can no longer be decoded');
      if (ev.kind !== 'message') return NOTHING;
      // The decoding context failed at this message (its typing or its bookkeeping).
      const failure = this.decoding?.failure;
      if (failure && failure.frame === ev.message.frame) return this.disable(time, failure.why);
      return this.found([], this.tracker.observe(ev.message, time, seen));
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
    this.decoding?.fail(why);
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
