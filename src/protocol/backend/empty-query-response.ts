import { emptyMessage } from './empty.js';

/**
 * EmptyQueryResponse (B): Byte1('I') — "Identifies the message as a response to an empty query string. (This substitutes for CommandComplete.)"
 * Int32(4) — the length; no body follows.
 */
export const emptyQueryResponse = emptyMessage('EmptyQueryResponse');
