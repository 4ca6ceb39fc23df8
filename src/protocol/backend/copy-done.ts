import { emptyMessage } from './empty.js';

/**
 * CopyDone (F & B): Byte1('c') — "Identifies the message as a COPY-complete indicator."
 * Int32(4) — the length; no body follows.
 * The server sends it after the last CopyData of COPY TO STDOUT and at the end of its
 * half of a CopyBoth stream (the client's CopyDone is decoded by frontend/).
 */
export const copyDone = emptyMessage('CopyDone');
