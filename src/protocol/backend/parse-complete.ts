import { emptyMessage, type NoFields } from './empty.js';

/** ParseComplete has no fields. */
export type ParseComplete = NoFields;

/**
 * ParseComplete (B): Byte1('1') — "Identifies the message as a Parse-complete indicator."
 * Int32(4) — the length; no body follows.
 */
export const parseComplete = emptyMessage('ParseComplete', '1');
