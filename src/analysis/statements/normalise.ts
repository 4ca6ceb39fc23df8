import { isWord, tokenize, type Token } from '../../protocol/sql/lexer.js';

/** Longest SQL text normalised; beyond it the text is cut (the summary groups by this prefix). */
export const NORMALISE_MAX_CHARS = 4096;

/**
 * SQL with its literals replaced, so that statements differing only in constants group
 * together (as pg_stat_statements does): string constants of every kind, dollar-quoted
 * constants, numbers and TRUE/FALSE become `?`; positional parameters ($1) stay; a list
 * of only constants and parameters after IN, or inside ARRAY[…], collapses to `(...)` /
 * `[...]`, so IN lists of different lengths group together; comments are dropped
 * (sqlcommenter-style trace comments would split groups); whitespace runs become one space;
 * a trailing semicolon goes. Keywords and identifiers keep the case they were sent in.
 * NULL is kept: it is also the operand of IS NULL.
 */
export function normaliseSql(sql: string): string {
  const cut = sql.length > NORMALISE_MAX_CHARS;
  const tokens = tokenize(cut ? sql.slice(0, NORMALISE_MAX_CHARS) : sql).filter((t) => t.kind !== 'comment');
  const replaced: Token[] = tokens.map((t) =>
    t.kind === 'string' || t.kind === 'dollar' || t.kind === 'number' || isWord(t, 'TRUE') || isWord(t, 'FALSE') ? { kind: 'param', text: '?' } : t,
  );
  const collapsed = collapseLists(foldSigns(replaced, tokens));
  let out = '';
  let pendingSpace = false;
  for (const t of collapsed) {
    if (t.kind === 'space') {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    out += t.text;
  }
  out = out.replace(/\s*;\s*$/, '');
  return cut ? `${out}…` : out;
}

/**
 * A sign in front of a number is part of the constant (`abs(-7)` and `abs(7)`, pgbench's
 * `abalance + -484` and `+ 484` are the same statement), as pg_stat_statements folds it.
 * It is a sign, not a subtraction, when what comes before it is not an operand: the start,
 * an opening bracket, a comma, an operator, or a keyword such as SELECT or AND.
 */
function foldSigns(replaced: Token[], original: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < replaced.length; i++) {
    const t = replaced[i]!;
    if (t.kind === 'punct' && (t.text === '-' || t.text === '+') && original[i + 1]?.kind === 'number') {
      let p = out.length - 1;
      while (p >= 0 && out[p]!.kind === 'space') p--;
      const before = p >= 0 ? out[p]! : null;
      const operand = before !== null && (before.kind === 'param' || before.kind === 'quoted-ident' || (before.kind === 'punct' && (before.text === ')' || before.text === ']')) || (before.kind === 'word' && !SQL_KEYWORDS_BEFORE_OPERAND.has(before.text.toUpperCase())));
      if (!operand) continue;
    }
    out.push(t);
  }
  return out;
}

/** Words after which a '-' starts a negative number rather than a subtraction. */
const SQL_KEYWORDS_BEFORE_OPERAND = new Set(['SELECT', 'WHERE', 'AND', 'OR', 'NOT', 'SET', 'VALUES', 'RETURNING', 'WHEN', 'THEN', 'ELSE', 'CASE', 'ON', 'BY', 'LIMIT', 'OFFSET', 'HAVING', 'IN', 'IS', 'LIKE', 'BETWEEN', 'AS', 'DEFAULT', 'ARRAY']);

/** IN (?, ?, $3) → IN (...); ARRAY[?, ?] → ARRAY[...]. */
function collapseLists(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    out.push(t);
    const isIn = isWord(t, 'IN');
    const isArray = isWord(t, 'ARRAY');
    if (!isIn && !isArray) continue;
    let j = i + 1;
    while (tokens[j]?.kind === 'space') j++;
    const open = isIn ? '(' : '[';
    const close = isIn ? ')' : ']';
    if (tokens[j]?.kind !== 'punct' || tokens[j]!.text !== open) continue;
    // Only constants, parameters, commas, spaces and casts of them (?::int) qualify.
    let k = j + 1;
    let items = 0;
    let ok = true;
    for (; k < tokens.length; k++) {
      const u = tokens[k]!;
      if (u.kind === 'punct' && u.text === close) break;
      if (u.kind === 'param') items++;
      else if (u.kind === 'space' || (u.kind === 'punct' && (u.text === ',' || u.text === ':')) || (u.kind === 'word' && tokens[k - 1]?.text === ':')) continue;
      else {
        ok = false;
        break;
      }
    }
    if (!ok || k >= tokens.length || items === 0) continue;
    if (j > i + 1) out.push({ kind: 'space', text: ' ' });
    out.push({ kind: 'punct', text: `${open}...${close}` });
    i = k;
  }
  return out;
}
