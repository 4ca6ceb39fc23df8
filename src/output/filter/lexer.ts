import { FilterError } from './filter-error.js';

export type TokenKind = 'word' | 'number' | '(' | ')' | ',' | '=' | '-' | 'end';

export interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based index in the expression. */
  pos: number;
}

/** Operators people type from other languages, and the word this syntax uses instead. */
const FOREIGN_OPERATORS: Record<string, string> = { '&': 'and', '|': 'or', '!': 'not' };

/** Split a --filter expression into words, numbers and punctuation; whitespace separates. */
export function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === ',' || c === '=' || c === '-') {
      out.push({ kind: c, text: c, pos: i++ });
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < expr.length && /[A-Za-z0-9_]/.test(expr[i]!)) i++;
      out.push({ kind: 'word', text: expr.slice(start, i), pos: start });
    } else if (/[0-9]/.test(c)) {
      const start = i;
      while (i < expr.length && /[0-9]/.test(expr[i]!)) i++;
      out.push({ kind: 'number', text: expr.slice(start, i), pos: start });
    } else {
      const instead = FOREIGN_OPERATORS[c];
      throw new FilterError(
        expr,
        i,
        `the character ${JSON.stringify(c)}`,
        'a message name, a keyword (client, server, pgscope, queries, errors, conn=N), and, or, not, a comma or parentheses',
        instead ? `Write "${instead}" instead of ${JSON.stringify(expr.slice(i, i + (expr[i + 1] === c ? 2 : 1)))}` : '',
      );
    }
  }
  out.push({ kind: 'end', text: '', pos: expr.length });
  return out;
}
