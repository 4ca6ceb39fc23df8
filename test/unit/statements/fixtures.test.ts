import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import { statementOutcome, StatementTracker } from '../../../src/analysis/statements/index.js';
import type { StatementRecord } from '../../../src/session/events.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { fakeDecoder } from './script.js';

/** Replay a recorded session through a tracker, message i at time 1000 + i. */
function replay(name: string): { records: StatementRecord[]; leftover: StatementRecord[] } {
  const fx = loadFixtures().find((f) => f.name === name);
  assert.ok(fx, `fixture ${name} is missing`);
  const conv = new Conversation();
  const t = new StatementTracker({ conn: 1, decode: fakeDecoder().decode });
  const records: StatementRecord[] = [];
  let i = 0;
  for (const c of fx.chunks) for (const ev of conv.push(c.dir, c.bytes)) if (ev.kind === 'message') records.push(...t.observe(ev.message, 1000 + i++));
  return { records, leftover: t.end(1000 + i) };
}

describe('StatementTracker on recorded sessions', () => {
  it('node-postgres: named statement reused, binary result, error at Bind', () => {
    const { records, leftover } = replay('pg-extended-query');
    assert.deepEqual(leftover, []);
    assert.deepEqual(
      records.map((r) => [r.sql, r.statement, r.params.map((p) => p.value), r.tag ?? r.error?.code]),
      [
        ['SELECT $1::int AS a, $2::text AS b', '', ['42', null], 'SELECT 1'],
        ['SELECT $1::int + 1 AS n', 'next_number', ['1'], 'SELECT 1'],
        ['SELECT $1::int + 1 AS n', 'next_number', ['2'], 'SELECT 1'],
        ['SELECT $1::int4 AS i, \'bin\'::text AS t, true AS flag', '', ['7'], 'SELECT 1'],
        ['SELECT $1::int AS bad', '', ['not a number'], '22P02'],
        ['SELECT count(*)::int AS c FROM generate_series(1, $1::int)', '', ['3'], 'SELECT 1'],
      ],
    );
    assert.ok(records.every((r) => r.protocol === 'extended' && r.untilReady !== null && r.untilReady >= r.duration && r.duration > 0));
  });

  it('postgres.js: parameter types from ParameterDescription (Parse, Describe, Flush, then Bind)', () => {
    const { records } = replay('postgres-js-extended-query');
    assert.equal(records.length, 3);
    assert.deepEqual(records[0]!.params.map((p) => p.type), ['int4', 'text']);
  });

  it('psql: ten simple queries, with an empty one, COPY both ways and an error', () => {
    const { records } = replay('psql-scram-simple-queries');
    assert.deepEqual(
      records.map((r) => (statementOutcome(r) === 'error' ? r.error!.code : statementOutcome(r) === 'empty' ? 'EMPTY' : r.tag)),
      ['SELECT 3', 'EMPTY', 'DO', 'LISTEN', 'NOTIFY', 'CREATE TABLE', 'INSERT 0 2', 'SELECT 1', 'COPY 2', 'COPY 2', '22012', 'SELECT 1'],
    );
    assert.ok(records.every((r) => r.protocol === 'simple'));
  });

  it('Execute with a row limit on a recorded server', () => {
    const { records } = replay('raw-portal-suspended');
    assert.deepEqual(records.map((r) => [statementOutcome(r), r.rows]), [['suspended', 2], ['suspended', 2], ['complete', 1]]);
  });

  it('Describe of statement and portal, Flush, Close', () => {
    const { records } = replay('raw-describe-close-flush');
    assert.deepEqual(records.map((r) => [r.statement, r.portal, r.rows, r.params.map((p) => `${p.type} ${p.value}`)]), [['stmt1', 'portal1', 1, ['int4 1', 'int4 2', "text 'three'"]]]);
  });
});
