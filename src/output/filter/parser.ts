import type { FilterNode } from './ast.js';
import { FilterError } from './filter-error.js';
import { tokenize, type Token } from './lexer.js';
import { KNOWN_NAMES, closeNames, normalizeName } from './message-names.js';

/** Words with a meaning of their own; message names are every other word. */
const KEYWORDS = ['and', 'or', 'not', 'client', 'server', 'pgscope', 'queries', 'errors', 'conn'];

const TERM = 'a message name (Query, DataRow, …), client, server, pgscope, queries, errors, conn=N, not or "("';

/**
 * Grammar (keywords and names are case-insensitive):
 *   expr  := and ('or' and)*
 *   and   := not ('and' not)*
 *   not   := 'not' not | list
 *   list  := term (',' term)*          a comma means "any of", binding tightest
 *   term  := '(' expr ')' | NAME | client | server | pgscope | queries | errors
 *          | conn '=' N ['-' N]
 * so `not Query,Parse` is neither, and `a or b and not c` is `a or (b and (not c))`.
 */
export function parseExpression(expr: string): FilterNode {
  const p = new Parser(expr, tokenize(expr));
  if (p.peek().kind === 'end') throw p.error(p.peek(), 'an expression: ' + TERM);
  const node = p.or();
  const t = p.peek();
  if (t.kind !== 'end') {
    if (t.kind === ')') throw p.error(t, 'the end of the expression', 'This ")" has no "(" before it');
    throw p.error(t, '"and", "or", "," or the end of the expression', 'Two terms need "and", "or" or a comma between them');
  }
  return node;
}

class Parser {
  private i = 0;

  constructor(
    private readonly expr: string,
    private readonly tokens: Token[],
  ) {}

  peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
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

  private not(): FilterNode {
    if (this.isWord(this.peek(), 'not')) {
      this.next();
      return { k: 'not', item: this.not() };
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
      if (this.peek().kind === ')') throw this.error(this.peek(), TERM, 'Parentheses need an expression inside');
      const inner = this.or();
      const close = this.peek();
      if (close.kind !== ')') throw this.error(close, '")" to close the "(" at character ' + (t.pos + 1));
      this.next();
      return inner;
    }
    if (t.kind === 'number') throw this.error(t, TERM, `A connection number is written conn=${t.text}`);
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

  error(t: Token, expected: string, hint = ''): FilterError {
    const found = t.kind === 'end' ? 'the end of the expression' : t.kind === 'word' ? `the word ${JSON.stringify(t.text)}` : t.kind === 'number' ? `the number ${t.text}` : `${JSON.stringify(t.text)}`;
    return new FilterError(this.expr, t.pos, found, expected, hint);
  }
}
