import { emptyMessage } from './empty.js';

/**
 * CloseComplete (B): Byte1('3') — "Identifies the message as a Close-complete indicator."
 * Int32(4) — the length; no body follows.
 */
export const closeComplete = emptyMessage('CloseComplete');
