import { nullableValueOf, valueLeafOf } from '../backend/nullable-value.js';
import type { MessageCodec } from '../decoder.js';
import { isMessage, numbers, span, spansNamed, text, wholeSpans } from '../spans.js';
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
 * With a statement context (DecodeContext.statements), each value is read as its type
 * (`typed`, and a meaning such as "int4 42"): Parse's parameter type, else
 * ParameterDescription's, in the format its code says; or it is marked `secret` (a
 * statement whose SQL carries a password; with --redact-passwords a value that carries a
 * connection-string password). See StatementContext.bindParameters.
 */
export const bind: MessageCodec<Bind> = {
  name: 'Bind',
  // The statement context (when the conversation follows statements) types the parameter
  // values by their statement's types, or marks them secret.
  readsContext: true,
  decode(r, ctx) {
    readObjectName(r, 'destination portal', 'portal', 'destination');
    const statement = readObjectName(r, 'source prepared statement', 'prepared statement', 'source');
    const codes = readFormatCodes(r, 'parameter format codes', 'parameter', 'parameters');
    // Each parameter is at least its Int32 length.
    const n = readCount(r, 'number of parameter values', 4, (c) => valueCountMeaning(c, codes.length, 'parameter value', 'parameter values'));
    readValues(r, 'parameter', n, codes, n > 0 ? ctx.statements?.bindParameters(statement, codes, r.frame) : null);
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
 * The span of each parameter's value, as far as the message was read: undefined for NULL
 * (or a value whose length was read but not its bytes).
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
  // One pass, no closures: the statement context reads every Bind.
  const out: BindAsRead = { paramValues: [] };
  for (const sp of m.spans) {
    const v = sp.value;
    switch (sp.name) {
      case 'destination portal':
        if (out.portal === undefined && typeof v === 'string') out.portal = v;
        break;
      case 'source prepared statement':
        if (out.statement === undefined && typeof v === 'string') out.statement = v;
        break;
      case 'parameter format codes':
        if (out.paramFormats === undefined && Array.isArray(v)) out.paramFormats = formatCodes(v);
        break;
      case 'parameter':
        out.paramValues.push(valueLeafOf(sp));
        break;
      case 'result format codes':
        if (out.resultFormats === undefined && Array.isArray(v)) out.resultFormats = formatCodes(v);
        break;
    }
  }
  return out;
}

function formatCodes(v: unknown[]): number[] {
  const out: number[] = [];
  for (const c of v) if (typeof c === 'number') out.push(c);
  return out;
}

/** What the statement context keeps of a Bind: the portal and statement it names and its result format codes, as far as they were read. */
export interface BindTarget {
  portal: string | undefined;
  statement: string | undefined;
  resultFormats: readonly number[] | undefined;
}

/** A Bind's portal, statement and result format codes as far as they were read: for the statement context, which reads every Bind. */
export function bindTarget(m: DecodedMessage): BindTarget {
  let portal: string | undefined;
  let statement: string | undefined;
  let resultFormats: readonly number[] | undefined;
  for (const sp of m.spans) {
    const name = sp.name;
    if (name === 'parameter') continue;
    if (name === 'destination portal') {
      if (portal === undefined && typeof sp.value === 'string') portal = sp.value;
    } else if (name === 'source prepared statement') {
      if (statement === undefined && typeof sp.value === 'string') statement = sp.value;
    } else if (name === 'result format codes') {
      // The decoder's own list of numbers (readFormatCodes).
      if (resultFormats === undefined && Array.isArray(sp.value)) resultFormats = sp.value as number[];
    }
  }
  return { portal, statement, resultFormats };
}
