import type { DecodedMessage, Direction } from '../protocol/types.js';

/**
 * Where a decision can be made for each forwarded message: pass it, hold it back, replace
 * it, add messages before or after it, answer its sender instead, drop it, or end the
 * connection. Fault rules (and a test suite's own code, through startProxy) are hooks.
 *
 * When the session asks: in the forwarding phase, for every message of a type the hook
 * `wants`, once the message is whole and decoded (a message longer than the decoding limit,
 * 1 MiB, is asked about from its header alone: `bytes` null, and only `close` is honoured;
 * the rest of it streams through). Messages of other types, and every message when no hook
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
  /** Then end the connection: `end` quietly (after what was sent), `reset` abruptly. */
  close?: 'end' | 'reset';
  /** Why, in a few words, for the log ("fault rule 2: error 40001"). */
  note?: string;
}
