import type { MessageCodec } from '../decoder.js';
import { isMessage, spansNamed, wholeSpans } from '../spans.js';
import type { DecodedMessage, Span } from '../types.js';
import { writeMessage } from '../writer.js';
import { readCount } from './counts.js';
import { describeValueLength, nullableValueOf, readNullableValue, valueLeafOf, writeNullableValue } from './nullable-value.js';

export interface DataRow {
  /** Each column's value, in the format Bind chose (text for a simple Query); null for NULL. */
  columns: (Buffer | null)[];
}

/**
 * DataRow (B, 'D'):
 *   Int16 — "The number of column values that follow (possibly zero)."
 *   then for each column: Int32 — "The length of the column value, in bytes … -1
 *   indicates a NULL column value"; Byten — "The value of the column, in the format
 *   indicated by the associated format code."
 * Each column is a group (its own line). Its type and format are not in the message (the
 * RowDescription that applies says them, with the Bind's result formats): with a
 * statement context (DecodeContext.statements) that types values, each value is read as
 * its type (`typed`, and a meaning such as "int4 42"); otherwise values are bytes.
 */
export const dataRow: MessageCodec<DataRow> = {
  name: 'DataRow',
  readsContext: true,
  decode(r, ctx) {
    const n = readCount(r, 'int16', 'number of columns', 'column value', 4);
    const b = r.buf;
    const limit = Math.min(r.end, r.avail);
    const sc = ctx.statements;
    const columns = sc !== null && sc.typing && n > 0 ? sc.rowColumns() : null;
    for (let i = 1; i <= n; i++) {
      // The common case, a well-formed column whose bytes are all at hand: its spans are
      // built directly, exactly as the group below would build them (same fields, same order).
      const at = r.pos;
      if (at + 4 <= limit) {
        const len = b.readInt32BE(at);
        const end = at + 4 + (len > 0 ? len : 0);
        if (len >= -1 && end <= limit) {
          const length: Span = { name: 'length', start: at, end: at + 4, value: len };
          if (len === -1) length.meaning = 'NULL';
          const children: Span[] = [length];
          if (len >= 0) {
            const value: Span = { name: 'value', start: at + 4, end, value: b.subarray(at + 4, end) };
            children.push(value);
            const c = columns?.[i - 1];
            if (c) sc!.typeLeaf(value, c.oid, c.format, r.frame);
          }
          r.pos = end;
          r.push({ name: 'column', start: at, end, children, meaning: `column ${i}: ${describeValueLength(len)}`, value: len });
          continue;
        }
      }
      r.group('column', () => readNullableValue(r, 'length', 'value'), (len) => `column ${i}: ${describeValueLength(len)}`);
      const c = columns?.[i - 1];
      const leaf = c ? valueLeafOf(r.last!) : undefined;
      if (leaf) sc!.typeLeaf(leaf, c!.oid, c!.format, r.frame);
    }
  },
  fields(m) {
    const spans = wholeSpans(m, 'DataRow', isMessage(m, 'backend', 'D'));
    return { columns: spansNamed(spans, 'column').map((g) => nullableValueOf(m, g)) };
  },
  encode(f) {
    let size = 7;
    for (const c of f.columns) size += 4 + (c ? c.length : 0);
    return writeMessage(
      'D',
      'DataRow',
      (w) => {
        w.int16(f.columns.length, 'number of columns');
        for (const c of f.columns) writeNullableValue(w, c, 'length', 'value');
      },
      size,
    );
  },
};

/**
 * The span of each column's value, as far as the row was read (a huge row kept in part
 * still gives its first columns): undefined for NULL.
 */
export function dataRowValueSpans(m: DecodedMessage): (Span | undefined)[] {
  return spansNamed(m.spans, 'column').map(valueLeafOf);
}
