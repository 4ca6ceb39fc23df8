/** The filter language's strings and sql terms, parseExpressionAt's stop words, and --filter with sql on real events. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, F, FilterError, parseExpression, parseExpressionAt, printNode, T, U, type Facts, type FilterNode, type Truth } from '../../../src/filter/index.js';
import { parseFilter } from '../../../src/output/filter/filter.js';
import type { ProxyEvent, StatementRecord } from '../../../src/session/events.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { fixtureEvents } from '../jsonl/events.js';

function error(f: () => unknown): FilterError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof FilterError, String(e));
    return e;
  }
  assert.fail('parsed');
}

const sqlOf = (expr: string): FilterNode & { k: 'sql' } => {
  const n = parseExpression(expr);
  assert.equal(n.k, 'sql', expr);
  return n as FilterNode & { k: 'sql' };
};

const facts = (sql: string | null, named: boolean): Facts => ({ conn: 1, sender: 'client', name: named ? 'query' : null, sub: [], named, query: U, error: U, sql });

test('strings: in double quotes, \\" is a quote and every other backslash stays', () => {
  assert.equal(sqlOf('sql ~ "^\\s*update"').pattern, '^\\s*update');
  assert.equal(sqlOf('sql contains "say \\"hi\\""').pattern, 'say "hi"');
  assert.equal(sqlOf('sql contains "a\\\\b\\n"').pattern, 'a\\\\b\\n');
  assert.equal(sqlOf('sql contains "a\\\\""').pattern, 'a\\"');
  assert.equal(sqlOf('sql contains ""').pattern, '');
  assert.equal(sqlOf('sql contains "and or ( , ! & 0.5 .."').pattern, 'and or ( , ! & 0.5 ..');
});

test('an unterminated string is an error at its opening quote', () => {
  for (const [expr, pos] of [['sql ~ "abc', 6], ['sql ~ "ab\\"', 6], ['Query and sql contains "', 23]] as const) {
    const e = error(() => parseExpression(expr));
    assert.equal(e.position, pos, expr);
    assert.equal(e.message, `bad --filter ${JSON.stringify(expr)}: at character ${pos + 1}, a string with no closing double quote: expected a string in double quotes ("…"). Inside a string, write \\" for a double quote`);
  }
});

test('~ is a case-sensitive regex, ~* a case-insensitive one, contains a case-sensitive substring', () => {
  const cases: [string, string, Truth][] = [
    ['sql ~ "^\\s*update"', '  update t set x = 1', T],
    ['sql ~ "^\\s*update"', 'UPDATE t SET x = 1', F],
    ['sql ~ "^\\s*update"', 'select 1', F],
    ['sql ~* "^\\s*update"', 'UPDATE t SET x = 1', T],
    ['sql ~* "^\\s*update"', 'select 1', F],
    ['sql contains "pg_sleep"', 'select pg_sleep(1)', T],
    ['sql contains "pg_sleep"', 'select PG_SLEEP(1)', F],
    ['sql contains "\\"Name\\""', 'select "Name" from t', T],
    ['SQL CONTAINS "x"', 'x', T],
  ];
  for (const [expr, sql, want] of cases) assert.equal(evaluate(parseExpression(expr), facts(sql, true)), want, `${expr} on ${sql}`);
});

test('without SQL: false for a message, unknown for other events; three-valued with not/and/or', () => {
  for (const expr of ['sql ~ "x"', 'sql ~* "x"', 'sql contains "x"']) {
    assert.equal(evaluate(parseExpression(expr), facts(null, true)), F, expr);
    assert.equal(evaluate(parseExpression(expr), facts(null, false)), U, expr);
    assert.equal(evaluate(parseExpression(expr), facts('x', false)), T, `${expr}: a statement event has SQL`);
  }
  assert.equal(evaluate(parseExpression('not sql ~ "x"'), facts(null, true)), T);
  assert.equal(evaluate(parseExpression('not sql ~ "x"'), facts(null, false)), U);
  assert.equal(evaluate(parseExpression('Query and sql contains "x"'), facts('y', true)), F);
});

test('an invalid regex is an error at its string, with the RegExp message as the hint', () => {
  const expr = 'Query and sql ~ "(unclosed"';
  const e = error(() => parseExpression(expr));
  assert.equal(e.position, 16);
  let reMessage = '';
  try {
    new RegExp('(unclosed');
  } catch (x) {
    reMessage = (x as Error).message;
  }
  assert.equal(e.hint, reMessage);
  assert.equal(e.message, `bad --filter ${JSON.stringify(expr)}: at character 17, the regular expression "(unclosed": expected a valid JavaScript regular expression. ${reMessage}`);
  // contains takes any text.
  assert.doesNotThrow(() => parseExpression('sql contains "(unclosed"'));
});

test('sql needs an operator and a string', () => {
  const cases: [string, number, string][] = [
    ['sql', 3, 'the end of the expression: expected "~", "~*" or "contains" after sql (sql ~ "^\\s*update", sql ~* "users", sql contains "pg_sleep")'],
    ['sql = "x"', 4, '"=": expected "~", "~*" or "contains" after sql (sql ~ "^\\s*update", sql ~* "users", sql contains "pg_sleep"). For the whole text write sql ~ "^…$"'],
    ['sql ~ update', 6, 'the word "update": expected a string in double quotes after sql ~ (sql ~ "…"). Put it in double quotes: sql ~ "update"'],
    ['sql contains', 12, 'the end of the expression: expected a string in double quotes after sql contains (sql contains "…")'],
    ['"x"', 0, 'the string "x": expected a message name (Query, DataRow, …), client, server, pgscope, queries, errors, conn=N, sql ~ "…", not or "(". A string is compared with the SQL: sql ~ "…", sql ~* "…" or sql contains "…"'],
  ];
  for (const [expr, pos, rest] of cases) {
    const e = error(() => parseExpression(expr));
    assert.equal(e.position, pos, expr);
    assert.equal(e.message, `bad --filter ${JSON.stringify(expr)}: at character ${pos + 1}, ${rest}`);
  }
});

test('printNode: canonical sql terms parse back to the same node', () => {
  const cases: [string, string][] = [
    ['SQL ~ "^\\s*update"', 'sql ~ "^\\s*update"'],
    ['sql ~*"select"', 'sql ~* "select"'],
    ['sql contains "say \\"hi\\""', 'sql contains "say \\"hi\\""'],
    ['sql contains "a\\\\""', 'sql contains "a\\\\""'],
    ['not (sql ~ "a" or sql contains "b"),Query', 'not (sql ~ "a" or sql contains "b"),Query'],
    ['(sql ~ "x"),Parse and client', 'sql ~ "x",Parse and client'],
  ];
  for (const [expr, canonical] of cases) {
    const n = parseExpression(expr);
    assert.equal(printNode(n), canonical, expr);
    assert.deepEqual(parseExpression(printNode(n)), n, expr);
  }
  const re = sqlOf('sql ~* "^a.b$"');
  assert.ok(re.op !== 'contains' && re.flags === 'i' && re.re.source === '^a.b$' && re.re.flags === 'i');
});

const STOPS = ['once', 'times', 'after', 'every', 'probability'];

test('parseExpressionAt stops before a top-level stop word and reads nothing after it', () => {
  const text = 'Query and sql ~ "x" once';
  const { node, end } = parseExpressionAt(text, 0, STOPS);
  assert.equal(end, text.indexOf('once'));
  assert.equal(printNode(node), 'Query and sql ~ "x"');
  // A prefix of someone else's syntax, stop words in any case, text after that the lexer rejects.
  const rule = 'error 40001 when Query,Parse and not sql contains "begin" PROBABILITY 0.5 after 50ms..200ms !';
  const at = parseExpressionAt(rule, rule.indexOf('when') + 4, STOPS);
  assert.equal(at.end, rule.indexOf('PROBABILITY'));
  assert.equal(printNode(at.node), 'Query,Parse and not sql contains "begin"');
  assert.equal(parseExpressionAt('sql ~ "a" every 0.5..', 0, STOPS).end, 10);
  // Without a stop word: to the end.
  assert.deepEqual(parseExpressionAt('x Query ', 1, STOPS), { node: parseExpression('Query'), end: 8 });
});

test('parseExpressionAt: stop words inside parentheses are not stops, and errors have positions in the whole text', () => {
  const e = error(() => parseExpressionAt('when (once) once 0.5', 4, STOPS));
  assert.equal(e.position, 6);
  assert.match(e.message, /^bad --filter "when \(once\) once 0\.5": at character 7, the word "once", which is neither a message name nor a keyword/);
  const e2 = error(() => parseExpressionAt('(Query times 3) times 0.5', 0, STOPS));
  assert.equal(e2.position, 7);
  assert.match(e2.message, /the word "times": expected "\)" to close the "\(" at character 1/);
  const e3 = error(() => parseExpressionAt('x Query Parse once', 1, STOPS));
  assert.equal(e3.position, 8);
  assert.match(e3.message, /the word "Parse": expected "and", "or", ",", "once", "times", "after", "every", "probability" or the end of the expression/);
  const e4 = error(() => parseExpressionAt('Query and once 0.5', 0, STOPS));
  assert.equal(e4.position, 10);
  assert.match(e4.message, /at character 11, the word "once": expected a message name/);
  const e5 = error(() => parseExpressionAt('  once', 0, STOPS));
  assert.equal(e5.position, 2);
  assert.match(e5.message, /the word "once": expected an expression: /);
});

const fixtures = loadFixtures();
const fixture = (n: string) => fixtures.find((f) => f.name === n) ?? assert.fail(`fixture ${n} missing`);
const RECORD: StatementRecord = { conn: 2, start: 0, duration: 1, untilReady: 1, protocol: 'simple', sql: 'UPDATE items SET n = 1', statement: null, portal: null, params: [], rows: 0, tag: 'UPDATE 1', affected: 1, error: null };

test('--filter with sql terms on real events: Query and Parse messages, statement events', () => {
  const simple = fixtureEvents(fixture('psql-scram-simple-queries'));
  const extended = fixtureEvents(fixture('pg-extended-query'));
  const kept = (expr: string, events: ProxyEvent[]): string[] => {
    const f = parseFilter(expr);
    return events.filter((e) => f.matches(e)).map((e) => (e.kind === 'codec' && e.event.kind === 'message' ? e.event.message.name : e.kind));
  };
  assert.deepEqual(kept('sql ~ "^COPY items"', simple), ['Query', 'Query']);
  assert.deepEqual(kept('sql ~ "^copy items"', simple), []);
  assert.deepEqual(kept('sql ~* "^copy items"', simple), ['Query', 'Query']);
  assert.deepEqual(kept('sql contains "1/0"', simple), ['Query']);
  assert.deepEqual(kept('sql contains "generate_series"', extended), ['Parse']);
  assert.equal(kept('not sql contains "1/0"', simple).length, simple.length - 1);

  const statement: ProxyEvent = { kind: 'statement', conn: 2, time: 0, record: RECORD };
  const status: ProxyEvent = { kind: 'status', conn: 2, time: 0, level: 'info', text: 's' };
  const pass = (expr: string): boolean[] => [statement, status].map((e) => parseFilter(expr).matches(e));
  assert.deepEqual(pass('sql ~* "^update"'), [true, true]);
  assert.deepEqual(pass('sql ~ "^update"'), [false, true]);
  assert.deepEqual(pass('sql contains "items"'), [true, true]);
  assert.deepEqual(pass('not sql contains "items"'), [false, true]);
  assert.equal(parseFilter('sql ~ "^\\s*update"').canonical, 'sql ~ "^\\s*update"');
});
