import type { ConnectionStatements } from '../analysis/connection-statements.js';
import type { DecodeContext } from '../protocol/context.js';
import { decodeFrame } from '../protocol/decode.js';
import type { CodecEvent, DecodedMessage } from '../protocol/types.js';
import type { Label, ProxyEvent } from './events.js';
import { CONVERSATION } from './statement-stage.js';

/** One connection's client conversation as it is logged: its id, its statement analysis, where events go. */
export interface CodecLog {
  readonly id: number;
  readonly statements: ConnectionStatements | null;
  log(event: ProxyEvent): void;
}

/**
 * A codec event, logged; one of the client's conversation goes through the statement
 * analysis first (its notes come before it), and the statements it completed follow it.
 * (Typed values and secret marks were set while decoding, by the conversation.) The same
 * on the forwarding thread (SessionCore) and on a decode thread (DecodeStage).
 */
export function logCodecEvent(to: CodecLog, label: Label, event: CodecEvent, time: number): void {
  if (event.kind === 'message-start') return;
  const found = to.statements && CONVERSATION.has(label) ? to.statements.observe(event, time) : null;
  if (found) for (const n of found.notes) to.log({ kind: 'status', conn: to.id, time, level: n.level, text: n.text });
  to.log({ kind: 'codec', conn: to.id, time, label, event });
  if (found) for (const record of found.records) to.log({ kind: 'statement', conn: to.id, time, record });
}

/** The connection is over: what the statement analysis has left (notes, then records). */
export function logStatementsEnd(to: CodecLog, time: number): void {
  const found = to.statements?.end(time);
  if (!found) return;
  for (const n of found.notes) to.log({ kind: 'status', conn: to.id, time, level: n.level, text: n.text });
  for (const record of found.records) to.log({ kind: 'statement', conn: to.id, time, record });
}

/**
 * A server message pgscope took, and the one message of its own the client got in its
 * place (a hook's replacement: a fault rule's error). Both are logged; the statement
 * analysis reads what the taken one did, with the fields of the one the client saw, so
 * that a statement's record says the error the client got.
 */
export function logReplaced(to: CodecLog, taken: Extract<CodecEvent, { kind: 'message' }>, sent: DecodedMessage, time: number): void {
  const found = to.statements ? to.statements.observe(taken, time, sent) : null;
  if (found) for (const n of found.notes) to.log({ kind: 'status', conn: to.id, time, level: n.level, text: n.text });
  to.log({ kind: 'codec', conn: to.id, time, label: 'server -> script', event: taken });
  to.log({ kind: 'codec', conn: to.id, time, label: 'script -> client', event: { kind: 'message', message: sent } });
  if (found) for (const record of found.records) to.log({ kind: 'statement', conn: to.id, time, record });
}

/** `bytes` as one whole server message of the same type as `m` (a replacement of it), decoded; else null. */
export function replacementOf(bytes: Buffer, m: DecodedMessage, ctx: DecodeContext): DecodedMessage | null {
  if (bytes.length < 5 || m.frame.type === null || bytes.toString('latin1', 0, 1) !== m.frame.type || bytes.readInt32BE(1) + 1 !== bytes.length) return null;
  const frame = { ...m.frame, length: bytes.length - 1, size: bytes.length, bytes, complete: true };
  const sent = decodeFrame(frame, ctx);
  return sent.error ? null : sent;
}
