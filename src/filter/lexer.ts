import { FilterError } from './filter-error.js';

export type TokenKind = 'word' | 'number' | 'string' | '(' | ')' | ',' | '=' | '-' | '~' | '~*' | 'end';

export interface Token {
  kind: TokenKind;
  /** The token as written; for a string, its value (quotes removed, `\"` read as `"`). */
  text: string;
  /** 0-based index in the whole text. */
  pos: number;
}

/** Operators people type from other languages, and the word this syntax uses instead. */
const FOREIGN_OPERATORS: Record<string, string> = { '&': 'and', '|': 'or', '!': 'not' };

/**
 * Splits a filter expression into words, numbers, strings and punctuation (whitespace
 * separates), one token per next(): nothing after the last token asked for is read, so an
 * expression can end where its caller's own syntax starts.
 */
export class Lexer {
  private i: number;

  constructor(
    private readonly expr: string,
    start = 0,
  ) {
    this.i = start;
  }

  next(): Token {
    const expr = this.expr;
    let i = this.i;
    while (i < expr.length && (expr[i] === ' ' || expr[i] === '\t' || expr[i] === '\n' || expr[i] === '\r')) i++;
    const start = i;
    let kind: TokenKind;
    let text: string | undefined;
    if (i === expr.length) {
      kind = 'end';
    } else {
      const c = expr[i]!;
      if (c === '(' || c === ')' || c === ',' || c === '=' || c === '-') {
        kind = c;
        i++;
      } else if (c === '~') {
        kind = expr[i + 1] === '*' ? '~*' : '~';
        i += kind.length;
      } else if (c === '"') {
        kind = 'string';
        ({ text, end: i } = this.string(start));
      } else if (/[A-Za-z_]/.test(c)) {
        kind = 'word';
        while (i < expr.length && /[A-Za-z0-9_]/.test(expr[i]!)) i++;
      } else if (/[0-9]/.test(c)) {
        kind = 'number';
        while (i < expr.length && /[0-9]/.test(expr[i]!)) i++;
      } else {
        const instead = FOREIGN_OPERATORS[c];
        throw new FilterError(
          expr,
          i,
          `the character ${JSON.stringify(c)}`,
          'a message name, a keyword (client, server, pgscope, queries, errors, conn=N, sql ~ "…"), and, or, not, a comma or parentheses',
          instead ? `Write "${instead}" instead of ${JSON.stringify(expr.slice(i, i + (expr[i + 1] === c ? 2 : 1)))}` : '',
        );
      }
    }
    this.i = i;
    return { kind, text: text ?? expr.slice(start, i), pos: start };
  }

  /** The string whose opening quote is at `open`: `\"` is a quote, every other backslash stays. */
  private string(open: number): { text: string; end: number } {
    const expr = this.expr;
    let text = '';
    let from = open + 1;
    for (let i = from; i < expr.length; i++) {
      if (expr[i] === '\\' && expr[i + 1] === '"') {
        text += expr.slice(from, i) + '"';
        from = ++i + 1;
      } else if (expr[i] === '"') {
        return { text: text + expr.slice(from, i), end: i + 1 };
      }
    }
    throw new FilterError(expr, open, 'a string with no closing double quote', 'a string in double quotes ("…")', 'Inside a string, write \\" for a double quote');
  }
}
