import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationStats, MAX_GROUPS, OTHER_GROUP, RESERVOIR_SIZE, SummarySink } from '../../../src/output/summary/index.js';
import { NORMALISE_MAX_CHARS } from '../../../src/analysis/statements/normalise.js';
import type { ProxyEvent, StatementRecord } from '../../../src/session/events.js';

function statement(sql: string, duration: number): ProxyEvent {
  const record: StatementRecord = {
    conn: 1, start: 0, duration, untilReady: duration, protocol: 'simple', sql, statement: null, portal: null, params: [], rows: null,
    tag: 'SELECT 1', affected: null, error: null,
  };
  return { kind: 'statement', conn: 1, time: 0, record };
}

describe('summary memory bounds', () => {
  it('at most 1,000 samples per group and 1,000 groups by default (worst case ~8 MB of samples, not 400 MB)', () => {
    assert.ok(RESERVOIR_SIZE <= 1000);
    assert.ok(MAX_GROUPS <= 1000);
    const d = new DurationStats();
    for (let i = 0; i < RESERVOIR_SIZE + 10; i++) d.add(i);
    assert.equal(d.exact, false);
  });

  it('groups beyond the default are folded, and group keys stay cut at 4,096 characters', () => {
    const s = new SummarySink();
    for (let i = 0; i < MAX_GROUPS + 5; i++) s.write(statement(`SELECT c${i} FROM t${'x'.repeat(5000)}`, 1));
    assert.equal(s.groups.size, MAX_GROUPS + 1);
    assert.equal(s.groups.get(OTHER_GROUP)!.stats.count, 5);
    for (const key of s.groups.keys()) assert.ok(key.length <= NORMALISE_MAX_CHARS + 1, `key of ${key.length} characters`);
  });
});
