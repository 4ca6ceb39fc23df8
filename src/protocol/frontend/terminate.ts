import { emptyMessage, type NoFields } from '../backend/empty.js';

/** Terminate has no fields. */
export type Terminate = NoFields;

/** Terminate (F, 'X'): no body — the client is closing the connection. */
export const terminate = emptyMessage('Terminate', 'X', 'frontend');
