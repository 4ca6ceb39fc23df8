import { emptyMessage, type NoFields } from './empty.js';

/** EmptyQueryResponse has no fields. */
export type EmptyQueryResponse = NoFields;

/**
 * EmptyQueryResponse (B): Byte1('I') — "Identifies the message as a response to an empty query string. (This substitutes for CommandComplete.)"
 * Int32(4) — the length; no body follows.
 */
export const emptyQueryResponse = emptyMessage('EmptyQueryResponse', 'I');
