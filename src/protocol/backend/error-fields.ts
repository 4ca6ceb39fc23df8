import type { MessageCodec } from '../decoder.js';
import type { Reader } from '../reader.js';
import { childrenOf, chr, isMessage, span, spansNamed, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
import { describeSqlstate } from '../sqlstate.js';
import { lookup } from './lookup.js';

/**
 * The fields of ErrorResponse and NoticeResponse ("Error and Notice Message Fields"):
 * each a Byte1 field type and a String value. The names are the documentation's.
 */
interface FieldType {
  name: string;
  /** What the value is; may depend on it. */
  value: (v: string) => string;
}

const SEVERITIES: Record<string, string> = {
  ERROR: 'error: the current command is aborted',
  FATAL: 'fatal error: the session is ending',
  PANIC: 'panic: the server is restarting, all sessions end',
  WARNING: 'warning',
  NOTICE: 'notice',
  DEBUG: 'debugging message',
  INFO: 'information the user asked for',
  LOG: 'message for the server log',
};

/** "A decimal ASCII integer … The first character has index 1, and positions are measured in characters not bytes." */
function position(of: string): (v: string) => string {
  return (v) => (/^[0-9]+$/.test(v) ? `character ${v} of the ${of} (counted from 1)` : `not a decimal integer (a position in the ${of} was expected)`);
}

const FIELD_TYPES: Record<string, FieldType> = {
  // "Severity: the field contents are ERROR, FATAL, or PANIC (in an error message), or
  // WARNING, NOTICE, DEBUG, INFO, or LOG (in a notice message), or a localized translation
  // of one of these. Always present."
  S: { name: 'Severity', value: (v) => lookup(SEVERITIES, v) ?? 'a localized severity (the V field has the untranslated one)' },
  // "This is identical to the S field except that the contents are never localized."
  V: { name: 'Severity (never localized)', value: (v) => lookup(SEVERITIES, v) ?? 'not one of the documented severities' },
  // "Code: the SQLSTATE code for the error (see Appendix A). Not localizable. Always present."
  C: { name: 'Code', value: describeSqlstate },
  M: { name: 'Message', value: () => 'the primary human-readable error message' },
  D: { name: 'Detail', value: () => 'an optional secondary error message carrying more detail' },
  H: { name: 'Hint', value: () => 'an optional suggestion what to do about the problem' },
  P: { name: 'Position', value: position('original query string') },
  // "defined the same as the P field, but it is used when the cursor position refers to an
  // internally generated command rather than the one submitted by the client."
  p: { name: 'Internal position', value: position('internal command') },
  q: { name: 'Internal query', value: () => 'the text of a failed internally-generated command' },
  W: { name: 'Where', value: () => 'the context in which the error occurred (a call stack traceback)' },
  s: { name: 'Schema name', value: () => 'the schema of the object associated with the error' },
  t: { name: 'Table name', value: () => 'the table associated with the error' },
  c: { name: 'Column name', value: () => 'the column associated with the error' },
  d: { name: 'Data type name', value: () => 'the data type associated with the error' },
  n: { name: 'Constraint name', value: () => 'the constraint associated with the error' },
  F: { name: 'File', value: () => 'the source-code file where the error was reported' },
  L: { name: 'Line', value: (v) => (/^[0-9]+$/.test(v) ? `source-code line ${v}` : 'the source-code line number (not a decimal integer)') },
  R: { name: 'Routine', value: () => 'the source-code routine reporting the error' },
};

/**
 * "The message body consists of one or more identified fields, followed by a zero byte as
 * a terminator. Fields can appear in any order." Each field:
 *   Byte1 — "A code identifying the field type; if zero, this is the message terminator
 *           and no string follows."
 *   String — "The field value."
 * "Since more field types might be added in future, frontends should silently ignore
 * fields of unrecognized type": an unknown code is shown, not failed.
 */
function readFields(r: Reader): void {
  let count = 0;
  for (;;) {
    const next = r.peekByte();
    if (next === undefined) r.fail('past-end', 'a zero byte ending the list of fields');
    if (next === 0) {
      r.uint8('terminator', count === 0 ? 'end of fields (none were sent; the documentation says one or more)' : 'end of fields');
      return;
    }
    r.group('field', () => {
      const code = r.char('field type', (c) => lookup(FIELD_TYPES, c)?.name ?? 'unknown field code (the documentation says to ignore it)');
      const type = lookup(FIELD_TYPES, code);
      r.cstring('value', type ? type.value : () => 'the value of an unknown field');
    });
    count++;
  }
}

/** One field of an ErrorResponse or NoticeResponse. */
export interface ErrorNoticeField {
  /** "A code identifying the field type": S, V, C, M, D, H, P, … (one character). */
  type: string;
  /** "The field value." */
  value: string;
}

/** The fields of ErrorResponse and NoticeResponse: every field, in the order sent. */
export interface ErrorNotice {
  fields: ErrorNoticeField[];
}

/** ErrorResponse and NoticeResponse share their body. */
export function fieldsMessage(name: string, type: string): MessageCodec<ErrorNotice> {
  return {
    name,
    readsContext: false,
    decode: readFields,
    fields(m) {
      const spans = wholeSpans(m, name, isMessage(m, 'backend', type));
      return {
        fields: spansNamed(spans, 'field').map((g) => {
          const c = childrenOf(m, g);
          return { type: chr(m, span(m, c, 'field type')), value: text(m, span(m, c, 'value')) };
        }),
      };
    },
    encode(f) {
      return writeMessage(
        type,
        name,
        (w) => {
          for (const field of f.fields) {
            w.char(field.type, 'field type');
            w.cstring(field.value, 'value');
          }
          w.uint8(0, 'terminator');
        },
        128,
      );
    },
  };
}

/**
 * The fields of an ErrorResponse or NoticeResponse as far as they were read (a malformed
 * message still gives the fields before the fault), in order. Empty for other messages.
 */
export function errorNoticeFields(m: DecodedMessage): ErrorNoticeField[] {
  const out: ErrorNoticeField[] = [];
  for (const s of m.spans) {
    if (s.name !== 'field' || !s.children) continue;
    const type = s.children.find((c) => c.name === 'field type')?.value;
    const value = s.children.find((c) => c.name === 'value')?.value;
    if (typeof type === 'string' && typeof value === 'string') out.push({ type, value });
  }
  return out;
}
