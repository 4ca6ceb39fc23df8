import { emptyMessage } from './empty.js';

/**
 * ParseComplete (B): Byte1('1') — "Identifies the message as a Parse-complete indicator."
 * Int32(4) — the length; no body follows.
 */
export const parseComplete = emptyMessage('ParseComplete');
