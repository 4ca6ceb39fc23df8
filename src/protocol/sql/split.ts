import { isWord, tokenize } from './lexer.js';

/**
 * Whether a Query text can hold more than one statement: it has a semicolon followed by
 * anything but whitespace. Only then is it worth splitting (splitStatements).
 */
export function mayHoldSeveral(sql: string): boolean {
  const first = sql.indexOf(';');
  if (first === -1) return false;
  for (let i = first + 1; i < sql.length; i++) {
    const c = sql.charCodeAt(i);
    // The lexer's whitespace: space, \t, \n, \v, \f, \r.
    if (c !== 0x20 && (c < 0x09 || c > 0x0d)) return true;
  }
  return false;
}

/**
 * The statements of a simple Query, in order. "The query string … can contain multiple
 * SQL statements separated by semicolons"; the server answers each with its own
 * CommandComplete (or stops at the first ErrorResponse), so the statement context gives
 * the i-th completion the i-th text. Semicolons inside quotes, comments and parentheses (CREATE RULE
 * … DO (a; b)) do not split. Empty statements are skipped as the server skips them.
 * A text holding BEGIN ATOMIC (a SQL-standard function body, whose inner semicolons sit at
 * the top level) is not split at all: the caller then uses the whole text for every
 * statement rather than guessing.
 */
export function splitStatements(sql: string): string[] {
  const tokens = tokenize(sql);
  for (let i = 0; i < tokens.length; i++) {
    if (isWord(tokens[i], 'BEGIN')) {
      let j = i + 1;
      while (tokens[j]?.kind === 'space' || tokens[j]?.kind === 'comment') j++;
      if (isWord(tokens[j], 'ATOMIC')) return [sql];
    }
  }
  const out: string[] = [];
  let depth = 0;
  let current = '';
  let meaningful = false;
  const end = (): void => {
    if (meaningful) out.push(current.trim());
    current = '';
    meaningful = false;
  };
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === ';' && depth === 0) {
      end();
      continue;
    }
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) depth++;
    else if (t.kind === 'punct' && (t.text === ')' || t.text === ']') && depth > 0) depth--;
    if (t.kind !== 'space' && t.kind !== 'comment') meaningful = true;
    current += t.text;
  }
  end();
  return out;
}

/** True when the text holds nothing but whitespace, comments and semicolons (the server answers EmptyQueryResponse). */
export function isEmptySql(sql: string): boolean {
  return tokenize(sql).every((t) => t.kind === 'space' || t.kind === 'comment' || (t.kind === 'punct' && t.text === ';'));
}
