import type { MessageDecoder } from '../decoder.js';
import type { Span } from '../types.js';
import { readCount } from './counts.js';
import { describeValueLength, readNullableValue } from './nullable-value.js';

/**
 * DataRow (B, 'D'):
 *   Int16 — "The number of column values that follow (possibly zero)."
 *   then for each column: Int32 — "The length of the column value, in bytes … -1
 *   indicates a NULL column value"; Byten — "The value of the column, in the format
 *   indicated by the associated format code."
 * Each column is a group (its own line); the format is not known here (it was chosen by
 * Bind, or is text for a simple Query), so values are shown as bytes.
 */
export const dataRow: MessageDecoder = {
  name: 'DataRow',
  decode(r) {
    const n = readCount(r, 'int16', 'number of columns', 'column value', 4);
    const b = r.buf;
    const limit = Math.min(r.end, r.avail);
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
          if (len >= 0) children.push({ name: 'value', start: at + 4, end, value: b.subarray(at + 4, end) });
          r.pos = end;
          r.push({ name: 'column', start: at, end, children, meaning: `column ${i}: ${describeValueLength(len)}`, value: len });
          continue;
        }
      }
      r.group('column', () => readNullableValue(r, 'length', 'value'), (len) => `column ${i}: ${describeValueLength(len)}`);
    }
  },
};
