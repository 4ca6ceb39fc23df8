/**
 * A small SQL tokenizer, enough to split a simple Query into its statements (split.ts), find
 * password literals (passwords.ts) and normalise SQL for the summary (src/analysis). It follows PostgreSQL's lexical rules
 * ("Lexical Structure" in the documentation) where they decide where a token ends:
 * string constants ('…' with '' inside, E'…' with backslash escapes, B'…', X'…', U&'…',
 * N'…'), dollar-quoted constants ($tag$…$tag$), quoted identifiers ("…"), positional
 * parameters ($1), numeric constants, -- and nested /* *\/ comments. It never throws: an
 * unterminated quote or comment runs to the end of the text, as the server would see it.
 * It assumes standard_conforming_strings = on (the default since PostgreSQL 9.1).
 */

export type TokenKind =
  | 'space'
  | 'comment'
  /** A string constant of any kind, prefix included (E'a\'b', X'ff'). */
  | 'string'
  /** A dollar-quoted string constant. */
  | 'dollar'
  | 'number'
  /** A keyword or an unquoted identifier. */
  | 'word'
  | 'quoted-ident'
  /** $1, $2 … */
  | 'param'
  /** Anything else, one character at a time: ( ) , ; operators. */
  | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CONT = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, end: number): void => {
    out.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j]!)) j++;
      push('space', j);
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      push('comment', nl === -1 ? n : nl);
    } else if (c === '/' && next === '*') {
      push('comment', blockCommentEnd(sql, i));
    } else if (c === "'") {
      push('string', quotedEnd(sql, i + 1, "'", false));
    } else if ((c === 'E' || c === 'e') && next === "'") {
      push('string', quotedEnd(sql, i + 2, "'", true));
    } else if ((c === 'B' || c === 'b' || c === 'X' || c === 'x' || c === 'N' || c === 'n') && next === "'") {
      push('string', quotedEnd(sql, i + 2, "'", false));
    } else if ((c === 'U' || c === 'u') && next === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      const q = sql[i + 2]!;
      push(q === "'" ? 'string' : 'quoted-ident', quotedEnd(sql, i + 3, q, false));
    } else if (c === '"') {
      push('quoted-ident', quotedEnd(sql, i + 1, '"', false));
    } else if (c === '$' && next !== undefined && DIGIT.test(next)) {
      let j = i + 1;
      while (j < n && DIGIT.test(sql[j]!)) j++;
      push('param', j);
    } else if (c === '$') {
      const end = dollarQuoteEnd(sql, i);
      if (end === null) push('punct', i + 1);
      else push('dollar', end);
    } else if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      push('number', numberEnd(sql, i));
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_CONT.test(sql[j]!)) j++;
      push('word', j);
    } else {
      push('punct', i + 1);
    }
  }
  return out;
}

/** "Block comments nest, as specified in the SQL standard but unlike C." */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** The end (exclusive) of a quoted token whose body starts at `from`: a doubled quote is one quote; E'' strings also take backslash escapes. */
function quotedEnd(sql: string, from: number, quote: string, backslash: boolean): number {
  let i = from;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslash && c === '\\') i += 2;
    else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/**
 * "A dollar-quoted string constant consists of a dollar sign ($), an optional 'tag' of zero
 * or more characters, another dollar sign, an arbitrary sequence of characters …, and ends
 * with a dollar sign, the same tag, and a dollar sign." The tag follows identifier rules
 * but cannot contain a dollar sign. null: not a dollar quote here.
 */
function dollarQuoteEnd(sql: string, start: number): number | null {
  let j = start + 1;
  if (j < sql.length && sql[j] !== '$') {
    if (!IDENT_START.test(sql[j]!)) return null;
    while (j < sql.length && sql[j] !== '$' && /[A-Za-z0-9_\u0080-\uffff]/.test(sql[j]!)) j++;
    if (sql[j] !== '$') return null;
  }
  if (j >= sql.length) return null;
  const delimiter = sql.slice(start, j + 1);
  const close = sql.indexOf(delimiter, j + 1);
  return close === -1 ? sql.length : close + delimiter.length;
}

/** Digits, a fraction, an exponent, 0x/0o/0b prefixes and _ separators (PostgreSQL 16). */
function numberEnd(sql: string, start: number): number {
  let j = start;
  if (sql[j] === '0' && /[xXoObB]/.test(sql[j + 1] ?? '') && /[0-9A-Fa-f_]/.test(sql[j + 2] ?? '')) {
    j += 2;
    while (j < sql.length && /[0-9A-Fa-f_]/.test(sql[j]!)) j++;
    return j;
  }
  while (j < sql.length && /[0-9_]/.test(sql[j]!)) j++;
  // "1..2" is not a number followed by ".2": stop at a second dot (range syntax in some extensions).
  if (sql[j] === '.' && sql[j + 1] !== '.') {
    j++;
    while (j < sql.length && /[0-9_]/.test(sql[j]!)) j++;
  }
  if ((sql[j] === 'e' || sql[j] === 'E') && /[0-9]/.test(sql[j + 1] === '+' || sql[j + 1] === '-' ? (sql[j + 2] ?? '') : (sql[j + 1] ?? ''))) {
    j += sql[j + 1] === '+' || sql[j + 1] === '-' ? 2 : 1;
    while (j < sql.length && /[0-9]/.test(sql[j]!)) j++;
  }
  return j;
}

/** A keyword or identifier token equal to `word`, ignoring case. */
export function isWord(t: Token | undefined, word: string): boolean {
  return t !== undefined && t.kind === 'word' && t.text.toUpperCase() === word;
}
