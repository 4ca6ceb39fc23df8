import type { MessageDecoder } from '../decoder.js';
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
    for (let i = 1; i <= n; i++) {
      r.group('column', () => readNullableValue(r, 'length', 'value'), (len) => `column ${i}: ${describeValueLength(len)}`);
    }
  },
};
