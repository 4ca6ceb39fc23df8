/**
 * CopyDone (F & B, 'c'): no body — "Identifies the message as a COPY-complete indicator."
 * One codec for both directions (backend/copy-done.ts): the client sends it after its last
 * CopyData of COPY FROM STDIN and at the end of its half of a CopyBoth stream.
 */
export { copyDone } from '../backend/copy-done.js';
