import type { MessageDecoder } from '../decoder.js';
import { readObjectName, readTarget } from './fields.js';

/**
 * Close (F, 'C'):
 *   Byte1  — "'S' to close a prepared statement; or 'P' to close a portal."
 *   String — "The name of the prepared statement or portal to close (an empty string
 *            selects the unnamed prepared statement or portal)."
 */
export const close: MessageDecoder = {
  name: 'Close',
  decode(r) {
    const kind = readTarget(r, 'close');
    readObjectName(r, 'name', kind);
  },
};
