import type { Label } from '../session/events.js';
import { summaryLine, type SummaryField } from '../protocol/summary-line.js';
import type { CodecEvent, DecodedMessage, Direction, Span } from '../protocol/types.js';
import { quoteBounded } from './escape.js';
import { MONOCHROME, type Style } from './style.js';

export interface CompactOptions {
  style?: Style;
  /** Values longer than this many bytes (or characters) are cut with "…" (default 256). */
  maxValueBytes?: number;
  /** --redact-passwords: secret fields (and bytes that could not be decoded) are not shown. */
  redact?: boolean;
}

/**
 * Who sent a message, as compact lines say it: C and S for traffic forwarded from the
 * client and the server; pgscope's own exchanges name both ends, P being pgscope (P>C: it
 * answered the client itself; C>P: it took the client's message and did not forward it).
 */
const MARKERS: Record<Label, string> = {
  'client -> server': 'C',
  'server -> client': 'S',
  'client -> script': 'C>P',
  'script -> client': 'P>C',
  'script -> server': 'P>S',
  'server -> script': 'S>P',
};

/** Without a label (pgscope decode): the direction's forwarded marker. */
const BY_DIRECTION: Record<Direction, string> = { frontend: 'C', backend: 'S' };

/** Bytes of an undecodable stretch shown in its line, as the annotated log shows them. */
const UNPARSED_SHOWN = 32;

/**
 * --log-forwarded compact: one line per message, `#1  C Query "select 1"`, the words after
 * the message's name being summaryLine's (src/protocol/summary-line.ts, which the inspector
 * shows too). The marker (and name) in the sending side's colour, as the annotated log
 * colours its labels; an ErrorResponse whole in the problem colour; a message that could
 * not be decoded keeps its one line, with `!! why` at the end. Framing errors and bytes not
 * decoded are a line each.
 *
 * Bounded like the annotated log: no value longer than --max-value-bytes is shown whole
 * (summaryLine cuts further: 60 characters a value, 200 a line), and with
 * --redact-passwords no secret field's value is shown. The text is not yet safe for a
 * terminal: the LineWriter makes it so (terminalSafe), as for every text output.
 */
export class CompactLog {
  private readonly style: Style;
  private readonly cap: number;
  private readonly redact: boolean;

  constructor(opts: CompactOptions = {}) {
    this.style = opts.style ?? MONOCHROME;
    this.cap = opts.maxValueBytes ?? 256;
    this.redact = opts.redact ?? false;
  }

  /** The line of one codec event (none for the header of a message still arriving), `prefix` (the text log's `#N  `) in front. */
  write(ev: CodecEvent, label: Label | undefined, prefix: string, emit: (line: string) => void): void {
    const style = this.style;
    switch (ev.kind) {
      case 'message': {
        const m = ev.message;
        const d = m.frame.direction;
        const who = `${markerOf(label, d)} ${m.name}`;
        const summary = messageSummary(m, this.cap, this.redact);
        let line: string;
        if (m.name === 'ErrorResponse') line = style.problem(summary === '' ? who : `${who} ${summary}`);
        else line = summary === '' ? this.side(who, d) : `${this.side(who, d)} ${summary}`;
        if (m.error) line += ' ' + style.problem(`!! ${m.error.message}`);
        emit(prefix + line);
        return;
      }
      case 'message-start':
        return;
      case 'error': {
        const d = ev.error.direction;
        emit(`${prefix}${this.side(markerOf(label, d), d)} ${style.problem(`!! ${ev.error.message}`)}`);
        return;
      }
      case 'unparsed': {
        const d = ev.direction;
        const n = ev.length;
        // As in the annotated log: bytes not decoded may hold anything (a password message after a framing error).
        const shown = this.redact ? `<redacted ${n} byte${n === 1 ? '' : 's'}>` : quoteBounded(ev.prefix, UNPARSED_SHOWN, n);
        emit(`${prefix}${this.side(markerOf(label, d), d)} ${style.problem('UNPARSED')} ${n} byte${n === 1 ? '' : 's'} not decoded (${ev.reason}): ${shown}`);
        return;
      }
    }
  }

  /** Text in the sending side's colour, as the annotated log colours its labels. */
  private side(text: string, d: Direction): string {
    return d === 'frontend' ? this.style.client(text) : this.style.server(text);
  }

}

/**
 * A message's one-line summary (summaryLine), read from its spans as they may be shown: the
 * spans themselves when nothing in them is secret (when redacting) or longer than `cap`
 * (nearly always), else a copy with those values redacted or cut. The compact log's text,
 * and the inspector's rows.
 */
export function messageSummary(m: DecodedMessage, cap: number, redact: boolean): string {
  const fields: readonly SummaryField[] = needsView(m.spans, cap, redact) ? m.spans.map((s) => viewOf(s, cap, redact)) : m.spans;
  return summaryLine(m.name, m.sub, fields);
}

function markerOf(label: Label | undefined, d: Direction): string {
  return label === undefined ? BY_DIRECTION[d] : MARKERS[label];
}

/** A value too long to be shown whole (bytes, text, or a typed value's text). */
function tooLong(s: Span, cap: number): boolean {
  const v = s.value;
  if (v instanceof Uint8Array || typeof v === 'string') return v.length > cap;
  return s.typed !== undefined && s.typed.text.length > cap;
}

/** Whether a span is to be hidden when redacting: secret, or bytes that could not be read (they could be a password). */
function hidden(s: Span, redact: boolean): boolean {
  return redact && (s.secret === true || s.flag === 'unparsed');
}

function needsView(spans: readonly Span[], cap: number, redact: boolean): boolean {
  for (const s of spans) {
    if (hidden(s, redact) || tooLong(s, cap)) return true;
    if (s.children !== undefined && needsView(s.children, cap, redact)) return true;
  }
  return false;
}

function hasHidden(spans: readonly Span[], redact: boolean): boolean {
  for (const s of spans) if (hidden(s, redact) || (s.children !== undefined && hasHidden(s.children, redact))) return true;
  return false;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Text cut to `cap` characters (not between the halves of a surrogate pair), with "…" where it was cut. */
function cut(s: string, cap: number): string {
  if (s.length <= cap) return s;
  const end = cap > 0 && /[\ud800-\udbff]/.test(s.charAt(cap - 1)) ? cap - 1 : cap;
  return `${s.slice(0, end)}…`;
}

/** The first `cap` bytes of a byte string as text (not ending inside a UTF-8 character), with "…". */
function cutBytes(v: Uint8Array, cap: number): string {
  let end = cap;
  while (end > 0 && (v[end]! & 0xc0) === 0x80) end--;
  return `${decoder.decode(v.subarray(0, end))}…`;
}

/**
 * One span as summaryLine may read it: a secret value says `<redacted N bytes>` (its
 * meaning, as the annotated log's, says what it was, never what it holds), a group holding
 * a secret loses its own value (built from its children's), and values over the cap are cut.
 */
function viewOf(s: Span, cap: number, redact: boolean): SummaryField {
  const f: SummaryField = { name: s.name };
  if (s.meaning !== undefined) f.meaning = s.meaning;
  if (hidden(s, redact)) {
    const n = s.end - s.start;
    f.value = `<redacted ${n} byte${n === 1 ? '' : 's'}>`;
    return f;
  }
  const v = s.value;
  const kids = s.children;
  const groupHides = kids !== undefined && redact && hasHidden(kids, redact);
  if (!groupHides) {
    if (v instanceof Uint8Array && v.length > cap) f.value = { text: cutBytes(v, cap) };
    else if (typeof v === 'string') f.value = cut(v, cap);
    else f.value = v;
    if (s.typed !== undefined) f.typed = s.typed.text.length > cap ? { ...s.typed, text: cut(s.typed.text, cap) } : s.typed;
  }
  if (kids !== undefined) f.children = kids.map((c) => viewOf(c, cap, redact));
  return f;
}
