import { emptyMessage, type NoFields } from './empty.js';

/** CopyDone has no fields. */
export type CopyDone = NoFields;

/**
 * CopyDone (F & B): Byte1('c') — "Identifies the message as a COPY-complete indicator."
 * Int32(4) — the length; no body follows.
 * The server sends it after the last CopyData of COPY TO STDOUT and at the end of its
 * half of a CopyBoth stream; the client sends the same (frontend/copy-done.ts is this codec).
 */
export const copyDone = emptyMessage('CopyDone', 'c', 'both');
