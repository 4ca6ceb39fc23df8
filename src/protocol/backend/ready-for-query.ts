import type { MessageDecoder } from '../decoder.js';

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
export const readyForQuery: MessageDecoder = {
  name: 'ReadyForQuery',
  decode(r) {
    const s = r.char('status', (c) => STATUS[c]);
    if (!(s in STATUS)) r.fail('bad-value', `a transaction status of 'I', 'T' or 'E', got ${JSON.stringify(s)}`, r.pos - 1);
  },
};
