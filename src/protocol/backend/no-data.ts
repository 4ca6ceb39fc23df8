import { emptyMessage, type NoFields } from './empty.js';

/** NoData has no fields. */
export type NoData = NoFields;

/**
 * NoData (B): Byte1('n') — "Identifies the message as a no-data indicator."
 * Int32(4) — the length; no body follows.
 * It answers Describe of a statement or portal that returns no rows.
 */
export const noData = emptyMessage('NoData', 'n');
