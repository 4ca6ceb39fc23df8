import type { DecodedMessage, Span } from '../protocol/types.js';
import { quoteBounded } from './escape.js';
import { MONOCHROME, type Style } from './style.js';

export interface AnnotateOptions {
  /** Most bytes shown of one value before it is cut with a note (default 256). */
  maxValueBytes?: number;
  style?: Style;
  /** Show secret spans (passwords, MD5 hashes) as redacted. */
  redact?: boolean;
}

/** One output line: its nesting depth (0 for the first line) and its text. */
export interface AnnotatedLine {
  depth: number;
  text: string;
}

/** A message shown on a single line when it is this short and has no nested fields. */
const ONE_LINE_MAX_SPANS = 3;
const ONE_LINE_MAX_CHARS = 160;

/**
 * A message in Elephantshark's conventions: each field as its bytes, escaped and quoted,
 * then `= meaning`; the type byte and the length on the first line, further fields on
 * continuation lines, nested fields (a column, an error field) grouped on one line each.
 *   "Z" = ReadyForQuery "\x00\x00\x00\x05" = 5 bytes "I" = idle
 */
export function annotateMessage(msg: DecodedMessage, opts: AnnotateOptions = {}): AnnotatedLine[] {
  const o: Required<AnnotateOptions> = { maxValueBytes: opts.maxValueBytes ?? 256, style: opts.style ?? MONOCHROME, redact: opts.redact ?? false };
  const buf = msg.frame.bytes;
  const spans = msg.spans;
  // The head: the type byte and length (normal phase) or the length and code (startup).
  const headCount = msg.frame.kind === 'message' ? 2 : msg.frame.kind === 'startup' ? 2 : msg.frame.kind === 'answer' ? 1 : 3;
  const head = spans.slice(0, headCount);
  const rest = spans.slice(headCount);
  const headParts = head.map((s) => part(s, buf, o));
  const lines: AnnotatedLine[] = [];
  const restIsFlat = rest.every((s) => !s.children || s.children.length === 0);
  const restParts = restIsFlat ? rest.map((s) => part(s, buf, o)) : [];
  const oneLine = [...headParts, ...restParts].join(' ');
  if (restIsFlat && rest.length <= ONE_LINE_MAX_SPANS && visibleLength(oneLine) <= ONE_LINE_MAX_CHARS) {
    lines.push({ depth: 0, text: oneLine });
  } else {
    lines.push({ depth: 0, text: headParts.join(' ') });
    for (const s of rest) renderSpan(s, 1, buf, o, lines);
  }
  if (msg.error) lines.push({ depth: 1, text: o.style.problem(`!! ${msg.error.message}`) });
  return lines;
}

function renderSpan(s: Span, depth: number, buf: Buffer, o: Required<AnnotateOptions>, lines: AnnotatedLine[]): void {
  if (!s.children || s.children.length === 0) {
    lines.push({ depth, text: part(s, buf, o) });
    return;
  }
  const allLeaves = s.children.every((c) => !c.children || c.children.length === 0);
  if (allLeaves) {
    const label = s.meaning ? o.style.meaning(`${s.meaning}: `) : '';
    lines.push({ depth, text: label + s.children.map((c) => part(c, buf, o)).join(' ') });
    return;
  }
  // Nested groups: the group's leading leaves on one line, deeper groups below it.
  const leaves: string[] = [];
  let i = 0;
  for (; i < s.children.length; i++) {
    const c = s.children[i]!;
    if (c.children && c.children.length > 0) break;
    leaves.push(part(c, buf, o));
  }
  const label = s.meaning ?? s.name;
  lines.push({ depth, text: leaves.length ? `${o.style.meaning(label + ':')} ${leaves.join(' ')}` : o.style.meaning(label + ':') });
  for (; i < s.children.length; i++) renderSpan(s.children[i]!, depth + 1, buf, o, lines);
}

/** `"bytes" = meaning` for one leaf span. */
function part(s: Span, buf: Buffer, o: Required<AnnotateOptions>): string {
  const len = s.end - s.start;
  let quoted: string;
  // Undecodable bytes cannot be told apart from a secret (a malformed PasswordMessage): hidden too when redacting.
  if (o.redact && (s.secret || s.flag === 'unparsed')) {
    quoted = `"<redacted ${len} byte${len === 1 ? '' : 's'}>"`;
  } else {
    const have = Math.max(0, Math.min(s.end, buf.length) - s.start);
    quoted = quoteBounded(buf.subarray(s.start, s.start + have), o.maxValueBytes, len);
  }
  const text = describe(s, o.redact);
  const ann = s.flag === 'unparsed' ? o.style.problem(`= UNPARSED: ${text}`) : o.style.meaning(`= ${text}`);
  if (s.flag === 'elided') return o.style.meaning(`[${len} byte${len === 1 ? '' : 's'}] = ${text}`);
  return `${o.style.bytes(quoted)} ${ann}`;
}

/** The words after "=": the decoder's meaning, else the field's name and scalar value. */
function describe(s: Span, redact: boolean): string {
  if (s.meaning !== undefined) return s.meaning;
  if (s.secret && redact) return `${s.name} (redacted)`;
  const v = s.value;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${s.name}: ${v}`;
  return s.name;
}

/** Length of a line without ANSI colour codes. */
function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** The lines as text, continuation lines indented two spaces per level. */
export function annotatedText(msg: DecodedMessage, opts: AnnotateOptions = {}): string {
  return annotateMessage(msg, opts)
    .map((l) => '  '.repeat(l.depth) + l.text)
    .join('\n');
}
