import type { Reader } from '../../reader.js';
import { bytesOf, childrenOf, chr, span, spansNamed } from '../../spans.js';
import type { DecodedMessage, Span } from '../../types.js';
import { plural } from '../../values.js';
import type { Writer } from '../../writer.js';

/** TupleData column kinds ("Byte1('n')", "Byte1('u')", "Byte1('t')", "Byte1('b')"). */
const KINDS: Record<string, string> = {
  n: 'null',
  u: 'unchanged TOASTed value (not sent)',
  t: 'text',
  b: 'binary',
};

/**
 * TupleData:
 *   Int16 — Number of columns.
 *   Next, one of the following submessages appears for each column (except generated
 *   columns):
 *     Byte1('n') — Identifies the data as NULL value.
 *     Byte1('u') — Identifies unchanged TOASTed value (the actual value is not sent).
 *     Byte1('t') — Identifies the data as text formatted value.
 *     Byte1('b') — Identifies the data as binary formatted value.
 *     Int32 — Length of the column value (for 't' and 'b').
 *     Byten — The value of the column, in either binary or in text format (for 't' and 'b').
 * The caller reads the Byte1 that announces the tuple ('N', 'K' or 'O') and groups it with
 * the TupleData; `what` names the tuple in error messages ("Update old key").
 */
export function tupleData(r: Reader, what: string): number {
  const n = r.int16('number of columns', (v) => plural(v, 'column'));
  if (n < 0) r.fail('bad-value', `${what}: a column count of 0 or more, got ${n}`, r.pos - 2);
  // Each column takes at least its kind byte.
  if (n > r.remaining) r.fail('past-end', `${what}: ${plural(n, 'column')} announced, only ${plural(r.remaining, 'byte')} left`, r.pos - 2);
  for (let i = 1; i <= n; i++) {
    r.group(
      'column',
      () => {
        const kind = r.char('kind', (k) => KINDS[k] ?? `unknown column kind`);
        if (!(kind in KINDS)) {
          r.fail('bad-value', `${what} column ${i}: a column kind of 'n' (null), 'u' (unchanged TOASTed), 't' (text) or 'b' (binary), got ${JSON.stringify(kind)}`, r.pos - 1);
        }
        if (kind === 't' || kind === 'b') {
          const len = r.int32('length', (v) => plural(v, 'byte'));
          if (len < 0) r.fail('bad-value', `${what} column ${i}: a value length of 0 or more, got ${len}`, r.pos - 4);
          if (len > r.remaining) r.fail('past-end', `${what} column ${i}: a ${plural(len, 'byte')} value, only ${plural(r.remaining, 'byte')} left`);
          r.bytes('value', len, kind === 't' ? 'text value' : 'binary value');
        }
      },
      `column ${i}`,
    );
  }
  return n;
}

/** One column of a TupleData: NULL, an unchanged TOASTed value (not sent), or a text or binary value. */
export type TupleColumn = { kind: 'n' } | { kind: 'u' } | { kind: 't' | 'b'; value: Buffer };

/** The columns of a TupleData read by tupleData (the spans of the group around it). */
export function tupleColumnsOf(m: DecodedMessage, spans: readonly Span[]): TupleColumn[] {
  return spansNamed(spans, 'column').map((g) => {
    const c = childrenOf(m, g);
    const kind = chr(m, span(m, c, 'kind'));
    if (kind === 't' || kind === 'b') return { kind, value: bytesOf(m, span(m, c, 'value')) };
    return { kind: kind as 'n' | 'u' };
  });
}

/** Write a tuple as tupleData reads it: the Byte1 that announces it ('N', 'K' or 'O'), then TupleData. */
export function writeTuple(w: Writer, marker: string, columns: readonly TupleColumn[]): void {
  w.char(marker, 'tuple kind');
  w.int16(columns.length, 'number of columns');
  for (const c of columns) {
    if (!(c.kind in KINDS)) w.fail('kind', `'n', 'u', 't' or 'b', got ${JSON.stringify(c.kind)}`);
    w.char(c.kind, 'kind');
    if (c.kind === 't' || c.kind === 'b') w.int32(c.value.length, 'length').bytes(c.value, 'value');
  }
}
