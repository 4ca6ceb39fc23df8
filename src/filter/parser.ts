import type { FilterNode } from './ast.js';
import { FilterError } from './filter-error.js';
import { Lexer, type Token } from './lexer.js';
import { KNOWN_NAMES, closeNames, normalizeName } from './message-names.js';

/** Words with a meaning of their own; message names are every other word. */
const KEYWORDS = ['and', 'or', 'not', 'client', 'server', 'pgscope', 'queries', 'errors', 'conn', 'sql'];

const TERM = 'a message name (Query, DataRow, …), client, server, pgscope, queries, errors, conn=N, sql ~ "…", not or "("';

const SQL_OPERATOR = '"~", "~*" or "contains" after sql (sql ~ "^\\s*update", sql ~* "users", sql contains "pg_sleep")';

/**
 * Grammar (keywords and names are case-insensitive):
 *   expr  := and ('or' and)*
 *   and   := not ('and' not)*
 *   not   := 'not' not | list
 *   list  := term (',' term)*          a comma means "any of", binding tightest
 *   term  := '(' expr ')' | NAME | client | server | pgscope | queries | errors
 *          | conn '=' N ['-' N]
 *          | sql ('~' | '~*' | 'contains') STRING
 *                                      ~ a JavaScript regular expression, case-sensitive;
 *                                      ~* the same, case-insensitive; contains a substring
 *   STRING := '"' … '"'                \" is a double quote, every other backslash stays
 * so `not Query,Parse` is neither, and `a or b and not c` is `a or (b and (not c))`.
 */
export function parseExpression(expr: string): FilterNode {
  // Characters the lexer rejects are reported first, wherever they are (before any grammar error).
  for (const lexer = new Lexer(expr); lexer.next().kind !== 'end'; );
  return parseExpressionAt(expr, 0, []).node;
}

/**
 * Parse an expression that starts at index `start` of `text` and runs until a top-level
 * (not inside parentheses) word in `stopWords` (case-insensitive), or the end of text.
 * Does not consume the stop word. `end` is the index where parsing stopped (the stop
 * word's first character, or text.length). Errors are FilterError with positions in the
 * whole `text`. Text after the stop word is NOT tokenized (it may contain characters the
 * filter lexer rejects, like "0.5" or "50ms..200ms").
 */
export function parseExpressionAt(text: string, start: number, stopWords: readonly string[]): { node: FilterNode; end: number } {
  const p = new Parser(text, new Lexer(text, start), new Set(stopWords.map((w) => w.toLowerCase())));
  if (p.peek().kind === 'end') throw p.error(p.peek(), 'an expression: ' + TERM);
  const node = p.or();
  const t = p.peek();
  if (t.kind !== 'end') {
    if (t.kind === ')') throw p.error(t, 'the end of the expression', 'This ")" has no "(" before it');
    const stops = stopWords.map((w) => `, "${w}"`).join('');
    throw p.error(t, `"and", "or", ","${stops} or the end of the expression`, 'Two terms need "and", "or" or a comma between them');
  }
  return { node, end: t.pos };
}

/** Nesting deep enough for any expression a person writes, and far from the stack's limit. */
const MAX_NESTING = 100;

class Parser {
  /** The one token of lookahead, read when first asked for. */
  private ahead: Token | null = null;
  /** Open parentheses: stop words count only outside all of them. */
  private depth = 0;

  constructor(
    private readonly expr: string,
    private readonly lexer: Lexer,
    private readonly stopWords: ReadonlySet<string>,
  ) {}

  /** The next token; a stop word at top level reads as the end (its text kept, for messages), and nothing after it is read. */
  peek(): Token {
    if (this.ahead === null) {
      const t = this.lexer.next();
      this.ahead = t.kind === 'word' && this.depth === 0 && this.stopWords.has(t.text.toLowerCase()) ? { kind: 'end', text: t.text, pos: t.pos } : t;
    }
    return this.ahead;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.ahead = null;
    return t;
  }

  private isWord(t: Token, w: string): boolean {
    return t.kind === 'word' && t.text.toLowerCase() === w;
  }

  or(): FilterNode {
    const items = [this.and()];
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      items.push(this.and());
    }
    return items.length === 1 ? items[0]! : { k: 'or', items, comma: false };
  }

  private and(): FilterNode {
    const items = [this.not()];
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      items.push(this.not());
    }
    return items.length === 1 ? items[0]! : { k: 'and', items };
  }

  /** `not`s in a row: bounded like parentheses (each is a level of recursion). */
  private nots = 0;

  private not(): FilterNode {
    const t = this.peek();
    if (this.isWord(t, 'not')) {
      if (++this.nots > MAX_NESTING) throw this.error(t, 'an expression less deeply nested', `At most ${MAX_NESTING} levels of "not" and parentheses`);
      this.next();
      const item = this.not();
      this.nots--;
      return { k: 'not', item };
    }
    return this.list();
  }

  private list(): FilterNode {
    const items = [this.term()];
    while (this.peek().kind === ',') {
      this.next();
      items.push(this.term());
    }
    return items.length === 1 ? items[0]! : { k: 'or', items, comma: true };
  }

  private term(): FilterNode {
    const t = this.next();
    if (t.kind === '(') {
      if (this.depth + this.nots >= MAX_NESTING) throw this.error(t, 'an expression less deeply nested', `At most ${MAX_NESTING} levels of "not" and parentheses`);
      this.depth++;
      if (this.peek().kind === ')') throw this.error(this.peek(), TERM, 'Parentheses need an expression inside');
      const inner = this.or();
      const close = this.peek();
      if (close.kind !== ')') throw this.error(close, '")" to close the "(" at character ' + (t.pos + 1));
      this.next();
      this.depth--;
      return inner;
    }
    if (t.kind === 'number') throw this.error(t, TERM, `A connection number is written conn=${t.text}`);
    if (t.kind === 'string') throw this.error(t, TERM, 'A string is compared with the SQL: sql ~ "…", sql ~* "…" or sql contains "…"');
    if (t.kind !== 'word') throw this.error(t, TERM);
    const w = t.text.toLowerCase();
    switch (w) {
      case 'client':
      case 'server':
      case 'pgscope':
        return { k: 'sender', who: w };
      case 'queries':
        return { k: 'queries' };
      case 'errors':
        return { k: 'errors' };
      case 'conn':
        return this.conn();
      case 'sql':
        return this.sql();
      case 'and':
      case 'or':
        throw this.error(t, TERM, `"${w}" joins two terms: put one before it`);
      case 'not':
        throw this.error(t, TERM, `After a comma only names and keywords may follow: write "… or not …"`);
    }
    const spelled = KNOWN_NAMES.get(normalizeName(t.text));
    if (spelled === undefined) {
      const close = closeNames(t.text, [...KNOWN_NAMES.values(), ...KEYWORDS]);
      const found = `the word ${JSON.stringify(t.text)}, which is neither a message name nor a keyword`;
      throw new FilterError(this.expr, t.pos, found, TERM, close.length > 0 ? `Close names: ${close.join(', ')}` : 'Message names are as in PostgreSQL\'s "Message Formats" (ReadyForQuery, CommandComplete, …)');
    }
    return { k: 'name', key: normalizeName(spelled), spelled };
  }

  /** conn=N or conn=N-M (inclusive). */
  private conn(): FilterNode {
    const eq = this.next();
    if (eq.kind !== '=') throw this.error(eq, '"=" after conn (conn=3, or conn=2-5 for a range)');
    const lo = this.connNumber();
    let hi = lo;
    if (this.peek().kind === '-') {
      this.next();
      const at = this.peek();
      hi = this.connNumber();
      if (hi < lo) throw this.error(at, `a number of at least ${lo} (conn=${lo}-${hi} is an empty range)`);
    }
    return { k: 'conn', lo, hi };
  }

  private connNumber(): number {
    const t = this.next();
    if (t.kind !== 'number') throw this.error(t, 'a connection number (1 or more)');
    const n = Number(t.text);
    if (n < 1 || !Number.isSafeInteger(n)) throw this.error(t, 'a connection number (1 or more)', 'Connections are numbered from 1, as #1 in the log');
    return n;
  }

  /** sql ~ "REGEX", sql ~* "REGEX" (case-insensitive) or sql contains "TEXT". */
  private sql(): FilterNode {
    const o = this.next();
    const op = o.kind === '~' || o.kind === '~*' ? o.kind : this.isWord(o, 'contains') ? 'contains' : null;
    if (op === null) throw this.error(o, SQL_OPERATOR, o.kind === '=' ? 'For the whole text write sql ~ "^…$"' : '');
    const s = this.next();
    if (s.kind !== 'string') {
      throw this.error(s, `a string in double quotes after sql ${op} (sql ${op} "…")`, s.kind === 'word' || s.kind === 'number' ? `Put it in double quotes: sql ${op} "${s.text}"` : '');
    }
    if (op === 'contains') return { k: 'sql', op, pattern: s.text };
    const flags = op === '~*' ? 'i' : '';
    let re: RegExp;
    try {
      re = new RegExp(s.text, flags);
    } catch (e) {
      throw new FilterError(this.expr, s.pos, `the regular expression ${JSON.stringify(s.text)}`, 'a valid JavaScript regular expression', e instanceof Error ? e.message : String(e));
    }
    return { k: 'sql', op, pattern: s.text, flags, re };
  }

  error(t: Token, expected: string, hint = ''): FilterError {
    const found =
      t.kind === 'end'
        ? t.text === ''
          ? 'the end of the expression'
          : `the word ${JSON.stringify(t.text)}`
        : t.kind === 'word'
          ? `the word ${JSON.stringify(t.text)}`
          : t.kind === 'number'
            ? `the number ${t.text}`
            : t.kind === 'string'
              ? `the string ${JSON.stringify(t.text)}`
              : `${JSON.stringify(t.text)}`;
    return new FilterError(this.expr, t.pos, found, expected, hint);
  }
}
