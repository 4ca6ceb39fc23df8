import type { DecodedMessage, Span } from '../protocol/types.js';
import { quoteFlat, quoteRange } from './escape.js';
import { MONOCHROME, type Style } from './style.js';

export interface AnnotateOptions {
  /** Most bytes shown of one value before it is cut with a note (default 256). */
  maxValueBytes?: number;
  style?: Style;
  /** Show secret spans (passwords, MD5 hashes) as redacted. */
  redact?: boolean;
}

/** Receives the lines of a message in order: nesting depth (0 for the first line) and text. */
export type LineSink = (depth: number, text: string) => void;

/** A message shown on a single line when it is this short and has no nested fields. */
const ONE_LINE_MAX_SPANS = 3;
const ONE_LINE_MAX_CHARS = 160;

/** AnnotateOptions with the defaults filled in. */
export interface ResolvedAnnotateOptions {
  maxValueBytes: number;
  style: Style;
  redact: boolean;
}

export function resolveAnnotateOptions(opts: AnnotateOptions = {}): ResolvedAnnotateOptions {
  return { maxValueBytes: opts.maxValueBytes ?? 256, style: opts.style ?? MONOCHROME, redact: opts.redact ?? false };
}

const noChildren = (s: Span): boolean => s.children === undefined || s.children.length === 0;

/**
 * A message in Elephantshark's conventions, its lines handed to `emit` one by one: each
 * field as its bytes, escaped and quoted, then `= meaning`; the type byte and the length on
 * the first line, further fields on continuation lines, nested fields (a column, an error
 * field) grouped on one line each.
 *   "Z" = ReadyForQuery "\x00\x00\x00\x05" = 5 bytes "I" = idle
 */
export function renderMessage(msg: DecodedMessage, o: ResolvedAnnotateOptions, emit: LineSink): void {
  const buf = msg.frame.bytes;
  const spans = msg.spans;
  const n = spans.length;
  // The head: the type byte and length (normal phase) or the length and code (startup).
  const kind = msg.frame.kind;
  const headCount = Math.min(n, kind === 'message' || kind === 'startup' ? 2 : kind === 'answer' ? 1 : 3);
  let head = '';
  for (let i = 0; i < headCount; i++) head = i === 0 ? part(spans[0]!, buf, o) : head + ' ' + part(spans[i]!, buf, o);
  const restCount = n - headCount;
  let flat = true;
  for (let i = headCount; i < n && flat; i++) flat = noChildren(spans[i]!);
  // A short flat message goes on one line; its parts are kept for the long form otherwise.
  let restParts: string[] | null = null;
  if (flat && restCount <= ONE_LINE_MAX_SPANS) {
    restParts = [];
    let length = head.length;
    for (let i = headCount; i < n; i++) {
      const p = part(spans[i]!, buf, o);
      restParts.push(p);
      length += 1 + p.length; // the head is never empty when there is a rest
    }
    // Colour codes only ever lengthen a line: its raw length is an upper bound of what shows.
    if (length <= ONE_LINE_MAX_CHARS || (o.style !== MONOCHROME && visibleLength(joinLine(head, restParts)) <= ONE_LINE_MAX_CHARS)) {
      emit(0, restCount === 0 ? head : joinLine(head, restParts));
      if (msg.error) emit(1, o.style.problem(`!! ${msg.error.message}`));
      return;
    }
  }
  emit(0, head);
  for (let i = headCount; i < n; i++) {
    if (restParts) emit(1, restParts[i - headCount]!);
    else renderSpan(spans[i]!, 1, buf, o, emit);
  }
  if (msg.error) emit(1, o.style.problem(`!! ${msg.error.message}`));
}

function joinLine(head: string, rest: string[]): string {
  let s = head;
  for (let i = 0; i < rest.length; i++) s = s + ' ' + rest[i]!;
  return s;
}

function renderSpan(s: Span, depth: number, buf: Buffer, o: ResolvedAnnotateOptions, emit: LineSink): void {
  const children = s.children;
  if (children === undefined || children.length === 0) {
    emit(depth, part(s, buf, o));
    return;
  }
  // The group's leading leaves on one line (all of it when it has no deeper groups), deeper groups below it.
  let leaves = '';
  let i = 0;
  for (; i < children.length; i++) {
    const c = children[i]!;
    if (!noChildren(c)) break;
    leaves = i === 0 ? part(c, buf, o) : leaves + ' ' + part(c, buf, o);
  }
  if (i === children.length) {
    emit(depth, s.meaning ? o.style.meaning(`${s.meaning}: `) + leaves : leaves);
    return;
  }
  const label = s.meaning ?? s.name;
  emit(depth, i > 0 ? `${o.style.meaning(label + ':')} ${leaves}` : o.style.meaning(label + ':'));
  for (; i < children.length; i++) renderSpan(children[i]!, depth + 1, buf, o, emit);
}

/** `"bytes" = meaning` for one leaf span. */
function part(s: Span, buf: Buffer, o: ResolvedAnnotateOptions): string {
  const len = s.end - s.start;
  if (s.flag === 'elided') return o.style.meaning(`[${len} byte${len === 1 ? '' : 's'}] = ${describe(s, o.redact)}`);
  let quoted: string;
  // Undecodable bytes cannot be told apart from a secret (a malformed PasswordMessage): hidden too when redacting.
  const hidden = o.redact && (s.secret || s.flag === 'unparsed');
  if (!hidden && o.style === MONOCHROME) {
    // Monochrome: the quoted bytes and "= " (or "= UNPARSED: ") come as one flat string.
    const have = Math.max(0, Math.min(s.end, buf.length) - s.start);
    return quoteFlat(buf, s.start, s.start + have, o.maxValueBytes, len, s.flag === 'unparsed' ? ' = UNPARSED: ' : ' = ') + describe(s, o.redact);
  }
  if (hidden) {
    quoted = `"<redacted ${len} byte${len === 1 ? '' : 's'}>"`;
  } else {
    const have = Math.max(0, Math.min(s.end, buf.length) - s.start);
    quoted = quoteRange(buf, s.start, s.start + have, o.maxValueBytes, len);
  }
  const text = describe(s, o.redact);
  const ann = s.flag === 'unparsed' ? o.style.problem('= UNPARSED: ' + text) : o.style.meaning('= ' + text);
  return o.style.bytes(quoted) + ' ' + ann;
}

/** The words after "=": the decoder's meaning, else the field's name and scalar value. */
function describe(s: Span, redact: boolean): string {
  if (s.meaning !== undefined) return s.meaning;
  if (s.secret && redact) return `${s.name} (redacted)`;
  const v = s.value;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${s.name}: ${v}`;
  return s.name;
}

/** Length of a line without its colour codes (which begin with STYLE_MARK until written: see terminal-safe.ts). */
function visibleLength(s: string): number {
  return s.replace(/\udbff\[[0-9;]*m/g, '').length;
}

/** Two spaces per level of nesting, made once. */
const INDENTS: string[] = [];
export function indent(depth: number): string {
  return INDENTS[depth] ?? (INDENTS[depth] = '  '.repeat(depth));
}

/** The lines as text, continuation lines indented two spaces per level. */
export function annotatedText(msg: DecodedMessage, opts: AnnotateOptions = {}): string {
  let out = '';
  let first = true;
  renderMessage(msg, resolveAnnotateOptions(opts), (depth, text) => {
    out = first ? indent(depth) + text : out + '\n' + indent(depth) + text;
    first = false;
  });
  return out;
}
