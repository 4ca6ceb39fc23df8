import type { MessageCodec } from '../decoder.js';
import { chr, isMessage, span, stringAt, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';

const STATUS: Record<string, string> = {
  I: 'idle',
  T: 'in a transaction block',
  E: 'in a failed transaction block',
};

/**
 * ReadyForQuery (B, 'Z'): Byte1 — current backend transaction status indicator:
 * 'I' if idle (not in a transaction block); 'T' if in a transaction block; 'E' if in a
 * failed transaction block (queries will be rejected until block is ended).
 */
export interface ReadyForQuery {
  /** Current backend transaction status indicator: idle, in a transaction block, in a failed one. */
  status: 'I' | 'T' | 'E';
}

export const readyForQuery: MessageCodec<ReadyForQuery> = {
  name: 'ReadyForQuery',
  readsContext: false,
  decode(r) {
    const s = r.char('status', (c) => STATUS[c]);
    if (!(s in STATUS)) r.fail('bad-value', `a transaction status of 'I', 'T' or 'E', got ${JSON.stringify(s)}`, r.pos - 1);
  },
  fields(m) {
    const spans = wholeSpans(m, 'ReadyForQuery', isMessage(m, 'backend', 'Z'));
    return { status: chr(m, span(m, spans, 'status')) as ReadyForQuery['status'] };
  },
  encode(f) {
    return writeMessage('Z', 'ReadyForQuery', (w) => {
      if (!(f.status in STATUS)) w.fail('status', `'I', 'T' or 'E', got ${JSON.stringify(f.status)}`);
      w.char(f.status, 'status');
    });
  },
};

/** A ReadyForQuery's status letter as sent, if it was read (even one the documentation does not define): for the statement context. */
export function readyStatus(m: DecodedMessage): string | undefined {
  // Type, length, then the status.
  return stringAt(m.spans, 'status', 2);
}
