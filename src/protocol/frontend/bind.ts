import { nullableValueOf, valueLeafOf } from '../backend/nullable-value.js';
import type { MessageCodec } from '../decoder.js';
import { isMessage, maybeSpan, numbers, span, spansNamed, text, wholeSpans } from '../spans.js';
import type { DecodedMessage, Span } from '../types.js';
import { writeMessage } from '../writer.js';
import { readCount, readFormatCodes, readObjectName, readValues, valueCountMeaning, valuesSize, writeFormatCodes, writeValues } from './fields.js';

export interface Bind {
  /** "The name of the destination portal (an empty string selects the unnamed portal)." */
  portal: string;
  /** "The name of the source prepared statement (an empty string selects the unnamed prepared statement)." */
  statement: string;
  /** "The parameter format codes": none (all text), one (for all), or one per parameter. */
  paramFormats: number[];
  /** The parameter values; null for NULL. */
  params: (Buffer | null)[];
  /** "The result-column format codes": none (all text), one (for all), or one per column. */
  resultFormats: number[];
}

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
export const bind: MessageCodec<Bind> = {
  name: 'Bind',
  readsContext: false,
  decode(r) {
    readObjectName(r, 'destination portal', 'portal', 'destination');
    readObjectName(r, 'source prepared statement', 'prepared statement', 'source');
    const codes = readFormatCodes(r, 'parameter format codes', 'parameter', 'parameters');
    // Each parameter is at least its Int32 length.
    const n = readCount(r, 'number of parameter values', 4, (c) => valueCountMeaning(c, codes.length, 'parameter value', 'parameter values'));
    readValues(r, 'parameter', n, codes);
    readFormatCodes(r, 'result format codes', 'result-column', 'result columns');
  },
  fields(m) {
    const spans = wholeSpans(m, 'Bind', isMessage(m, 'frontend', 'B'));
    return {
      portal: text(m, span(m, spans, 'destination portal')),
      statement: text(m, span(m, spans, 'source prepared statement')),
      paramFormats: numbers(m, span(m, spans, 'parameter format codes')),
      params: spansNamed(spans, 'parameter').map((g) => nullableValueOf(m, g)),
      resultFormats: numbers(m, span(m, spans, 'result format codes')),
    };
  },
  encode(f) {
    return writeMessage(
      'B',
      'Bind',
      (w) => {
        w.cstring(f.portal, 'destination portal');
        w.cstring(f.statement, 'source prepared statement');
        writeFormatCodes(w, f.paramFormats, 'parameter');
        writeValues(w, f.params, 'number of parameter values');
        writeFormatCodes(w, f.resultFormats, 'result-column');
      },
      16 + f.portal.length + f.statement.length + valuesSize(f.params) + 2 * (f.paramFormats.length + f.resultFormats.length),
    );
  },
};

/**
 * The span of each parameter's value, as far as the message was read: undefined for
 * NULL. For code that annotates values after decoding (the statement tracker types them
 * or marks them secret).
 */
export function bindParameterValueSpans(m: DecodedMessage): (Span | undefined)[] {
  return spansNamed(m.spans, 'parameter').map(valueLeafOf);
}

/** What a Bind says as far as it was read: a huge one kept in part still names its portal, statement and first parameters. */
export interface BindAsRead {
  portal?: string;
  statement?: string;
  paramFormats?: number[];
  /** The span of each parameter value read (undefined for NULL); a value's span may hold only a retained prefix. */
  paramValues: (Span | undefined)[];
  resultFormats?: number[];
}

/**
 * A Bind's fields as far as they were read, whatever became of the rest (not retained,
 * malformed): for the statement tracker, which follows huge and broken messages too.
 * Whole messages: bind.fields(m).
 */
export function bindAsRead(m: DecodedMessage): BindAsRead {
  const out: BindAsRead = { paramValues: bindParameterValueSpans(m) };
  const str = (name: string): string | undefined => {
    const v = maybeSpan(m.spans, name)?.value;
    return typeof v === 'string' ? v : undefined;
  };
  const codes = (name: string): number[] | undefined => {
    const v = maybeSpan(m.spans, name)?.value;
    return Array.isArray(v) ? v.filter((c): c is number => typeof c === 'number') : undefined;
  };
  const portal = str('destination portal');
  const statement = str('source prepared statement');
  const paramFormats = codes('parameter format codes');
  const resultFormats = codes('result format codes');
  if (portal !== undefined) out.portal = portal;
  if (statement !== undefined) out.statement = statement;
  if (paramFormats) out.paramFormats = paramFormats;
  if (resultFormats) out.resultFormats = resultFormats;
  return out;
}
