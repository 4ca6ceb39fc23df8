import { emptyMessage, type NoFields } from './empty.js';

/** CloseComplete has no fields. */
export type CloseComplete = NoFields;

/**
 * CloseComplete (B): Byte1('3') — "Identifies the message as a Close-complete indicator."
 * Int32(4) — the length; no body follows.
 */
export const closeComplete = emptyMessage('CloseComplete', '3');
