import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statementOutcome, StatementTracker } from '../../../src/analysis/statements/index.js';
import { int32 } from '../../helpers/wire.js';
import * as s from './script.js';

describe('StatementTracker: simple query', () => {
  it('reports each statement of a multi-statement Query with its own rows, tag and times', () => {
    const r = s.run([
      s.query('SELECT 1 AS a;\n INSERT INTO t VALUES (1), (2);SELECT x FROM t'),
      s.rowDescription([['a', 23]]),
      s.dataRow(['1']),
      s.commandComplete('SELECT 1'),
      s.commandComplete('INSERT 0 2'),
      s.rowDescription([['x', 23]]),
      s.dataRow(['1']),
      s.dataRow(['2']),
      s.commandComplete('SELECT 2'),
      s.ready('I'),
    ]);
    assert.deepEqual(
      r.records.map((x) => [x.sql, x.rows, x.tag, x.affected, x.start, x.duration, x.untilReady, x.protocol]),
      [
        // The first starts with the Query (message 0), each next one when the one before it completed.
        ['SELECT 1 AS a', 1, 'SELECT 1', 1, s.timeOf(0), 3, 9, 'simple'],
        ['INSERT INTO t VALUES (1), (2)', null, 'INSERT 0 2', 2, s.timeOf(3), 1, 6, 'simple'],
        ['SELECT x FROM t', 2, 'SELECT 2', 2, s.timeOf(4), 4, 5, 'simple'],
      ],
    );
    // All three go out at the ReadyForQuery, in completion order.
    assert.deepEqual(r.emitted.map((e) => e.at), [9, 9, 9]);
    assert.ok(r.records.every((x) => x.conn === 7 && x.statement === null && x.portal === null && x.params.length === 0 && x.error === null));
  });

  it('types DataRow columns from the RowDescription; NULLs and unknown types stay as bytes', () => {
    const { decode, calls } = s.fakeDecoder();
    const r = s.run([s.query('SELECT 42, NULL::int, point(1,2)'), s.rowDescription([['a', 23], ['b', 23], ['c', 600]]), s.dataRow(['42', null, '(1,2)']), s.commandComplete('SELECT 1'), s.ready()], decode);
    const [a, b, c] = s.leaves(r.messages[2]!, 'column');
    assert.deepEqual(a!.typed, { type: 'int4', value: 42, text: '42' });
    assert.equal(a!.meaning, 'int4 42');
    assert.equal(b, undefined);
    // point is not known to the stand-in decoder: the span keeps no meaning of its own.
    assert.equal(c!.typed, undefined);
    assert.equal(c!.meaning, undefined);
    assert.deepEqual(calls, [
      { oid: 23, format: 0, bytes: Buffer.from('42').toString('hex') },
      { oid: 600, format: 0, bytes: Buffer.from('(1,2)').toString('hex') },
    ]);
  });

  it('counts a COPY inside a Query as the statement', () => {
    const r = s.run([
      s.query('COPY t FROM STDIN'),
      s.copyInResponse(),
      s.copyData('1\tone\n'),
      s.copyData('2\ttwo\n'),
      s.copyDone(),
      s.commandComplete('COPY 2'),
      s.ready(),
      s.query('COPY t TO STDOUT'),
      s.copyOutResponse(),
      s.serverCopyData('1\tone\n'),
      s.serverCopyDone(),
      s.commandComplete('COPY 1'),
      s.ready(),
    ]);
    assert.deepEqual(
      r.records.map((x) => [x.sql, x.tag, x.affected, x.rows, x.duration]),
      [
        ['COPY t FROM STDIN', 'COPY 2', 2, null, 5],
        ['COPY t TO STDOUT', 'COPY 1', 1, null, 4],
      ],
    );
  });

  it('reports an empty query (EmptyQueryResponse) and an error that stops the rest of the Query', () => {
    const r = s.run([s.query('  '), s.emptyQuery(), s.ready(), s.query('SELECT 1; SELECT 1/0; SELECT 3'), s.rowDescription([['?column?', 23]]), s.dataRow(['1']), s.commandComplete('SELECT 1'), s.error('22012', 'division by zero'), s.ready('I')]);
    assert.equal(r.records.length, 3);
    const [empty, one, boom] = r.records;
    assert.equal(statementOutcome(empty!), 'empty');
    assert.equal(empty!.tag, null);
    assert.equal(one!.tag, 'SELECT 1');
    assert.equal(boom!.sql, 'SELECT 1/0');
    assert.deepEqual(boom!.error, { severity: 'ERROR', code: '22012', message: 'division by zero' });
    assert.equal(boom!.tag, null);
    assert.equal(statementOutcome(boom!), 'error');
  });

  it('ignores the ReadyForQuery that ends the startup', () => {
    const r = s.run([s.query('SELECT 1'), ['backend', Buffer.from('520000000800000000', 'hex')], s.ready(), s.commandComplete('SELECT 0'), s.ready()]);
    assert.equal(r.records.length, 1);
    assert.equal(r.records[0]!.untilReady, 4);
  });
});

describe('StatementTracker: extended query', () => {
  it('resolves named and unnamed statements and portals, typing parameters from Parse or ParameterDescription', () => {
    const r = s.run([
      s.parse('by_id', 'SELECT name FROM t WHERE id = $1'),
      s.describe('S', 'by_id'),
      s.sync(),
      s.parseComplete(),
      s.parameterDescription([23]),
      s.rowDescription([['name', 25]]),
      s.ready(),
      s.bind('', 'by_id', ['42']),
      s.execute(''),
      s.parse('', 'UPDATE t SET name = $2 WHERE id = $1', [23, 25]),
      s.bind('p1', '', ['7', 'seven']),
      s.execute('p1'),
      s.sync(),
      s.bindComplete(),
      s.dataRow(['bob']),
      s.commandComplete('SELECT 1'),
      s.parseComplete(),
      s.bindComplete(),
      s.commandComplete('UPDATE 1'),
      s.ready(),
    ]);
    assert.deepEqual(
      r.records.map((x) => [x.protocol, x.sql, x.statement, x.portal, x.params, x.rows, x.tag, x.affected]),
      [
        ['extended', 'SELECT name FROM t WHERE id = $1', 'by_id', '', [{ type: 'int4', format: 'text', value: '42' }], 1, 'SELECT 1', 1],
        [
          'extended',
          'UPDATE t SET name = $2 WHERE id = $1',
          '',
          'p1',
          [
            { type: 'int4', format: 'text', value: '7' },
            { type: 'text', format: 'text', value: "'seven'" },
          ],
          null,
          'UPDATE 1',
          1,
        ],
      ],
    );
    // The first statement's request is its Bind (message 7); the second's its Parse (message 9).
    assert.deepEqual(r.records.map((x) => [x.start, x.duration, x.untilReady]), [[s.timeOf(7), 8, 12], [s.timeOf(9), 9, 10]]);
    // The Bind spans were typed as they went by; the DataRow from the statement's description.
    assert.equal(s.leaves(r.messages[7]!, 'parameter')[0]!.meaning, 'int4 42');
    assert.equal(s.leaves(r.messages[10]!, 'parameter')[1]!.meaning, "text 'seven'");
    assert.equal(s.leaves(r.messages[14]!, 'column')[0]!.meaning, "text 'bob'");
  });

  it('types a pgbench -M prepared result from the statement description and the Bind result formats', () => {
    const { decode, calls } = s.fakeDecoder();
    const steps: s.Step[] = [
      s.parse('P0_1', 'SELECT abalance FROM pgbench_accounts WHERE aid = $1'),
      s.describe('S', 'P0_1'),
      s.sync(),
      s.parseComplete(),
      s.parameterDescription([23]),
      // "the format code … will always be zero" when describing a statement: not yet known.
      s.rowDescription([['abalance', 23, 0]]),
      s.ready(),
    ];
    for (const aid of [5, 9]) {
      steps.push(s.bind('', 'P0_1', [int32(aid)], [1], [1]), s.execute(''), s.sync(), s.bindComplete(), s.dataRow([int32(aid * 100)]), s.commandComplete('SELECT 1'), s.ready());
    }
    const r = s.run(steps, decode);
    assert.deepEqual(
      r.records.map((x) => [x.sql, x.params, x.rows]),
      [
        ['SELECT abalance FROM pgbench_accounts WHERE aid = $1', [{ type: 'int4', format: 'binary', value: '5' }], 1],
        ['SELECT abalance FROM pgbench_accounts WHERE aid = $1', [{ type: 'int4', format: 'binary', value: '9' }], 1],
      ],
    );
    const rows = r.messages.filter((m) => m.name === 'DataRow').map((m) => s.leaves(m, 'column')[0]!.typed);
    assert.deepEqual(rows, [
      { type: 'int4', value: 500, text: '500' },
      { type: 'int4', value: 900, text: '900' },
    ]);
    // The columns were read in binary, as the Bind asked, though the description said text.
    assert.ok(calls.some((c) => c.oid === 23 && c.format === 1 && c.bytes === int32(500).toString('hex')));
    assert.ok(!calls.some((c) => c.format === 0));
  });

  it('in a pipeline of three with one Sync, reports the failing one and not the one the server skipped', () => {
    const r = s.run([
      s.parse('', 'INSERT INTO t VALUES (1)'),
      s.bind('', ''),
      s.execute(''),
      s.parse('', 'INSERT INTO nope VALUES (2)'),
      s.bind('', ''),
      s.execute(''),
      s.parse('', 'INSERT INTO t VALUES (3)'),
      s.bind('', ''),
      s.execute(''),
      s.sync(),
      s.parseComplete(),
      s.bindComplete(),
      s.commandComplete('INSERT 0 1'),
      s.error('42P01', 'relation "nope" does not exist'),
      s.ready('I'),
    ]);
    assert.deepEqual(
      r.records.map((x) => [x.sql, x.tag, x.error?.code ?? null, x.start, x.duration, x.untilReady]),
      [
        ['INSERT INTO t VALUES (1)', 'INSERT 0 1', null, s.timeOf(0), 12, 14],
        // Failed at its Parse: the record is its Execute's, started by that Parse.
        ['INSERT INTO nope VALUES (2)', null, '42P01', s.timeOf(3), 10, 11],
      ],
    );
    assert.deepEqual(r.tracker.unanswered(), []);
  });

  it('attributes an error at Bind to its Execute, with the parameters that caused it', () => {
    const r = s.run([s.parse('', 'SELECT $1::int'), s.bind('', '', ['not a number']), s.describe('P', ''), s.execute(''), s.sync(), s.parseComplete(), s.error('22P02', 'invalid input syntax for type integer: "not a number"'), s.ready()]);
    assert.equal(r.records.length, 1);
    assert.deepEqual(r.records[0]!.params, [{ type: null, format: 'text', value: 'not a number' }]);
    assert.equal(r.records[0]!.error!.code, '22P02');
    assert.equal(r.records[0]!.rows, null);
  });

  it('reports a Parse that fails with no Execute of its own as a failed statement', () => {
    const r = s.run([s.parse('bad', 'SELEC 1'), s.describe('S', 'bad'), s.sync(), s.error('42601', 'syntax error at or near "SELEC"'), s.ready()]);
    assert.deepEqual(r.records.map((x) => [x.sql, x.statement, x.portal, x.error?.code]), [['SELEC 1', 'bad', null, '42601']]);
  });

  it('reports each Execute of a portal with a row limit (PortalSuspended) and the last one with its tag', () => {
    const r = s.run([
      s.parse('', 'SELECT g FROM generate_series(1, 3) g'),
      s.bind('c', ''),
      s.execute('c', 2),
      s.execute('c', 2),
      s.sync(),
      s.parseComplete(),
      s.bindComplete(),
      s.dataRow(['1']),
      s.dataRow(['2']),
      s.portalSuspended(),
      s.dataRow(['3']),
      s.commandComplete('SELECT 1'),
      s.ready('T'),
    ]);
    assert.deepEqual(
      r.records.map((x) => [statementOutcome(x), x.rows, x.tag, x.portal, x.start]),
      [
        ['suspended', 2, null, 'c', s.timeOf(0)],
        ['complete', 1, 'SELECT 1', 'c', s.timeOf(3)],
      ],
    );
  });

  it('forgets a statement on Close and an unnamed one on a simple Query', () => {
    const r = s.run([
      s.parse('s1', 'SELECT 1'),
      s.parse('', 'SELECT 2'),
      s.sync(),
      s.parseComplete(),
      s.parseComplete(),
      s.ready(),
      s.close('S', 's1'),
      s.sync(),
      s.closeComplete(),
      s.ready(),
      s.query('SET x = 1'),
      s.commandComplete('SET'),
      s.ready(),
      s.bind('', 's1'),
      s.execute(''),
      s.bind('', ''),
      s.execute(''),
      s.sync(),
      s.error('26000', 'prepared statement "s1" does not exist'),
      s.ready(),
    ]);
    // Both names are unknown by then: the records say so with empty SQL rather than a stale text.
    const last = r.records[r.records.length - 1]!;
    assert.equal(last.statement, 's1');
    assert.equal(last.sql, '');
    assert.equal(last.error!.code, '26000');
    assert.equal(r.records.length, 2);
  });

  it('marks parameters of a statement carrying a password secret instead of typing them', () => {
    const r = s.run([s.parse('', 'ALTER ROLE bob PASSWORD $1', [25]), s.bind('', '', ['hunter2']), s.execute(''), s.sync()]);
    const leaf = s.leaves(r.messages[1]!, 'parameter')[0]!;
    assert.equal(leaf.secret, true);
    assert.equal(leaf.typed, undefined);
    assert.notEqual(leaf.meaning?.includes('hunter2'), true);
  });

  it('at the end of the connection returns what waited for ReadyForQuery, with untilReady null', () => {
    const tracker = new StatementTracker({ conn: 1 });
    const r = s.run([s.query('SELECT pg_sleep(10)'), s.error('57P01', 'terminating connection due to administrator command', 'FATAL'), s.query('SELECT 1')], undefined, tracker);
    assert.deepEqual(r.records, []);
    assert.deepEqual(tracker.unanswered(), ['SELECT 1']);
    const ended = tracker.end(2000);
    assert.deepEqual(ended.map((x) => [x.sql, x.untilReady, x.error?.severity]), [['SELECT pg_sleep(10)', null, 'FATAL']]);
  });

  it('lets records out early, untilReady null, when a pipeline holds more than maxHeld', () => {
    const tracker = new StatementTracker({ conn: 1, maxHeld: 2 });
    const steps: s.Step[] = [];
    for (let i = 0; i < 4; i++) steps.push(s.parse('', `SELECT ${i}`), s.bind('', ''), s.execute(''));
    for (let i = 0; i < 4; i++) steps.push(s.parseComplete(), s.bindComplete(), s.commandComplete('SELECT 0'));
    const r = s.run(steps, undefined, tracker);
    assert.deepEqual(r.records.map((x) => [x.sql, x.untilReady]), [['SELECT 0', null], ['SELECT 1', null]]);
  });
});
