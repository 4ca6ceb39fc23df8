import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FilterError, parseFilter } from '../../../src/output/filter/filter.js';

/** The whole message, so every start-up error is reviewed as the user will read it. */
function error(expr: string): FilterError {
  try {
    parseFilter(expr);
  } catch (e) {
    assert.ok(e instanceof FilterError, String(e));
    return e;
  }
  assert.fail(`${JSON.stringify(expr)} parsed`);
}

const TERM = 'a message name (Query, DataRow, …), client, server, pgscope, queries, errors, conn=N, sql ~ "…", not or "("';

test('every error names the position, what was found and what was expected', () => {
  const cases: [string, number, string][] = [
    ['', 0, `the end of the expression: expected an expression: ${TERM}`],
    ['server DataRow', 7, `the word "DataRow": expected "and", "or", "," or the end of the expression. Two terms need "and", "or" or a comma between them`],
    ['server)', 6, `")": expected the end of the expression. This ")" has no "(" before it`],
    ['(client', 7, `the end of the expression: expected ")" to close the "(" at character 1`],
    ['()', 1, `")": expected ${TERM}. Parentheses need an expression inside`],
    ['Query,', 6, `the end of the expression: expected ${TERM}`],
    ['and Query', 0, `the word "and": expected ${TERM}. "and" joins two terms: put one before it`],
    ['client or', 9, `the end of the expression: expected ${TERM}`],
    ['Query,not Parse', 6, `the word "not": expected ${TERM}. After a comma only names and keywords may follow: write "… or not …"`],
    ['3', 0, `the number 3: expected ${TERM}. A connection number is written conn=3`],
    ['conn 3', 5, `the number 3: expected "=" after conn (conn=3, or conn=2-5 for a range)`],
    ['conn=', 5, `the end of the expression: expected a connection number (1 or more)`],
    ['conn=0', 5, `the number 0: expected a connection number (1 or more). Connections are numbered from 1, as #1 in the log`],
    ['conn=5-2', 7, `the number 2: expected a number of at least 5 (conn=5-2 is an empty range)`],
    ['client && server', 7, `the character "&": expected a message name, a keyword (client, server, pgscope, queries, errors, conn=N, sql ~ "…"), and, or, not, a comma or parentheses. Write "and" instead of "&&"`],
    ['!Query', 0, `the character "!": expected a message name, a keyword (client, server, pgscope, queries, errors, conn=N, sql ~ "…"), and, or, not, a comma or parentheses. Write "not" instead of "!"`],
    ['server and DataRoww', 11, `the word "DataRoww", which is neither a message name nor a keyword: expected ${TERM}. Close names: DataRow`],
    ['ReadyForQuerry', 0, `the word "ReadyForQuerry", which is neither a message name nor a keyword: expected ${TERM}. Close names: ReadyForQuery`],
    ['Command', 0, `the word "Command", which is neither a message name nor a keyword: expected ${TERM}. Close names: CommandComplete`],
    ['Copy', 0, `the word "Copy", which is neither a message name nor a keyword: expected ${TERM}. Close names: CopyBothResponse, CopyData, CopyDone, CopyFail, CopyInResponse`],
    ['clinet', 0, `the word "clinet", which is neither a message name nor a keyword: expected ${TERM}. Close names: client`],
    ['zzz', 0, `the word "zzz", which is neither a message name nor a keyword: expected ${TERM}. Message names are as in PostgreSQL's "Message Formats" (ReadyForQuery, CommandComplete, …)`],
  ];
  for (const [expr, pos, rest] of cases) {
    const e = error(expr);
    assert.equal(e.position, pos, expr);
    assert.equal(e.message, `bad --filter ${JSON.stringify(expr)}: at character ${pos + 1}, ${rest}`);
  }
});
