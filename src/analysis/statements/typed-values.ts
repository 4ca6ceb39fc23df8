import { clip } from '../../protocol/clip.js';
import { VALUE_MAX_CHARS } from '../../protocol/statement-context.js';
import { typeName } from '../../protocol/type-names.js';
import type { DecodedMessage, Span } from '../../protocol/types.js';
import type { DecodeValue } from '../../protocol/values/index.js';

/**
 * Statement records' parameters as text. (Typing the values of messages is done while
 * decoding: src/protocol/statement-context.ts.)
 */
export type { DecodeValue };

/** Most bytes of a Bind parameter kept until its statement completes (longer ones are shown cut, untyped). */
export const PARAM_KEEP_BYTES = 4096;

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

/** A record's parameter: the typed text when the type is known, else the escaped bytes; bounded. */
export function paramText(oid: number, format: number, bytes: Buffer, complete: boolean, decode: DecodeValue): { type: string | null; value: string } {
  const t = complete && oid !== 0 ? decode(oid, format, bytes) : null;
  if (t) return { type: t.type, value: clip(t.text, VALUE_MAX_CHARS) };
  const shown = escapeValue(bytes.subarray(0, VALUE_MAX_CHARS * 4));
  return { type: typeName(oid) ?? null, value: complete ? clip(shown, VALUE_MAX_CHARS) : `${shown.slice(0, VALUE_MAX_CHARS - 1)}…` };
}
