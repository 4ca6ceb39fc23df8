/**
 * Field readers shared by the client messages of the extended query protocol (Bind,
 * FunctionCall, Parse, Close, Describe) and by the 'p' family. Each reads through the
 * Reader, so every byte still gets its span and every bound is checked.
 */
import type { Reader } from '../reader.js';
import { describeFormat } from '../type-names.js';
import type { Span } from '../types.js';
import { plural } from '../values.js';
import type { Writer } from '../writer.js';

/**
 * Read an Int16 count of repetitions that are at least `itemSize` bytes each. A negative
 * count is impossible ('bad-value'); a count the rest of the message cannot hold is
 * 'past-end'. Both errors point at the count itself.
 */
export function readCount(r: Reader, name: string, itemSize: number, meaning: (n: number) => string): number {
  const at = r.pos;
  const n = r.int16(name, (v) => (v < 0 ? `${name}: ${v} (negative)` : meaning(v)));
  if (n < 0) r.fail('bad-value', `${name}: a count of zero or more, got ${n}`, at);
  if (n * itemSize > r.remaining) {
    r.fail('past-end', `${name}: ${n} × ${plural(itemSize, 'byte')} announced, ${r.remaining} left in the message`, at);
  }
  return n;
}

/**
 * "The number of … format codes that follow (denoted C below)", then "Int16[C] The …
 * format codes. Each must presently be zero (text) or one (binary)." C = 0: everything
 * is text; C = 1: that code applies to all; otherwise one code per item. Grouped so the
 * list renders on one line. `items` is the plural noun ("parameters", "result columns").
 */
export function readFormatCodes(r: Reader, group: string, item: string, items: string): number[] {
  return r.group(group, () => {
    const n = readCount(r, `number of ${item} format codes`, 2, (c) =>
      c === 0 ? `no ${item} format codes: all ${items} use text` : c === 1 ? `1 ${item} format code, applied to all ${items}` : `${c} ${item} format codes, one per ${item}`,
    );
    const codes: number[] = [];
    for (let i = 0; i < n; i++) codes.push(readFormatCode(r, `${item} format code`, n === 1 ? undefined : `${item} ${i + 1}`));
    return codes;
  });
}

/** One Int16 format code: 0 text, 1 binary; anything else is not a defined format. */
export function readFormatCode(r: Reader, name: string, subject?: string): number {
  const at = r.pos;
  const code = r.int16(name, (c) => {
    const f = describeFormat(c);
    return f && subject ? `${subject}: ${c === 0 ? 'text' : 'binary'}` : f;
  });
  if (describeFormat(code) === undefined) r.fail('bad-value', `${name}: 0 (text) or 1 (binary), got ${code}`, at);
  return code;
}

/** The format a value uses given the format codes sent for its list, or undefined if they do not match. */
export function formatOf(codes: number[], index: number, count: number): string | undefined {
  const code = codes.length === 0 ? 0 : codes.length === 1 ? codes[0]! : codes.length === count ? codes[index]! : undefined;
  return code === 0 ? 'text' : code === 1 ? 'binary' : undefined;
}

/**
 * A count of values ("The number of parameter values that follow"), annotated when it
 * disagrees with the number of format codes: the documentation allows 0, 1 or exactly
 * one code per value. The decoder still reads every value: they are well delimited.
 */
export function valueCountMeaning(n: number, codes: number, item: string, items: string): string {
  const base = n === 0 ? `no ${items}` : n === 1 ? `1 ${item} follows` : `${n} ${items} follow`;
  return codes > 1 && codes !== n ? `${base} (but ${codes} format codes were sent: the counts must match)` : base;
}

/**
 * Length-prefixed values (Bind parameters, FunctionCall arguments): "Int32 The length of
 * the … value, in bytes (this count does not include itself). Can be zero. As a special
 * case, -1 indicates a NULL … value. No value bytes follow in the NULL case." Then
 * "Byten The value …, in the format indicated by the associated format code."
 * Each value is a group: "parameter 1: 5 bytes", "parameter 2: NULL". `mark` is told of
 * each value's span as it is read (the Bind decoder's statement context types it, or
 * marks it secret).
 */
export function readValues(r: Reader, group: string, n: number, codes: number[], mark?: ((leaf: Span, index: number) => void) | null): (Buffer | null)[] {
  const out: (Buffer | null)[] = [];
  for (let i = 0; i < n; i++) {
    const label = `${group} ${i + 1}`;
    // The announced length, not the retained prefix: a huge value may be kept only in part.
    let size = 0;
    const v = r.group(
      group,
      () => {
        const at = r.pos;
        const len = r.int32('length', (l) => (l === -1 ? 'length -1: NULL, no value bytes follow' : undefined));
        if (len === -1) return null;
        if (len < 0) r.fail('bad-value', `${group} value length: -1 (NULL) or zero or more, got ${len}`, at);
        size = len;
        const format = formatOf(codes, i, n);
        const v = r.bytes('value', len, format ? `${format} value` : 'value (format unknown: the format codes do not match the count)');
        // The statement context's say about this value (Bind: typed, or secret), while decoding.
        if (mark) mark(r.last!, i);
        return v;
      },
      (b) => (b === null ? `${label}: NULL` : `${label}: ${plural(size, 'byte')}`),
    );
    out.push(v);
  }
  return out;
}

/**
 * A prepared statement or portal name: "an empty string selects the unnamed prepared
 * statement" (or portal). `role` says which one of a message's names it is ("source").
 */
export function readObjectName(r: Reader, name: string, kind: 'prepared statement' | 'portal', role?: string): string {
  const what = role ? `${role} ${kind}` : `${kind} name`;
  return r.cstring(name, (s) => (s === '' ? `${role ? `${role}: ` : ''}the unnamed ${kind}` : what));
}

/** Close and Describe: "'S' to … a prepared statement; or 'P' to … a portal." */
export function readTarget(r: Reader, verb: string): 'prepared statement' | 'portal' {
  const at = r.pos;
  const c = r.char('target', (t) => (t === 'S' ? `${verb} a prepared statement` : t === 'P' ? `${verb} a portal` : `unknown target ${JSON.stringify(t)}`));
  if (c !== 'S' && c !== 'P') r.fail('bad-value', `'S' (prepared statement) or 'P' (portal), got ${JSON.stringify(c)}`, at);
  return c === 'S' ? 'prepared statement' : 'portal';
}

/**
 * The 'p' family is one type byte whose message depends on the authentication request
 * before it. decodeFrame labels the type byte with the registry's generic name before
 * the decoder runs; this renames the message and that label together.
 */
export function renameMessage(r: Reader, name: string): void {
  // decodeFrame relabels the type byte with the final name.
  r.messageName = name;
}

/** Up to n bytes ahead without consuming them (a lookahead to choose a decoding, not a field). */
export function peekText(r: Reader, n: number): string {
  return r.peekBytes(n).toString('latin1');
}

/** Write format codes as readFormatCodes reads them: Int16 count, then each code (0 or 1). */
export function writeFormatCodes(w: Writer, codes: readonly number[], item: string): void {
  w.int16(codes.length, `number of ${item} format codes`);
  for (const c of codes) writeFormatCode(w, c, `${item} format code`);
}

/** One Int16 format code: 0 text or 1 binary. */
export function writeFormatCode(w: Writer, code: number, field: string): void {
  if (code !== 0 && code !== 1) w.fail(field, `0 (text) or 1 (binary), got ${code}`);
  w.int16(code, field);
}

/** Write values as readValues reads them: Int16 count, then each Int32 length (-1 NULL) and bytes. */
export function writeValues(w: Writer, values: readonly (Buffer | null)[], count: string): void {
  w.int16(values.length, count);
  for (const v of values) {
    if (v === null) w.int32(-1, 'length');
    else w.int32(v.length, 'length').bytes(v, 'value');
  }
}

/** Bytes a list of values takes on the wire (for sizing a Writer). */
export function valuesSize(values: readonly (Buffer | null)[]): number {
  let n = 2;
  for (const v of values) n += 4 + (v ? v.length : 0);
  return n;
}
