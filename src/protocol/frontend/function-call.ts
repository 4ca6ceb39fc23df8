import type { MessageDecoder } from '../decoder.js';
import { readCount, readFormatCode, readFormatCodes, readValues, valueCountMeaning } from './fields.js';

/**
 * FunctionCall (F, 'F') — the legacy fast-path interface:
 *   Int32   — "Specifies the object ID of the function to call."
 *   Int16   — "The number of argument format codes that follow (denoted C below)."
 *   Int16[C] — "The argument format codes."
 *   Int16   — "Specifies the number of arguments being supplied to the function."
 *   then per argument: Int32 length ("-1 indicates a NULL argument value. No value bytes
 *   follow in the NULL case.") and Byten value,
 *   Int16   — "The format code for the function result."
 */
export const functionCall: MessageDecoder = {
  name: 'FunctionCall',
  decode(r) {
    // OIDs are unsigned 32-bit.
    r.uint32('function OID');
    const codes = readFormatCodes(r, 'argument format codes', 'argument', 'arguments');
    const n = readCount(r, 'number of arguments', 4, (c) => valueCountMeaning(c, codes.length, 'argument', 'arguments'));
    readValues(r, 'argument', n, codes);
    readFormatCode(r, 'result format code', 'function result');
  },
};
