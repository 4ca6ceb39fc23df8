import { emptyMessage } from './empty.js';

/**
 * BindComplete (B): Byte1('2') — "Identifies the message as a Bind-complete indicator."
 * Int32(4) — the length; no body follows.
 */
export const bindComplete = emptyMessage('BindComplete');
