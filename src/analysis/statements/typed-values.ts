import { typeName } from '../../protocol/type-names.js';
import type { DecodedMessage, Span, TypedValue } from '../../protocol/types.js';
import { clip } from '../../protocol/clip.js';

/** src/protocol/values' decodeValue, or a stand-in in tests. */
export type DecodeValue = (typeOid: number, format: number, bytes: Buffer) => TypedValue | null;

/** Most characters of one value kept in a record or a span's meaning. */
export const VALUE_MAX_CHARS = 256;

/** Most bytes of a Bind parameter kept until its statement completes (longer ones are shown cut, untyped). */
export const PARAM_KEEP_BYTES = 4096;

/** Cut text to `max` characters, marking the cut with "…". */
export function bounded(text: string, max = VALUE_MAX_CHARS): string {
  return clip(text, max);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes of unknown type as text: valid UTF-8 is kept as it reads, with control characters,
 * quotes and backslashes escaped (\n, \x01); anything else is escaped byte by byte (\xff).
 */
export function escapeValue(bytes: Buffer): string {
  let text: string | null = null;
  try {
    text = UTF8.decode(bytes);
  } catch {
    text = null;
  }
  if (text !== null) {
    return text.replace(/[\x00-\x1f\x7f"\\]/g, (c) =>
      c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : c === '"' ? '\\"' : c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
  }
  let s = '';
  for (const b of bytes) s += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return s;
}

/** The bytes of a leaf span when the frame retained all of them, else null (a huge value cut by the framer). */
export function spanBytes(msg: DecodedMessage, span: Span): Buffer | null {
  if (span.flag !== undefined || span.retained !== undefined) return null;
  if (span.end > msg.frame.bytes.length || span.end < span.start) return null;
  return msg.frame.bytes.subarray(span.start, span.end);
}

/**
 * The 'value' leaf of a DataRow column or Bind parameter group (both decoded as a group:
 * Int32 length, then the value bytes, which are absent for NULL).
 */
export function valueLeaf(group: Span): Span | undefined {
  const children = group.children;
  if (children === undefined) return undefined;
  for (let i = 0; i < children.length; i++) if (children[i]!.name === 'value') return children[i];
  return undefined;
}

/** How a typed value reads in a span's meaning: "int4 42", "text 'abc'". */
export function typedMeaning(t: TypedValue): string {
  return `${t.type} ${bounded(t.text)}`;
}

/**
 * Read a value leaf as its type and record it on the span (`typed`, and a `meaning` that
 * replaces the generic "text value"/"value"), unless the type is unknown, the bytes do not
 * fit it (decodeValue returns null: the escaped bytes stay as they are) or were not all
 * retained. Returns the typed value, if any.
 */
export function typeLeaf(msg: DecodedMessage, leaf: Span, oid: number, format: number, decode: DecodeValue): TypedValue | null {
  if (oid === 0) return null;
  const bytes = spanBytes(msg, leaf);
  if (!bytes) return null;
  const t = decode(oid, format, bytes);
  if (!t) return null;
  leaf.typed = t;
  leaf.meaning = typedMeaning(t);
  return t;
}

/** A record's parameter: the typed text when the type is known, else the escaped bytes; bounded. */
export function paramText(oid: number, format: number, bytes: Buffer, complete: boolean, decode: DecodeValue): { type: string | null; value: string } {
  const t = complete && oid !== 0 ? decode(oid, format, bytes) : null;
  if (t) return { type: t.type, value: bounded(t.text) };
  const shown = escapeValue(bytes.subarray(0, VALUE_MAX_CHARS * 4));
  return { type: typeName(oid) ?? null, value: complete ? bounded(shown) : `${shown.slice(0, VALUE_MAX_CHARS - 1)}…` };
}

/**
 * The format of value `i` of `count` given the format codes sent for the list: "zero to
 * indicate that there are no parameters or that the parameters all use the default format
 * (text); or one, in which case the specified format code is applied to all parameters; or
 * it can equal the actual number of parameters." The same rule holds for result columns.
 */
export function formatAt(codes: readonly number[], i: number): number {
  if (codes.length === 0) return 0;
  if (codes.length === 1) return codes[0]!;
  return codes[i] ?? 0;
}
