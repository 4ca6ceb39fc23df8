import type { DecodedMessage, Direction } from '../protocol/types.js';

/**
 * Where a decision can be made for each forwarded message: pass it, hold it back, replace
 * it, add messages before or after it, answer its sender instead, drop it, or end the
 * connection. Fault rules (and a test suite's own code, through startProxy) are hooks.
 *
 * When the session asks: in the forwarding phase, for every message of a type the hook
 * `wants`, once the message is whole and decoded (a message longer than the decoding limit,
 * 1 MiB, is asked about from its header alone: `bytes` null, and only `close` and `delayMs`
 * are honoured; then it streams through). Messages of other types, and every message when no hook
 * is installed, pass as they came, written before they are decoded.
 *
 * Order is kept: what a decision sends in a direction goes out after everything decided
 * before it in that direction, and a delay holds back everything after it too.
 */
export interface MessageHook {
  /** From a message's header alone: is it asked about? (Cheap; called for every message.) */
  wants(direction: Direction, type: string): boolean;
  /** The decision for one message; null or undefined: pass it as it came. */
  decide(view: MessageView): MessageDecision | null | undefined;
  /**
   * The client's StartupMessage, before pgscope connects to the server: only `reply`,
   * `close`, `delayMs` and an empty `forward` are honoured (a refused startup, a slow one).
   */
  startup?(view: MessageView): MessageDecision | null | undefined;
  /** A client connected (before it sent anything): a decision with `close` ends it at once (a refused connection). */
  connected?(conn: number): MessageDecision | null | undefined;
  /** The connection ended: forget what was kept for it. */
  ended?(conn: number): void;
}

export interface MessageView {
  /** The connection's number (#N in the log). */
  conn: number;
  /** frontend: from the client, toward the server; backend: from the server. */
  direction: Direction;
  /** The decoded message (final: nothing changes it afterwards). */
  message: DecodedMessage;
  /** The message's bytes as they came, or null for a message too long to hold (header only). */
  bytes: Buffer | null;
  /**
   * The SQL a client's Query, Parse, Bind, Describe or Execute runs (a Query's whole string;
   * else that of its prepared statement), as it was at this message; null for any other.
   */
  sql: string | null;
}

export interface MessageDecision {
  /**
   * What goes on toward the message's destination in its place: encoded messages (see
   * src/protocol's encoders). Absent: the message itself; empty: nothing (dropped).
   */
  forward?: Buffer[];
  /** Sent back to the message's sender, after `forward` (an answer pgscope makes up: an ErrorResponse, a ReadyForQuery). */
  reply?: Buffer[];
  /**
   * Hold this decision's output, and everything after it in the same direction, this many
   * milliseconds first. Infinity: until the connection ends (a server that stops answering).
   */
  delayMs?: number;
  /**
   * Write what goes on toward the destination in pieces of at most this many bytes, each
   * a write of its own (a network that splits messages: TCP segments, a slow link).
   */
  pieces?: number;
  /** Then end the connection: `end` quietly (after what was sent), `reset` abruptly. */
  close?: 'end' | 'reset';
  /** Why, in a few words, for the log ("fault rule 2: error 40001"). */
  note?: string;
}

/** What a decision did to a message, for the log: "Query not forwarded, answered with 2 message(s)". */
export function describeDecision(m: DecodedMessage, d: MessageDecision): string {
  const parts: string[] = [];
  if (d.delayMs !== undefined) parts.push(d.delayMs === Infinity ? 'held until the connection ends' : `held ${d.delayMs} ms`);
  if (d.forward !== undefined) parts.push(d.forward.length === 0 ? 'not forwarded' : `replaced by ${d.forward.length === 1 ? 'a message' : `${d.forward.length} messages`} of pgscope's`);
  if (d.reply && d.reply.length > 0) parts.push(`answered with ${d.reply.length} message(s)`);
  if (d.pieces !== undefined) parts.push(`written in pieces of ${d.pieces} byte(s)`);
  if (d.close) parts.push(d.close === 'reset' ? 'connection reset' : 'connection closed');
  return `${m.name} ${parts.join(', ')}`;
}

/**
 * Several hooks as one (fault rules, then a test suite's own hook): each message goes to
 * the first that wants it and decides something; connections are refused by the first that
 * refuses; every hook hears of ended connections.
 */
export function combineHooks(hooks: readonly (MessageHook | null | undefined)[]): MessageHook | null {
  const all = hooks.filter((h): h is MessageHook => Boolean(h));
  if (all.length <= 1) return all[0] ?? null;
  return {
    wants: (direction, type) => all.some((h) => h.wants(direction, type)),
    decide(view) {
      for (const h of all) {
        if (!h.wants(view.direction, view.message.frame.type ?? '')) continue;
        const d = h.decide(view);
        if (d) return d;
      }
      return null;
    },
    startup(view) {
      for (const h of all) {
        const d = h.startup?.(view);
        if (d) return d;
      }
      return null;
    },
    connected(conn) {
      for (const h of all) {
        const d = h.connected?.(conn);
        if (d) return d;
      }
      return null;
    },
    ended(conn) {
      for (const h of all) h.ended?.(conn);
    },
  };
}
