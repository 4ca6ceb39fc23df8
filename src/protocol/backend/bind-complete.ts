import { emptyMessage, type NoFields } from './empty.js';

/** BindComplete has no fields. */
export type BindComplete = NoFields;

/**
 * BindComplete (B): Byte1('2') — "Identifies the message as a Bind-complete indicator."
 * Int32(4) — the length; no body follows.
 */
export const bindComplete = emptyMessage('BindComplete', '2');
