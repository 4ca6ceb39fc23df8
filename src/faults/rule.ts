/**
 * A fault rule (`--fault RULE`): an action, an optional `when` condition in the --filter
 * language, and optional limits, e.g.
 *
 *   error 40001 when sql ~ "^\s*update" once
 *   delay 50ms..200ms when client
 *   reset when server and DataRow after 1000
 *
 * Grammar (words are case-insensitive):
 *   rule      := action ['when' condition] limit*
 *   action    := 'error' SQLSTATE [STRING] | 'fatal' SQLSTATE [STRING]
 *              | 'delay' DURATION ['..' DURATION] | 'reset' | 'close' | 'stall'
 *              | 'chunk' BYTES | 'bandwidth' RATE | 'notice' STRING | 'refuse'
 *   limit     := 'once' | 'times' N | 'after' N | 'every' N | 'probability' P
 *   SQLSTATE  := five characters of 0-9 and A-Z (40001, 40P01, 57P01)
 *   DURATION  := a number and a unit: us, ms, s or m (300ms, 1.5s)
 *   BYTES     := a whole number of bytes (chunk 1: one byte per write)
 *   RATE      := a number, a unit (B, KB, MB, GB; K = 1024) and /s (64KB/s)
 *   STRING    := "…" (\" is a double quote; every other backslash is kept as it is)
 * Limits apply in the order written, each to the matches the one before it let through:
 * `after 10 once` skips ten matches, then fires once.
 */
import { FilterError, parseExpressionAt, printNode, type FilterNode } from '../filter/index.js';

export type FaultAction =
  | { k: 'error' | 'fatal'; code: string; message: string | null }
  | { k: 'delay'; minMs: number; maxMs: number }
  | { k: 'reset' | 'close' | 'stall' | 'refuse' }
  | { k: 'chunk'; bytes: number }
  | { k: 'bandwidth'; bytesPerSecond: number }
  | { k: 'notice'; text: string };

export type FaultLimit = { k: 'once' } | { k: 'times' | 'after' | 'every'; n: number } | { k: 'probability'; p: number };

export interface FaultRule {
  /** The rule as given. */
  readonly source: string;
  readonly action: FaultAction;
  /** null: every message the action applies to. */
  readonly when: FilterNode | null;
  readonly limits: readonly FaultLimit[];
}

/** A rule that is not one: where (0-based index) and what was expected. */
export class FaultRuleError extends Error {
  constructor(
    readonly rule: string,
    readonly pos: number,
    readonly problem: string,
  ) {
    super(`--fault ${JSON.stringify(rule)}: at character ${pos + 1}: ${problem}`);
    this.name = 'FaultRuleError';
  }
}

const ACTIONS = ['error', 'fatal', 'delay', 'reset', 'close', 'stall', 'chunk', 'bandwidth', 'notice', 'refuse'];
const LIMITS = ['once', 'times', 'after', 'every', 'probability'];
const DURATION_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
const RATE_UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, kib: 1024, mb: 1024 ** 2, m: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3, gib: 1024 ** 3 };

/** A cursor over the rule's text: words, numbers and strings, separated by white space. */
class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  /** The next run of non-space characters, not consumed. */
  peekWord(): { word: string; at: number } {
    this.skipSpace();
    const at = this.pos;
    let end = at;
    while (end < this.text.length && !/\s/.test(this.text[end]!)) end++;
    return { word: this.text.slice(at, end), at };
  }

  word(expected: string): { word: string; at: number } {
    const w = this.peekWord();
    if (w.word === '') throw this.fail(w.at, `expected ${expected}, found the end of the rule`);
    this.pos = w.at + w.word.length;
    return w;
  }

  /** A "…" string, if one starts here. */
  string(expected: string): string {
    this.skipSpace();
    const at = this.pos;
    if (this.text[at] !== '"') throw this.fail(at, `expected ${expected} in double quotes`);
    let out = '';
    let i = at + 1;
    while (i < this.text.length) {
      const c = this.text[i]!;
      if (c === '\\' && this.text[i + 1] === '"') {
        out += '"';
        i += 2;
      } else if (c === '"') {
        this.pos = i + 1;
        return out;
      } else {
        out += c;
        i++;
      }
    }
    throw this.fail(at, 'this string has no closing double quote');
  }

  startsString(): boolean {
    this.skipSpace();
    return this.text[this.pos] === '"';
  }

  fail(at: number, problem: string): FaultRuleError {
    return new FaultRuleError(this.text, at, problem);
  }
}

/** Parse one rule; throws FaultRuleError (or the condition's FilterError, as a FaultRuleError) when it is not one. */
export function parseFaultRule(text: string): FaultRule {
  const c = new Cursor(text);
  if (c.atEnd()) throw c.fail(0, `expected an action: ${ACTIONS.join(', ')}`);
  const action = parseAction(c);
  let when: FilterNode | null = null;
  const next = c.peekWord();
  if (next.word.toLowerCase() === 'when') {
    c.pos = next.at + next.word.length;
    if (c.atEnd()) throw c.fail(c.pos, 'expected a condition after "when" (as in --filter: Query, server and DataRow, sql ~ "…", conn=3)');
    try {
      const r = parseExpressionAt(text, c.pos, LIMITS);
      when = r.node;
      c.pos = r.end;
    } catch (e) {
      if (e instanceof FilterError) throw new FaultRuleError(text, e.position, `in the condition, ${e.found}: expected ${e.expected}${e.hint ? `. ${e.hint}` : ''}`);
      throw e;
    }
  }
  const limits: FaultLimit[] = [];
  while (!c.atEnd()) limits.push(parseLimit(c));
  if (action.k === 'refuse' && when !== null && !onlyConnections(when)) {
    throw c.fail(next.at, 'refuse acts on new connections, before any message: its condition may only use conn=N (and, or, not)');
  }
  return { source: text, action, when, limits };
}

function parseAction(c: Cursor): FaultAction {
  const { word, at } = c.word('an action');
  const k = word.toLowerCase();
  switch (k) {
    case 'error':
    case 'fatal': {
      const code = c.word('a SQLSTATE code (40001, 40P01, 57P01)');
      if (!/^[0-9A-Z]{5}$/.test(code.word)) throw c.fail(code.at, `expected a SQLSTATE code of five characters 0-9 and A-Z (40001, 40P01, 57P01), found ${JSON.stringify(code.word)}`);
      const message = c.startsString() ? c.string('the error message') : null;
      return { k, code: code.word, message };
    }
    case 'delay': {
      const d = c.word('a duration (300ms, 1s, 50ms..200ms)');
      const [lo, hi, extra] = d.word.split('..');
      if (extra !== undefined) throw c.fail(d.at, 'expected a duration or a range of two (50ms..200ms)');
      const minMs = duration(c, lo!, d.at);
      const maxMs = hi === undefined ? minMs : duration(c, hi, d.at + lo!.length + 2);
      if (maxMs < minMs) throw c.fail(d.at, `the range ${d.word} ends before it starts`);
      return { k, minMs, maxMs };
    }
    case 'reset':
    case 'close':
    case 'stall':
    case 'refuse':
      return { k };
    case 'chunk': {
      const n = c.word('a number of bytes per write (chunk 1)');
      const bytes = Number(n.word);
      if (!/^[0-9]+$/.test(n.word) || !Number.isSafeInteger(bytes) || bytes < 1) throw c.fail(n.at, `expected a whole number of bytes of at least 1, found ${JSON.stringify(n.word)}`);
      return { k, bytes };
    }
    case 'bandwidth': {
      const r = c.word('a rate (64KB/s)');
      const m = /^([0-9]+(?:\.[0-9]+)?)([a-z]+)\/s$/i.exec(r.word);
      const unit = m ? RATE_UNITS[m[2]!.toLowerCase()] : undefined;
      const bytesPerSecond = m && unit !== undefined ? Number(m[1]) * unit : NaN;
      if (!(bytesPerSecond > 0)) throw c.fail(r.at, `expected a rate such as 64KB/s, 1MB/s or 500B/s, found ${JSON.stringify(r.word)}`);
      return { k, bytesPerSecond };
    }
    case 'notice':
      return { k, text: c.string('the notice text') };
    default:
      throw c.fail(at, `expected an action (${ACTIONS.join(', ')}), found ${JSON.stringify(word)}`);
  }
}

function duration(c: Cursor, text: string, at: number): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-z]+)$/i.exec(text);
  const unit = m ? DURATION_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw c.fail(at, `expected a duration such as 300ms, 1.5s or 2m, found ${JSON.stringify(text)}`);
  const ms = Number(m[1]) * unit;
  if (!Number.isFinite(ms) || ms > 2_147_483_647) throw c.fail(at, `the duration ${text} is too long (at most about 24 days)`);
  return ms;
}

function parseLimit(c: Cursor): FaultLimit {
  const { word, at } = c.word('a limit');
  const k = word.toLowerCase();
  switch (k) {
    case 'once':
      return { k };
    case 'times':
    case 'after':
    case 'every': {
      const n = c.word('a count');
      const v = Number(n.word);
      const least = k === 'after' ? 0 : 1;
      if (!/^[0-9]+$/.test(n.word) || !Number.isSafeInteger(v) || v < least) throw c.fail(n.at, `expected a whole number of at least ${least} after ${k}, found ${JSON.stringify(n.word)}`);
      return { k, n: v };
    }
    case 'probability': {
      const n = c.word('a probability between 0 and 1');
      const p = Number(n.word);
      if (!/^[0-9.]+$/.test(n.word) || !(p >= 0 && p <= 1)) throw c.fail(n.at, `expected a probability between 0 and 1 (0.5), found ${JSON.stringify(n.word)}`);
      return { k, p };
    }
    default:
      throw c.fail(at, `expected a limit (${LIMITS.join(', ')})${k === 'when' ? '' : ' or the end of the rule'}, found ${JSON.stringify(word)}${c.text.slice(0, at).toLowerCase().includes(' when ') ? '' : ' (a condition starts with "when")'}`);
  }
}

/** Whether a condition asks only about connection numbers (all `refuse` can know). */
function onlyConnections(n: FilterNode): boolean {
  switch (n.k) {
    case 'or':
    case 'and':
      return n.items.every(onlyConnections);
    case 'not':
      return onlyConnections(n.item);
    case 'conn':
      return true;
    default:
      return false;
  }
}

/** The rule in canonical form (its condition as --filter prints it). */
export function printRule(r: FaultRule): string {
  const parts = [printAction(r.action)];
  if (r.when) parts.push('when', printNode(r.when));
  for (const l of r.limits) parts.push(l.k === 'once' ? 'once' : l.k === 'probability' ? `probability ${l.p}` : `${l.k} ${l.n}`);
  return parts.join(' ');
}

function printAction(a: FaultAction): string {
  const quote = (s: string): string => `"${s.replace(/"/g, '\\"')}"`;
  switch (a.k) {
    case 'error':
    case 'fatal':
      return a.message === null ? `${a.k} ${a.code}` : `${a.k} ${a.code} ${quote(a.message)}`;
    case 'delay':
      return a.minMs === a.maxMs ? `delay ${a.minMs}ms` : `delay ${a.minMs}ms..${a.maxMs}ms`;
    case 'chunk':
      return `chunk ${a.bytes}`;
    case 'bandwidth':
      return `bandwidth ${a.bytesPerSecond}B/s`;
    case 'notice':
      return `notice ${quote(a.text)}`;
    default:
      return a.k;
  }
}
