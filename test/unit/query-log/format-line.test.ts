import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatQueryLogLine, oneLine, QueryLogSink } from '../../../src/output/query-log/index.js';
import { isoFromMs as isoMicros } from '../../../src/output/time.js';
import { LineWriter } from '../../../src/output/line-writer.js';
import { MONOCHROME } from '../../../src/output/style.js';
import type { StatementRecord } from '../../../src/session/events.js';

const START = Date.UTC(2026, 10, 21, 1, 12, 44, 693) + 0.412;

function record(over: Partial<StatementRecord>): StatementRecord {
  return {
    conn: 3, start: START, duration: 1.2344, untilReady: 1.301, protocol: 'extended', sql: 'SELECT * FROM t WHERE id = $1', statement: '', portal: '',
    params: [{ type: 'int4', format: 'text', value: '42' }], rows: 1, tag: 'SELECT 1', affected: 1, error: null, ...over,
  };
}

describe('query log line', () => {
  it('a completed extended statement: connection, µs time, protocol, durations, tag and rows, SQL, parameters', () => {
    assert.equal(
      formatQueryLogLine(record({})),
      '#3    2026-11-21T01:12:44.693412Z  extended       1.234 ms  ready      1.301 ms  SELECT 1 rows=1 | SELECT * FROM t WHERE id = $1 | $1=int4 42',
    );
  });

  it('an error, with the connection closed before ReadyForQuery', () => {
    const line = formatQueryLogLine(record({ protocol: 'simple', sql: 'SELECT *\n  FROM nope', params: [], rows: null, tag: null, affected: null, untilReady: null, error: { severity: 'ERROR', code: '42P01', message: 'relation "nope" does not exist' } }));
    assert.equal(line, '#3    2026-11-21T01:12:44.693412Z  simple         1.234 ms  ready          -     ERROR 42P01 relation "nope" does not exist | SELECT * FROM nope');
  });

  it('EmptyQueryResponse, PortalSuspended, and parameters of unknown type, NULL and redacted', () => {
    assert.match(formatQueryLogLine(record({ sql: '', tag: null, rows: null, params: [] })), /  EMPTY \| $/);
    const susp = formatQueryLogLine(
      record({
        tag: null,
        rows: 2,
        params: [
          { type: null, format: 'text', value: 'not a number' },
          { type: null, format: 'binary', value: '\\x00\\x07' },
          { type: 'text', format: 'text', value: null },
          { type: 'text', format: 'text', value: '<redacted>' },
        ],
      }),
    );
    assert.match(susp, / SUSPENDED rows=2 \| SELECT/);
    assert.ok(susp.endsWith('| $1="not a number", $2=binary "\\x00\\x07", $3=NULL, $4=<redacted>'), susp);
  });

  it('aligns the fields of different records', () => {
    const a = formatQueryLogLine(record({ conn: 1, duration: 0.5 }));
    const b = formatQueryLogLine(record({ conn: 12, duration: 1234.5, protocol: 'simple' }));
    assert.equal(a.indexOf('SELECT 1 rows'), b.indexOf('SELECT 1 rows'));
  });

  it('times and one-line SQL', () => {
    assert.equal(isoMicros(Date.UTC(2026, 0, 2, 3, 4, 5, 6) + 0.9996), '2026-01-02T03:04:05.007000Z');
    assert.equal(oneLine("SELECT 'a\nb',\n\t1 -- note\nFROM t"), "SELECT 'a\\nb', 1 /* note */ FROM t");
  });
});

describe('QueryLogSink', () => {
  it('writes one line per statement event and nothing else; redacts when asked', () => {
    const written: string[] = [];
    const sink = new QueryLogSink(new LineWriter((t) => written.push(t)), { redact: true, style: MONOCHROME });
    sink.write({ kind: 'status', conn: 1, time: 0, level: 'info', text: 'hello' });
    sink.write({ kind: 'statement', conn: 3, time: 0, record: record({ sql: "CREATE ROLE x PASSWORD 'pw'", params: [] }) });
    sink.write({ kind: 'statement', conn: 3, time: 0, record: record({}) });
    sink.flush();
    const lines = written.join('').split('\n').filter(Boolean);
    assert.equal(lines.length, 2);
    assert.ok(lines[0]!.endsWith("| CREATE ROLE x PASSWORD '<redacted>'"), lines[0]);
  });
});
