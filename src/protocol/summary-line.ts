/**
 * One line that says what a message is, for a person scanning a list: `"select 1"` for a
 * Query, `(1, 'teapot')` for a DataRow, `ERROR 22012 division by zero` for an
 * ErrorResponse. Read from a message's fields, whichever form they have: the codec's spans
 * (the compact text log) or JSON lines' fields (the inspector), so both say the same.
 * Pure: the result is plain text, not yet made safe for a terminal or a page.
 */

/** The members of a Span and of a JSON-lines field that a summary reads. */
export interface SummaryField {
  name: string;
  value?: unknown;
  meaning?: string;
  typed?: { type: string; value: unknown; text: string } | undefined;
  children?: readonly SummaryField[] | undefined;
}

/** Longest text of one value in a summary, and of the whole line. */
const VALUE_CHARS = 60;
const LINE_CHARS = 200;
/** Most columns or parameters listed. */
const MAX_ITEMS = 8;

const decoder = new TextDecoder('utf-8', { fatal: false });

function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  // Not between the two halves of a surrogate pair (an emoji): a lone half would show as an escape.
  const end = /[\ud800-\udbff]/.test(s.charAt(max - 2)) ? max - 2 : max - 1;
  return `${s.slice(0, end)}…`;
}

/** A byte string as text: a Span holds bytes, JSON lines hold { text } or { hex }. */
function bytesText(v: unknown): string | null {
  if (v instanceof Uint8Array) return decoder.decode(v);
  if (v !== null && typeof v === 'object') {
    const o = v as { text?: unknown; hex?: unknown };
    if (typeof o.text === 'string') return o.text;
    if (typeof o.hex === 'string') return `\\x${o.hex}`;
  }
  return null;
}

/** Types whose values JavaScript holds as strings only because they may not fit a number. */
const NUMERIC_TYPES = new Set(['int8', 'numeric', 'money', 'oid', 'xid', 'xid8', 'float4', 'float8']);

/** A typed value as SQL would write it: strings quoted (but numbers that are strings only for size). */
function typedLiteral(t: { type: string; value: unknown; text: string }): string {
  const s = clip(t.text, VALUE_CHARS);
  return typeof t.value === 'string' && !NUMERIC_TYPES.has(t.type) ? `'${s}'` : s;
}

/** A field's value as a short literal: strings quoted, numbers bare, NULL for SQL NULL. */
function literal(f: SummaryField | undefined, quote: boolean): string {
  if (!f) return '?';
  if (f.typed) return typedLiteral(f.typed);
  const v = f.value;
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  const s = typeof v === 'string' ? v : bytesText(v);
  if (s === null) return clip(JSON.stringify(v) ?? '', VALUE_CHARS);
  return quote ? `'${clip(s, VALUE_CHARS)}'` : clip(s, VALUE_CHARS);
}

function field(fields: readonly SummaryField[], name: string): SummaryField | undefined {
  for (const f of fields) if (f.name === name) return f;
  return undefined;
}

function all(fields: readonly SummaryField[], name: string): SummaryField[] {
  return fields.filter((f) => f.name === name);
}

function text(fields: readonly SummaryField[], name: string): string | null {
  const v = field(fields, name)?.value;
  return typeof v === 'string' ? v : v === undefined || v === null ? null : (bytesText(v) ?? String(v));
}

/** A list of values, `(a, b, …)`, at most MAX_ITEMS shown (and worked out). */
function tuple<T>(items: readonly T[], show: (item: T) => string): string {
  const shown = items.slice(0, MAX_ITEMS).map(show);
  if (items.length > MAX_ITEMS) shown.push(`… ${items.length - MAX_ITEMS} more`);
  return `(${shown.join(', ')})`;
}

/** A DataRow column or Bind parameter: its `value` child (typed when known); NULL when length is -1. */
function valueOf(item: SummaryField): string {
  const len = field(item.children ?? [], 'length')?.value;
  if (len === -1) return 'NULL';
  const value = field(item.children ?? [], 'value');
  return literal(value ?? item, true);
}

/** ErrorResponse / NoticeResponse: `SEVERITY CODE message`. */
function errorLine(fields: readonly SummaryField[]): string {
  const parts = new Map<string, string>();
  for (const f of all(fields, 'field')) {
    const kids = f.children ?? [];
    const code = field(kids, 'field type')?.value;
    const value = text(kids, 'value');
    if (typeof code === 'string' && value !== null && !parts.has(code)) parts.set(code, value);
  }
  return [parts.get('V') ?? parts.get('S'), parts.get('C'), parts.get('M')].filter((s) => s !== undefined).join(' ');
}

function quoted(s: string | null): string {
  return s === null ? '' : JSON.stringify(clip(s, LINE_CHARS - 20));
}

function named(kind: string, name: string | null): string {
  return name ? `${kind} ${JSON.stringify(name)}` : `unnamed ${kind}`;
}

function byName(name: string, fields: readonly SummaryField[]): string | null {
  switch (name) {
    case 'Query':
      return quoted(text(fields, 'query'));
    case 'Parse':
      return `${named('statement', text(fields, 'destination prepared statement'))} ${quoted(text(fields, 'query string'))}`;
    case 'Bind': {
      const params = all(fields, 'parameter');
      const into = named('portal', text(fields, 'destination portal'));
      return `${into} ← ${named('statement', text(fields, 'source prepared statement'))}${params.length > 0 ? ` ${tuple(params, valueOf)}` : ''}`;
    }
    case 'Execute': {
      const max = field(fields, 'maximum rows')?.value;
      return `${named('portal', text(fields, 'portal'))}${typeof max === 'number' && max > 0 ? `, at most ${max} rows` : ''}`;
    }
    case 'Describe':
    case 'Close': {
      const target = field(fields, 'target')?.value === 'S' ? 'statement' : 'portal';
      return named(target, text(fields, 'name'));
    }
    case 'DataRow':
      return tuple(all(fields, 'column'), valueOf);
    case 'RowDescription':
      return tuple(all(fields, 'field'), (f) => {
        const type = /\(([^)]+)\)/.exec(field(f.children ?? [], 'data type OID')?.meaning ?? '')?.[1];
        return `${literal(f, false)}${type ? ` ${type}` : ''}`;
      });
    case 'CommandComplete':
      return text(fields, 'command tag');
    case 'ErrorResponse':
    case 'NoticeResponse':
      return errorLine(fields);
    case 'ReadyForQuery':
      return field(fields, 'status')?.meaning ?? text(fields, 'status');
    case 'ParameterStatus':
      return `${text(fields, 'name') ?? '?'} = ${text(fields, 'value') ?? '?'}`;
    case 'StartupMessage': {
      const params = field(fields, 'parameters')?.children ?? [];
      return all(params, 'parameter')
        .map((p) => `${text(p.children ?? [], 'name') ?? '?'}=${text(p.children ?? [], 'value') ?? ''}`)
        .join(' ');
    }
    case 'CopyData': {
      // The rows as COPY sends them (text, csv); binary COPY shows escaped.
      const data = text(fields, 'data');
      return data === null ? null : quoted(data);
    }
    default:
      return null;
  }
}

/** The first meaning among a message's own fields (not its type and length words). */
function firstMeaning(name: string, fields: readonly SummaryField[]): string {
  for (const f of fields) {
    if (f.name === 'type' || f.name === 'length') continue;
    if (f.meaning) return f.meaning.startsWith(`${name}: `) ? f.meaning.slice(name.length + 2) : f.meaning;
    if (typeof f.value === 'string' || typeof f.value === 'number') return `${f.name} ${literal(f, true)}`;
  }
  return '';
}

/**
 * The summary of a message named `name` (DecodedMessage.name) with these fields (top level,
 * as the codec or JSON lines list them); nested payload names (`sub`) lead when there are any.
 */
export function summaryLine(name: string, sub: readonly string[], fields: readonly SummaryField[]): string {
  // Empty when the field it reads is missing (a huge Query's SQL was not kept): then the first meaning says why.
  // A replication payload (CopyData carrying XLogData …) is said by its nested names and fields.
  const specific = sub.length > 0 ? null : byName(name, fields);
  const body = specific || firstMeaning(name, fields);
  const lead = sub.length > 0 ? `${sub.join(' › ')} ` : '';
  return clip(`${lead}${body}`.trim(), LINE_CHARS);
}
