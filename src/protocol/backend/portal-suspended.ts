import { emptyMessage, type NoFields } from './empty.js';

/** PortalSuspended has no fields. */
export type PortalSuspended = NoFields;

/**
 * PortalSuspended (B): Byte1('s') — "Identifies the message as a portal-suspended indicator."
 * Int32(4) — the length; no body follows.
 * "Note this only appears if an Execute message's row-count limit was reached."
 */
export const portalSuspended = emptyMessage('PortalSuspended', 's');
