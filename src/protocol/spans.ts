/**
 * Reading a decoded message's typed fields back from its spans: the helpers the message
 * modules' `fields(m)` use. Which span is which field is each message module's business
 * (span names are spelled there only); these helpers check the message can be read as
 * fields at all, and turn a span into a value that encodes back to exactly its bytes.
 */
import { FieldsError } from './errors.js';
import type { DecodedMessage, Span } from './types.js';

/**
 * The spans of a message whose every field is known: of this codec (`ours`), decoded with
 * no error and retained whole. Throws a FieldsError otherwise.
 */
export function wholeSpans(m: DecodedMessage, codecName: string, ours: boolean): Span[] {
  if (!ours) throw new FieldsError('not-this-message', m.name, m.frame.offset, `the ${codecName} codec was asked for the fields of a ${m.name}`);
  if (m.error) throw new FieldsError('malformed', m.name, m.error.offset, m.error.expected);
  if (!m.frame.complete) {
    throw new FieldsError('not-retained', m.name, m.frame.offset + m.frame.bytes.length, `only ${m.frame.bytes.length} of its ${m.frame.size} bytes were kept for decoding`);
  }
  return m.spans;
}

/** True for a normal-phase message of this direction and type byte. */
export function isMessage(m: DecodedMessage, direction: 'frontend' | 'backend' | 'both', type: string): boolean {
  return m.frame.kind === 'message' && m.frame.type === type && (direction === 'both' || m.frame.direction === direction);
}

/** A span the decoder always records for a well-formed message; its absence is a codec bug. */
function missing(m: DecodedMessage, name: string): never {
  throw new FieldsError('malformed', m.name, m.frame.offset, `no ${JSON.stringify(name)} field among its spans`);
}

/** The first span named `name` in `spans` (top level or a group's children). */
export function span(m: DecodedMessage, spans: readonly Span[], name: string): Span {
  for (const s of spans) if (s.name === name) return s;
  return missing(m, name);
}

/** The first span named `name`, or undefined. */
export function maybeSpan(spans: readonly Span[] | undefined, name: string): Span | undefined {
  if (!spans) return undefined;
  for (const s of spans) if (s.name === name) return s;
  return undefined;
}

/**
 * The value of the first span named `name` when it is a string (lenient accessors: a
 * message as far as it was read). `at`: where a well-formed message has it (looked at first).
 */
export function stringAt(spans: readonly Span[] | undefined, name: string, at = -1): string | undefined {
  const hint = at >= 0 ? spans?.[at] : undefined;
  const v = (hint !== undefined && hint.name === name ? hint : maybeSpan(spans, name))?.value;
  return typeof v === 'string' ? v : undefined;
}

/** Every span named `name` in `spans`, in order. */
export function spansNamed(spans: readonly Span[] | undefined, name: string): Span[] {
  const out: Span[] = [];
  if (spans) for (const s of spans) if (s.name === name) out.push(s);
  return out;
}

/** A group's children. */
export function childrenOf(m: DecodedMessage, s: Span): Span[] {
  return s.children ?? missing(m, `${s.name} (its fields)`);
}

/** A numeric span's value (Int8/16/32, unsigned too; a Byte1 read as a number). */
export function num(m: DecodedMessage, s: Span): number {
  if (typeof s.value !== 'number') missing(m, `${s.name} (a number)`);
  return s.value as number;
}

/** A Byte1 read as a character. */
export function chr(m: DecodedMessage, s: Span): string {
  if (typeof s.value !== 'string') missing(m, `${s.name} (a character)`);
  return s.value as string;
}

/**
 * A String field's text. It must be valid UTF-8: a JS string from other bytes (U+FFFD
 * where a byte was not UTF-8) would not encode back to them, so that is a FieldsError.
 */
export function text(m: DecodedMessage, s: Span): string {
  const v = s.value;
  if (typeof v !== 'string') return missing(m, `${s.name} (a string)`);
  if (v.includes('\uFFFD')) {
    // The replacement character may also have been sent as such (EF BF BD): compare.
    const wire = m.frame.bytes.subarray(s.start, s.end - 1);
    if (!wire.equals(Buffer.from(v, 'utf8'))) {
      throw new FieldsError('not-utf8', m.name, m.frame.offset + s.start, `${s.name} is not valid UTF-8`);
    }
  }
  return v;
}

/** The bytes a span covers (a view of the frame's bytes). */
export function bytesOf(m: DecodedMessage, s: Span): Buffer {
  return m.frame.bytes.subarray(s.start, s.end);
}

/** The bytes from `start` to the end of the message (a body the decoder splits into attributes). */
export function bytesFrom(m: DecodedMessage, start: number): Buffer {
  return m.frame.bytes.subarray(start, m.frame.size);
}

/** A String field's bytes, without its terminating zero byte. */
export function cstringBytes(m: DecodedMessage, s: Span): Buffer {
  return m.frame.bytes.subarray(s.start, s.end - 1);
}

/** An Int64 field as the wire has it (WAL locations, which spans show as X/X). */
export function uint64At(m: DecodedMessage, s: Span): bigint {
  return m.frame.bytes.readBigUInt64BE(s.start);
}

/** A signed Int64 field as the wire has it (timestamps, which spans show as ISO time). */
export function int64At(m: DecodedMessage, s: Span): bigint {
  return m.frame.bytes.readBigInt64BE(s.start);
}

/** An Int32 field as the wire has it (where the span holds a derived value). */
export function int32At(m: DecodedMessage, s: Span): number {
  return m.frame.bytes.readInt32BE(s.start);
}

/** The body of a message: everything after its header (type byte and length; a startup packet's length). */
export function bodyOf(m: DecodedMessage): Buffer {
  return m.frame.bytes.subarray(m.frame.kind === 'message' ? 5 : m.frame.kind === 'startup' ? 4 : 0, m.frame.size);
}

/** A numeric array a group recorded as its value (format codes, parameter type OIDs), copied. */
export function numbers(m: DecodedMessage, s: Span): number[] {
  if (!Array.isArray(s.value)) missing(m, `${s.name} (a list)`);
  return (s.value as number[]).slice();
}
