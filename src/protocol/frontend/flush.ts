import { emptyMessage, type NoFields } from '../backend/empty.js';

/** Flush has no fields. */
export type Flush = NoFields;

/** Flush (F, 'H'): no body — asks the server to deliver any pending output now. */
export const flush = emptyMessage('Flush', 'H', 'frontend');
