import type { MessageDecoder } from '../decoder.js';
import { readObjectName, readTarget } from './fields.js';

/**
 * Describe (F, 'D'):
 *   Byte1  — "'S' to describe a prepared statement; or 'P' to describe a portal."
 *   String — "The name of the prepared statement or portal to describe (an empty string
 *            selects the unnamed prepared statement or portal)."
 */
export const describe: MessageDecoder = {
  name: 'Describe',
  decode(r) {
    const kind = readTarget(r, 'describe');
    readObjectName(r, 'name', kind);
  },
};
