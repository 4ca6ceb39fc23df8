import type { MessageDecoder } from '../decoder.js';
import { readCount, readFormatCodes, readObjectName, readValues, valueCountMeaning } from './fields.js';

/**
 * Bind (F, 'B'):
 *   String  — "The name of the destination portal (an empty string selects the unnamed portal)."
 *   String  — "The name of the source prepared statement (an empty string selects the unnamed
 *             prepared statement)."
 *   Int16   — "The number of parameter format codes that follow (denoted C below)."
 *   Int16[C] — "The parameter format codes."
 *   Int16   — "The number of parameter values that follow (possibly zero)."
 *   then per parameter: Int32 length (-1 = NULL, no value bytes) and Byten value,
 *   Int16   — "The number of result-column format codes that follow (denoted R below)."
 *   Int16[R] — "The result-column format codes."
 */
export const bind: MessageDecoder = {
  name: 'Bind',
  decode(r) {
    readObjectName(r, 'destination portal', 'portal', 'destination');
    readObjectName(r, 'source prepared statement', 'prepared statement', 'source');
    const codes = readFormatCodes(r, 'parameter format codes', 'parameter', 'parameters');
    // Each parameter is at least its Int32 length.
    const n = readCount(r, 'number of parameter values', 4, (c) => valueCountMeaning(c, codes.length, 'parameter value', 'parameter values'));
    readValues(r, 'parameter', n, codes);
    readFormatCodes(r, 'result format codes', 'result-column', 'result columns');
  },
};
