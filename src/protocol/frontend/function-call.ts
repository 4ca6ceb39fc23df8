import { nullableValueOf } from '../backend/nullable-value.js';
import type { MessageCodec } from '../decoder.js';
import { isMessage, num, numbers, span, spansNamed, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';
import { readCount, readFormatCode, readFormatCodes, readValues, valueCountMeaning, valuesSize, writeFormatCode, writeFormatCodes, writeValues } from './fields.js';

export interface FunctionCall {
  /** "Specifies the object ID of the function to call." */
  functionOid: number;
  /** "The argument format codes": none (all text), one (for all), or one per argument. */
  argumentFormats: number[];
  /** The arguments; null for NULL. */
  arguments: (Buffer | null)[];
  /** "The format code for the function result": 0 text, 1 binary. */
  resultFormat: number;
}

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
export const functionCall: MessageCodec<FunctionCall> = {
  name: 'FunctionCall',
  readsContext: false,
  decode(r) {
    // OIDs are unsigned 32-bit.
    r.uint32('function OID');
    const codes = readFormatCodes(r, 'argument format codes', 'argument', 'arguments');
    const n = readCount(r, 'number of arguments', 4, (c) => valueCountMeaning(c, codes.length, 'argument', 'arguments'));
    readValues(r, 'argument', n, codes);
    readFormatCode(r, 'result format code', 'function result');
  },
  fields(m) {
    const spans = wholeSpans(m, 'FunctionCall', isMessage(m, 'frontend', 'F'));
    return {
      functionOid: num(m, span(m, spans, 'function OID')),
      argumentFormats: numbers(m, span(m, spans, 'argument format codes')),
      arguments: spansNamed(spans, 'argument').map((g) => nullableValueOf(m, g)),
      resultFormat: num(m, span(m, spans, 'result format code')),
    };
  },
  encode(f) {
    return writeMessage(
      'F',
      'FunctionCall',
      (w) => {
        w.uint32(f.functionOid, 'function OID');
        writeFormatCodes(w, f.argumentFormats, 'argument');
        writeValues(w, f.arguments, 'number of arguments');
        writeFormatCode(w, f.resultFormat, 'result format code');
      },
      16 + valuesSize(f.arguments) + 2 * f.argumentFormats.length,
    );
  },
};
