import { ConnectionStatements, decodingOptions, type StatementAnalysisOptions } from '../analysis/connection-statements.js';
import { Conversation, type ConversationState } from '../protocol/conversation.js';
import type { Direction } from '../protocol/types.js';
import { logCodecEvent, logReplaced, logStatementsEnd, replacementOf, type CodecLog } from './codec-log.js';
import type { Label, ProxyEvent } from './events.js';

/**
 * Decoding off the forwarding thread. A session whose settings say `decodeElsewhere`
 * decodes its connection's startup itself (it decides on those messages), and at the first
 * quiet point of the forwarding phase (Conversation.quietState: between messages, no COPY,
 * nothing the statement analysis holds) it hands the conversation over: a `hand-over`, then
 * every chunk of the client's conversation as it forwards it (`chunk`). From then on the
 * forwarding thread only frames, for the few messages it needs itself (ESSENTIAL_TYPES);
 * the DecodeStage, on another thread, decodes, follows statements and makes the events the
 * session would have logged, in the same order, with the same times.
 */
export interface HandOver {
  kind: 'hand-over';
  conn: number;
  /** When the connection began (for `forwarded` events' elapsed seconds). */
  started: number;
  state: ConversationState;
}

/** Bytes of the client's conversation, as the session forwarded (or sent) them. */
export interface ChunkToDecode {
  kind: 'chunk';
  conn: number;
  /** When they arrived: every event made of them has this time. */
  time: number;
  label: Label;
  direction: Direction;
  bytes: Buffer;
  /** Bytes to report forwarded after their messages (a `forwarded` event; 0: none, pgscope's own). */
  forwarded: number;
  /** Messages of these bytes a hook took, or replaced, as the session logs them. */
  marks?: ChunkMark[];
}

/**
 * A message (by its offset) a hook took (`label`: client -> script, server -> script), or
 * replaced with one message of pgscope's (`replacedBy`: both are logged, see logReplaced).
 */
export interface ChunkMark {
  offset: number;
  label: Label;
  replacedBy?: Buffer;
}

export type DecodeItem = HandOver | ChunkToDecode;

/** What a decode thread is fed, in the order it happened: the proxy's own events, and decode items. */
export type DecodeEntry = { kind: 'event'; event: ProxyEvent } | DecodeItem;

/** How the sessions decode (the same as their SessionSettings). */
export interface DecodeSettings {
  retain?: number;
  statements?: StatementAnalysisOptions | null;
  wire?: boolean;
}

/**
 * The decoding the sessions handed over, for every connection: takes the entries in order
 * and logs what the sessions would have logged themselves. Sans-I/O (the decode thread
 * feeds it; so can a test, in-process).
 */
export class DecodeStage {
  private readonly conns = new Map<number, HandedOver>();

  constructor(
    private readonly settings: DecodeSettings,
    private readonly log: (ev: ProxyEvent) => void,
  ) {}

  take(entry: DecodeEntry): void {
    switch (entry.kind) {
      case 'hand-over':
        this.conns.set(entry.conn, new HandedOver(entry, this.settings, this.log));
        return;
      case 'chunk': {
        const c = this.conns.get(entry.conn);
        if (!c || c.failed) return;
        try {
          c.chunk(entry);
        } catch (e) {
          // A bug: this connection's decoding stops here, with one line; the others go on.
          c.failed = true;
          this.log({ kind: 'status', conn: entry.conn, time: entry.time, level: 'error', text: `decoding stopped for this connection (internal error: ${e instanceof Error ? e.message : String(e)})` });
        }
        return;
      }
      case 'event': {
        const ev = entry.event;
        // What the analysis has left comes before the connection's last fact, as the session logs it.
        if (ev.kind === 'connection' && ev.phase === 'closed') {
          const c = this.conns.get(ev.conn);
          if (c) {
            this.conns.delete(ev.conn);
            logStatementsEnd(c, ev.time);
          }
        }
        this.log(ev);
        return;
      }
    }
  }

  /** Connections handed over and not closed yet. */
  get open(): number {
    return this.conns.size;
  }
}

/** One connection's conversation, taken up where its session handed it over. */
class HandedOver implements CodecLog {
  readonly id: number;
  readonly statements: ConnectionStatements | null;
  private readonly conv: Conversation;
  private readonly started: number;
  private readonly wire: boolean;
  /** Decoding failed (a bug): the rest of the connection is not decoded. */
  failed = false;

  constructor(
    h: HandOver,
    settings: DecodeSettings,
    readonly log: (ev: ProxyEvent) => void,
  ) {
    this.id = h.conn;
    this.started = h.started;
    this.wire = settings.wire ?? false;
    const follow = settings.statements ? decodingOptions(settings.statements) : {};
    this.conv = Conversation.resumed(h.state, { retain: settings.retain, ...follow });
    this.statements = settings.statements ? new ConnectionStatements(h.conn, settings.statements, this.conv.statements) : null;
  }

  chunk(c: ChunkToDecode): void {
    const offset = this.conv.framer(c.direction).offset;
    for (const ev of this.conv.push(c.direction, c.bytes)) {
      const mark = c.marks && ev.kind === 'message' ? c.marks.find((m) => m.offset === ev.message.frame.offset) : undefined;
      if (mark?.replacedBy && ev.kind === 'message') {
        const sent = replacementOf(mark.replacedBy, ev.message, this.conv.ctx);
        if (sent) {
          logReplaced(this, ev, sent, c.time);
          continue;
        }
      }
      logCodecEvent(this, mark?.label ?? c.label, ev, c.time);
    }
    if (this.wire && c.bytes.length > 0) this.log({ kind: 'wire', conn: this.id, time: c.time, label: c.label, direction: c.direction, offset, bytes: c.bytes });
    if (c.forwarded > 0) this.log({ kind: 'forwarded', conn: this.id, time: c.time, label: c.label, bytes: c.forwarded, elapsed: (c.time - this.started) / 1000 });
  }
}
