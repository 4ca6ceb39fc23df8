import { REDACTED, statementOutcome } from '../../analysis/statements/index.js';
import { isoFromMs } from '../time.js';
import { tokenize } from '../../analysis/statements/sql-lexer.js';
import type { StatementRecord } from '../../session/events.js';
import { MONOCHROME, type Style } from '../style.js';

/**
 * One query-log line per statement, in the order statements complete:
 *
 *   #3    2026-11-21T01:12:44.693412Z  extended       1.234 ms  ready      1.301 ms  SELECT 1 rows=1 | SELECT * FROM t WHERE id = $1 | $1=int4 42
 *   #3    2026-11-21T01:12:44.702113Z  simple         0.412 ms  ready      0.450 ms  ERROR 42P01 relation "nope" does not exist | SELECT * FROM nope
 *
 * Fields, separated by two spaces up to the first " | ":
 *   #conn          the connection, as in the text log
 *   start          UTC, microseconds: when the request was seen (see StatementTracker)
 *   protocol       simple | extended
 *   duration       request → CommandComplete / ErrorResponse / EmptyQueryResponse / PortalSuspended
 *   ready          request → the ReadyForQuery ending its cycle ("-": the connection closed first)
 *   outcome        the command tag, "SEVERITY SQLSTATE message", EMPTY (EmptyQueryResponse) or
 *                  SUSPENDED (PortalSuspended: Execute's row limit reached); then rows=N when
 *                  rows were returned
 * then " | " and the SQL on one line (whitespace runs become one space, newlines inside
 * quotes are shown as \n), then, when there are parameters, " | " and $n=value for each:
 * `int4 42` (type known), `"42"` / `binary "\x00\x07"` (type unknown: the escaped bytes), NULL,
 * <redacted>.
 * Times are right-aligned so columns line up; grep for "ERROR", "#3 ", "| INSERT".
 */
export function formatQueryLogLine(r: StatementRecord, style: Style = MONOCHROME): string {
  const head = [
    `#${r.conn}`.padEnd(4),
    isoFromMs(r.start),
    r.protocol.padEnd(8),
    `${millis(r.duration)} ms`,
    `ready ${r.untilReady === null ? '-'.padStart(10) + '   ' : `${millis(r.untilReady)} ms`}`,
  ].join('  ');
  const parts = [`${style.meaning(head)}  ${outcome(r, style)}`, oneLine(r.sql)];
  if (r.params.length > 0) parts.push(r.params.map((p, i) => `$${i + 1}=${param(p)}`).join(', '));
  return parts.join(' | ');
}

function outcome(r: StatementRecord, style: Style): string {
  const rows = r.rows === null ? '' : ` rows=${r.rows}`;
  switch (statementOutcome(r)) {
    case 'error':
      return style.problem(`${r.error!.severity} ${r.error!.code} ${oneLine(r.error!.message)}`) + rows;
    case 'complete':
      return `${r.tag}${rows}`;
    case 'empty':
      return 'EMPTY';
    case 'suspended':
      return `SUSPENDED${rows}`;
  }
}

function param(p: StatementRecord['params'][number]): string {
  if (p.value === null) return 'NULL';
  if (p.value === REDACTED) return p.value;
  if (p.type !== null) return `${p.type} ${p.value}`;
  // Type unknown: the escaped bytes, quoted as the annotated log quotes bytes.
  return `${p.format === 'binary' ? 'binary ' : ''}"${p.value}"`;
}

/** ms with three decimals (microseconds), right-aligned. */
function millis(ms: number): string {
  return ms.toFixed(3).padStart(10);
}

/**
 * oneLine's answers for the SQL texts seen last: an application sends the same few
 * statements over and over (prepared statements, ORMs), and tokenizing each one again
 * was a large part of the query log's cost. Emptied when full.
 */
const ONE_LINE_CACHE = new Map<string, string>();
const ONE_LINE_CACHE_MAX = 1024;
const ONE_LINE_CACHE_MAX_CHARS = 4096;

/** SQL on one line: whitespace runs outside quotes → one space; line breaks inside tokens → \n; -- comments → /* … *\/. */
export function oneLine(sql: string): string {
  if (sql.length > ONE_LINE_CACHE_MAX_CHARS) return oneLineUncached(sql);
  let out = ONE_LINE_CACHE.get(sql);
  if (out === undefined) {
    out = oneLineUncached(sql);
    if (ONE_LINE_CACHE.size >= ONE_LINE_CACHE_MAX) ONE_LINE_CACHE.clear();
    ONE_LINE_CACHE.set(sql, out);
  }
  return out;
}

function oneLineUncached(sql: string): string {
  let out = '';
  for (const t of tokenize(sql)) {
    if (t.kind === 'space') out += ' ';
    else if (t.kind === 'comment' && t.text.startsWith('--')) out += `/*${t.text.slice(2).replace(/\*\//g, '* /')} */`;
    else out += t.text.replace(/\r?\n/g, '\\n').replace(/\r/g, '\\r');
  }
  return out.trim();
}
