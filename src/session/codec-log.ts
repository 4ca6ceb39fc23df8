import type { ConnectionStatements } from '../analysis/connection-statements.js';
import type { CodecEvent } from '../protocol/types.js';
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
