import { emptyMessage, type NoFields } from '../backend/empty.js';

/** Sync has no fields. */
export type Sync = NoFields;

/** Sync (F, 'S'): no body — ends an extended-query cycle; the server answers ReadyForQuery. */
export const sync = emptyMessage('Sync', 'S', 'frontend');
