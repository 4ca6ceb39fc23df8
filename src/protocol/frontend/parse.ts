import type { MessageCodec } from '../decoder.js';
import { isMessage, maybeSpan, numbers, span, text, wholeSpans } from '../spans.js';
import { describeTypeOid } from '../type-names.js';
import type { DecodedMessage, Span } from '../types.js';
import { writeMessage } from '../writer.js';
import { readCount, readObjectName } from './fields.js';

export interface Parse {
  /** "The name of the destination prepared statement (an empty string selects the unnamed prepared statement)." */
  statement: string;
  /** "The query string to be parsed." */
  query: string;
  /** "the object ID of the parameter data type" for each parameter the client prespecifies (0: unspecified). */
  parameterTypes: number[];
}

/**
 * Parse (F, 'P'):
 *   String — "The name of the destination prepared statement (an empty string selects the
 *            unnamed prepared statement)."
 *   String — "The query string to be parsed."
 *   Int16  — "The number of parameter data types specified (can be zero). Note that this is
 *            not an indication of the number of parameters that might appear in the query
 *            string, only the number that the frontend wants to prespecify types for."
 *   Int32[] — "Specifies the object ID of the parameter data type. Placing a zero here is
 *            equivalent to leaving the type unspecified."
 */
export const parse: MessageCodec<Parse> = {
  name: 'Parse',
  // With a statement context that redacts (--redact-passwords), SQL carrying a password is marked secret.
  readsContext: true,
  decode(r, ctx) {
    readObjectName(r, 'destination prepared statement', 'prepared statement', 'destination');
    const sql = r.cstring('query string', 'query string to be parsed');
    if (ctx.statements?.sqlIsSecret(sql)) r.last!.secret = true;
    r.group('parameter types', () => {
      const n = readCount(r, 'number of parameter data types', 4, (c) =>
        c === 0 ? 'no parameter data types specified' : c === 1 ? '1 parameter data type specified' : `${c} parameter data types specified`,
      );
      const oids: number[] = [];
      // OIDs are unsigned 32-bit.
      for (let i = 0; i < n; i++) oids.push(r.uint32('parameter type OID', (oid) => `$${i + 1}: ${describeTypeOid(oid)}`));
      return oids;
    });
  },
  fields(m) {
    const spans = wholeSpans(m, 'Parse', isMessage(m, 'frontend', 'P'));
    return {
      statement: text(m, span(m, spans, 'destination prepared statement')),
      query: text(m, span(m, spans, 'query string')),
      parameterTypes: numbers(m, span(m, spans, 'parameter types')),
    };
  },
  encode(f) {
    return writeMessage(
      'P',
      'Parse',
      (w) => {
        w.cstring(f.statement, 'destination prepared statement');
        w.cstring(f.query, 'query string');
        w.int16(f.parameterTypes.length, 'number of parameter data types');
        for (const oid of f.parameterTypes) w.uint32(oid, 'parameter type OID');
      },
      8 + Buffer.byteLength(f.statement) + Buffer.byteLength(f.query) + 4 * f.parameterTypes.length,
    );
  },
};

/** The span of a Parse's query string, if it was read. */
export function parseQuerySpan(m: DecodedMessage): Span | undefined {
  return maybeSpan(m.spans, 'query string');
}

/**
 * A Parse's fields as far as they were read (a huge query not kept whole has no query
 * string; a malformed list of types none): for the statement tracker, which follows huge
 * and broken messages too. Whole messages: parse.fields(m).
 */
export function parseAsRead(m: DecodedMessage): Partial<Parse> {
  const out: Partial<Parse> = {};
  const statement = maybeSpan(m.spans, 'destination prepared statement')?.value;
  const query = parseQuerySpan(m)?.value;
  const types = maybeSpan(m.spans, 'parameter types')?.value;
  if (typeof statement === 'string') out.statement = statement;
  if (typeof query === 'string') out.query = query;
  if (Array.isArray(types)) out.parameterTypes = types.filter((o): o is number => typeof o === 'number');
  return out;
}
