import { Conversation, type ConversationOptions } from '../protocol/conversation.js';
import type { Label, ProxyEvent } from './events.js';
import { ConnectionStatements, decodingOptions, type StatementAnalysisOptions, type StatementFindings } from '../analysis/connection-statements.js';

export interface StatementStageOptions extends StatementAnalysisOptions {
  /** Told once if the stage itself fails (a bug): it then passes events on untouched. */
  warn?: (text: string) => void;
}

/**
 * The client's conversation: forwarded traffic, plus what pgscope itself said to the
 * client or consumed from it (--override-auth authentication), which the tracker ignores.
 */
export const CONVERSATION: ReadonlySet<Label> = new Set<Label>(['client -> server', 'server -> client', 'client -> script', 'script -> client']);

/**
 * Statement analysis over a stream of events of many connections (a recorded or captured
 * session; tests): each connection's codec events go through its own ConnectionStatements
 * before they are passed on, its statements follow the message that completed them, and
 * what is left when it closes comes before its closed fact. Typed values and secret marks
 * are set while decoding: decode each connection with the Conversation `conversation(conn)`
 * gives (events from another Conversation get statements, but no typed values or marks).
 * A live proxy's sessions own their ConnectionStatements directly (src/session/core.ts).
 */
export class StatementStage {
  private readonly connections = new Map<number, ConnectionStatements>();
  private failed = false;

  constructor(
    private readonly next: (ev: ProxyEvent) => void,
    private readonly opts: StatementStageOptions = { redact: false },
  ) {}

  /**
   * A Conversation for connection `conn` that types values and marks secrets as this
   * stage's options ask, and whose statement context the connection's analysis follows.
   */
  conversation(conn: number, opts: Omit<ConversationOptions, 'statements' | 'freezeDecoded'> = {}): Conversation {
    const conv = new Conversation({ ...opts, ...decodingOptions(this.opts) });
    this.connections.set(conn, new ConnectionStatements(conn, this.opts, conv.statements));
    return conv;
  }

  write(ev: ProxyEvent): void {
    try {
      this.handle(ev);
    } catch (e) {
      // Not a tracker (ConnectionStatements catches those): the stage's own code or the next step.
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
    if (this.failed) {
      this.next(ev);
      return;
    }
    if (ev.kind === 'codec' && CONVERSATION.has(ev.label)) {
      let c = this.connections.get(ev.conn);
      if (!c) {
        c = new ConnectionStatements(ev.conn, this.opts);
        this.connections.set(ev.conn, c);
      }
      const found = c.observe(ev.event, ev.time);
      this.notes(ev.conn, ev.time, found);
      this.next(ev);
      this.records(ev.conn, ev.time, found);
      return;
    }
    if (ev.kind === 'connection' && ev.phase === 'closed') {
      const c = this.connections.get(ev.conn);
      this.connections.delete(ev.conn);
      if (c) {
        const found = c.end(ev.time);
        this.notes(ev.conn, ev.time, found);
        // Statements first: sinks may summarise a connection when they see it close.
        this.records(ev.conn, ev.time, found);
      }
    }
    this.next(ev);
  }

  private notes(conn: number, time: number, found: StatementFindings): void {
    for (const n of found.notes) this.next({ kind: 'status', conn, time, level: n.level, text: n.text });
  }

  private records(conn: number, time: number, found: StatementFindings): void {
    for (const record of found.records) this.next({ kind: 'statement', conn, time, record });
  }
}
