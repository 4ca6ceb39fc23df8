import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationStats, RESERVOIR_SIZE, SummarySink, bytes } from '../../../src/output/summary/index.js';
import type { ProxyEvent, StatementRecord } from '../../../src/session/events.js';

function statement(conn: number, sql: string, duration: number, error = false): ProxyEvent {
  const record: StatementRecord = {
    conn, start: 0, duration, untilReady: duration, protocol: 'simple', sql, statement: null, portal: null, params: [], rows: null,
    tag: error ? null : 'SELECT 1', affected: null, error: error ? { severity: 'ERROR', code: '42P01', message: 'x' } : null,
  };
  return { kind: 'statement', conn, time: 0, record };
}

const opened = (conn: number): ProxyEvent => ({ kind: 'connection', conn, time: 0, phase: 'opened', client: { address: '127.0.0.1', port: 1 }, local: { address: '127.0.0.1', port: 2 } });

describe('DurationStats', () => {
  it('nearest-rank percentiles, mean, max and total', () => {
    const d = new DurationStats();
    // 1..100 shuffled: p50 = 50, p95 = 95 by nearest rank.
    const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    for (const v of values) d.add(v);
    assert.deepEqual([d.count, d.total, d.mean, d.max, d.percentile(50), d.percentile(95), d.percentile(100)], [100, 5050, 50.5, 100, 50, 95, 100]);
    const one = new DurationStats();
    one.add(3);
    assert.deepEqual([one.percentile(50), one.percentile(95)], [3, 3]);
  });

  it('keeps a bounded sample beyond RESERVOIR_SIZE and still estimates percentiles', () => {
    const d = new DurationStats();
    const n = RESERVOIR_SIZE * 5;
    for (let i = 0; i < n; i++) d.add((i * 7919) % n);
    assert.equal(d.exact, false);
    assert.equal(d.count, n);
    assert.equal(d.max, n - 1);
    // Uniform over [0, n): the estimates fall near n/2 and 0.95 n.
    assert.ok(Math.abs(d.percentile(50) - n / 2) < n * 0.03, `p50 ${d.percentile(50)}`);
    assert.ok(Math.abs(d.percentile(95) - 0.95 * n) < n * 0.03, `p95 ${d.percentile(95)}`);
  });
});

describe('SummarySink', () => {
  it('groups by normalised SQL, sorted by total time, with errors and the rest folded', () => {
    const s = new SummarySink({ top: 2 });
    s.write(opened(1));
    s.write(opened(2));
    s.write({ kind: 'forwarded', conn: 2, time: 0, label: 'client -> server', bytes: 100, elapsed: 0 });
    s.write({ kind: 'forwarded', conn: 1, time: 0, label: 'server -> client', bytes: 999, elapsed: 0 });
    s.write({ kind: 'connection', conn: 1, time: 0, phase: 'closed', reason: 'x', bytesFromClient: 2000, bytesFromServer: 3000 });
    for (let i = 1; i <= 4; i++) s.write(statement(1, `SELECT * FROM t WHERE id = ${i}`, i));
    s.write(statement(2, 'SELECT * FROM nope', 20, true));
    s.write(statement(2, "UPDATE t SET v = 'a'", 0.5));
    s.write(statement(2, "UPDATE t SET v = 'bb'", 0.25));
    assert.deepEqual(s.bytes(), { fromClients: 2100, fromServers: 3000 });
    const lines = s.render().split('\n');
    assert.equal(lines[0], 'pgscope summary: 2 connections (1 open), 2.1 KiB from clients, 2.9 KiB from servers');
    assert.equal(lines[1], '7 statements in 3 groups, 1 error; by total time:');
    assert.equal(lines[2], '  count    total ms     mean ms      p50 ms      p95 ms      max ms  errors  statement');
    assert.equal(lines[3], '      1      20.000      20.000      20.000      20.000      20.000       1  SELECT * FROM nope');
    assert.equal(lines[4], '      4      10.000       2.500       2.000       4.000       4.000       0  SELECT * FROM t WHERE id = ?');
    assert.equal(lines[5], '… 1 more group: 2 statements, 0.750 ms');
    assert.equal(lines.length, 6);
  });

  it('says so when nothing completed, and folds groups beyond maxGroups', () => {
    assert.match(new SummarySink().render(), /no statements completed/);
    const s = new SummarySink({ maxGroups: 2 });
    for (const t of ['a', 'b', 'c', 'd']) s.write(statement(1, `SELECT * FROM ${t}`, 1));
    assert.deepEqual([...s.groups.keys()], ['SELECT * FROM a', 'SELECT * FROM b', '(other statements)']);
    assert.equal(s.groups.get('(other statements)')!.stats.count, 2);
  });

  it('byte counts read as people read them', () => {
    assert.deepEqual([bytes(1), bytes(1023), bytes(1536), bytes(5 * 1024 * 1024)], ['1 byte', '1023 bytes', '1.5 KiB', '5.0 MiB']);
  });
});
