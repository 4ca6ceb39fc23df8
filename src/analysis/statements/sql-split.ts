import { isWord, tokenize } from './sql-lexer.js';

/**
 * The statements of a simple Query, in order. "The query string … can contain multiple
 * SQL statements separated by semicolons"; the server answers each with its own
 * CommandComplete (or stops at the first ErrorResponse), so the tracker gives the i-th
 * completion the i-th text. Semicolons inside quotes, comments and parentheses (CREATE RULE
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
