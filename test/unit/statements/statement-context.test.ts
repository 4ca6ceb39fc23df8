/**
 * The protocol's statement context (src/protocol/statement-context.ts): what decoding knows
 * of prepared statements, portals and unanswered requests, and what the DataRow, Bind,
 * Query and Parse decoders do with it while decoding (typed values, secret marks).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionStatements } from '../../../src/analysis/connection-statements.js';
import { StatementTracker } from '../../../src/analysis/statements/index.js';
import { dataRow } from '../../../src/protocol/backend/data-row.js';
import { Conversation, type ConversationOptions } from '../../../src/protocol/conversation.js';
import { CONTEXT_FREE, NOT_SHARED } from '../../../src/protocol/decode-memo.js';
import { bind } from '../../../src/protocol/frontend/bind.js';
import { parse } from '../../../src/protocol/frontend/parse.js';
import { query } from '../../../src/protocol/frontend/query.js';
import type { CodecEvent, DecodedMessage, Span } from '../../../src/protocol/types.js';
import { int32 } from '../../helpers/wire.js';
import * as s from './script.js';

/** Decode the steps with a conversation past its startup; each step is one chunk. */
function decode(steps: s.Step[], statements: ConversationOptions['statements'] = { typeValues: true }): { messages: DecodedMessage[]; conv: Conversation } {
  const conv = new Conversation({ frontendMode: 'normal', statements });
  const messages: DecodedMessage[] = [];
  for (const [dir, bytes] of steps) for (const ev of conv.push(dir, bytes)) if (ev.kind === 'message') messages.push(ev.message);
  return { messages, conv };
}

const named = (ms: DecodedMessage[], name: string): DecodedMessage[] => ms.filter((m) => m.name === name);
const column = (m: DecodedMessage, i = 0): Span | undefined => s.leaves(m, 'column')[i];
const param = (m: DecodedMessage, i = 0): Span | undefined => s.leaves(m, 'parameter')[i];
const sqlSpan = (m: DecodedMessage): Span => m.spans.find((sp) => sp.name === 'query' || sp.name === 'query string')!;

describe('statement context: each decoder says it reads it', () => {
  it('DataRow, Bind, Query and Parse read the context, and the decode memo does not share them for another reason', () => {
    for (const codec of [dataRow, bind, query, parse]) assert.equal(codec.readsContext, true, codec.name);
    for (const type of ['B', 'Q', 'P']) assert.ok(!CONTEXT_FREE.frontend.has(type) && !(type in NOT_SHARED.frontend), type);
    assert.ok(!CONTEXT_FREE.backend.has('D') && !('D' in NOT_SHARED.backend));
  });

  it('without a statement context, values stay bytes and nothing is marked', () => {
    const { messages } = decode([s.parse('', "ALTER ROLE a PASSWORD 'x'", [25]), s.bind('', '', ['7']), s.query('SELECT 1'), s.rowDescription([['a', 23]]), s.dataRow(['1'])], null);
    assert.equal(param(named(messages, 'Bind')[0]!)!.typed, undefined);
    assert.equal(param(named(messages, 'Bind')[0]!)!.secret, undefined);
    assert.equal(column(named(messages, 'DataRow')[0]!)!.typed, undefined);
    assert.equal(sqlSpan(named(messages, 'Parse')[0]!).secret, undefined);
  });
});

describe('statement context: which description applies to a DataRow', () => {
  it('a Query: each statement its own RowDescription; none after it completed', () => {
    const { messages } = decode([
      s.query('SELECT 1; SELECT x; SELECT 3'),
      s.rowDescription([['a', 23]]),
      s.dataRow(['1']),
      s.commandComplete('SELECT 1'),
      s.rowDescription([['x', 25]]),
      s.dataRow(['one']),
      s.commandComplete('SELECT 1'),
      // No RowDescription of its own (not what a server does): the one before does not apply.
      s.dataRow(['3']),
    ]);
    assert.deepEqual(
      named(messages, 'DataRow').map((m) => column(m)!.typed?.text),
      ['1', 'one', undefined],
    );
  });

  it("an Execute: its portal's Describe 'P', else its statement's Describe 'S' with the Bind's result formats", () => {
    const { messages } = decode([
      s.parse('st', 'SELECT a, b FROM t'),
      s.describe('S', 'st'),
      s.sync(),
      s.parseComplete(),
      s.parameterDescription([]),
      s.rowDescription([['a', 23], ['b', 23]]),
      s.ready(),
      // Result formats: binary for the first column, text for the second.
      s.bind('p', 'st', [], [], [1, 0]),
      s.execute('p'),
      s.sync(),
      s.bindComplete(),
      s.dataRow([int32(5), '6']),
      s.commandComplete('SELECT 1'),
      s.ready('T'),
      s.bind('q', 'st', [], [], [0]),
      s.describe('P', 'q'),
      s.execute('q'),
      s.sync(),
      s.bindComplete(),
      // The portal's own description wins (its format codes are the real ones).
      s.rowDescription([['a', 25], ['b', 25]]),
      s.dataRow(['7', '8']),
      s.commandComplete('SELECT 1'),
      s.ready('I'),
    ]);
    const [first, second] = named(messages, 'DataRow');
    assert.deepEqual([column(first!, 0)!.typed, column(first!, 1)!.typed?.text], [{ type: 'int4', value: 5, text: '5' }, '6']);
    assert.deepEqual([column(second!, 0)!.typed?.type, column(second!, 1)!.typed?.type], ['text', 'text']);
  });

  it('after an error, the server discards until Sync: the next Execute gets its own rows', () => {
    const { messages } = decode([
      s.parse('', 'SELECT 1/0'),
      s.bind('', ''),
      s.describe('P', ''),
      s.execute(''),
      s.sync(),
      s.parse('', 'SELECT $1::int4', [23]),
      s.bind('', '', ['4']),
      s.describe('P', ''),
      s.execute(''),
      s.sync(),
      s.parseComplete(),
      s.bindComplete(),
      s.rowDescription([['?column?', 23]]),
      s.error('22012', 'division by zero'),
      s.ready(),
      s.parseComplete(),
      s.bindComplete(),
      s.rowDescription([['int4', 23]]),
      s.dataRow(['4']),
      s.commandComplete('SELECT 1'),
      s.ready(),
    ]);
    assert.equal(column(named(messages, 'DataRow')[0]!)!.typed?.text, '4');
    assert.equal(param(named(messages, 'Bind')[1]!)!.typed?.text, '4');
  });

  it('Close, a simple Query and DEALLOCATE forget statements: a Bind to one that is gone is not typed', () => {
    const { messages } = decode([
      s.parse('a', 'SELECT $1::int4', [23]),
      s.parse('b', 'SELECT $1::int4', [23]),
      s.parse('', 'SELECT $1::int4', [23]),
      s.sync(),
      s.parseComplete(),
      s.parseComplete(),
      s.parseComplete(),
      s.ready(),
      s.bind('', 'a', ['1']),
      s.close('S', 'a'),
      s.bind('', 'a', ['2']),
      s.sync(),
      s.bindComplete(),
      s.closeComplete(),
      s.error('26000', 'prepared statement "a" does not exist'),
      s.ready(),
      s.query('DEALLOCATE b'),
      s.bind('', 'b', ['3']),
      s.commandComplete('DEALLOCATE'),
      s.ready(),
      // DEALLOCATE takes effect for what comes after its cycle's ReadyForQuery (as the records have it).
      s.bind('', 'b', ['4']),
      s.bind('', '', ['5']),
    ]);
    assert.deepEqual(
      named(messages, 'Bind').map((m) => param(m)!.typed?.text),
      ['1', undefined, '3', undefined, undefined],
    );
  });
});

describe('statement context: secrets', () => {
  const steps = [
    s.query("ALTER ROLE a PASSWORD 'pw'"),
    s.parse('', 'ALTER ROLE b PASSWORD $1', [25]),
    s.bind('', '', ['hunter2']),
    s.parse('', 'SELECT dblink_connect($1)', [25]),
    s.bind('', '', ['host=h password=p']),
    s.bind('', '', ['host=h']),
  ];

  it('when redacting: SQL carrying a password, its parameters, and a parameter carrying a connection-string password', () => {
    const { messages } = decode(steps, { typeValues: true, redact: true });
    assert.equal(sqlSpan(named(messages, 'Query')[0]!).secret, true);
    assert.deepEqual(named(messages, 'Parse').map((m) => sqlSpan(m).secret), [true, undefined]);
    assert.deepEqual(
      named(messages, 'Bind').map((m) => [param(m)!.secret, param(m)!.typed?.text]),
      [
        [true, undefined],
        [true, undefined],
        [undefined, 'host=h'],
      ],
    );
  });

  it('without redaction: only the parameters of a statement whose SQL carries a password, whatever else is on', () => {
    for (const opts of [{ typeValues: true }, { typeValues: false }]) {
      const { messages } = decode(steps, opts);
      assert.equal(sqlSpan(named(messages, 'Query')[0]!).secret, undefined);
      assert.deepEqual(
        named(messages, 'Bind').map((m) => param(m)!.secret),
        [true, undefined, undefined],
      );
    }
  });

  it('fails closed: once the context is lost (a framing error), every Bind parameter is secret when redacting', () => {
    const lost = (redact: boolean): DecodedMessage => {
      const conv = new Conversation({ frontendMode: 'normal', statements: { typeValues: true, redact } });
      conv.push('frontend', s.parse('s', 'SELECT $1::int4', [23])[1]);
      const broken = conv.push('backend', Buffer.from([0x5a, 0, 0, 0, 1]));
      assert.equal(broken[0]!.kind, 'error');
      assert.match(conv.statements!.failure!.why, /can no longer be decoded/);
      return (conv.push('frontend', s.bind('', 's', ['1'])[1])[0] as Extract<CodecEvent, { kind: 'message' }>).message;
    };
    assert.equal(param(lost(true))!.secret, true);
    // Without redaction nothing is marked, and nothing is typed any more.
    assert.deepEqual([param(lost(false))!.secret, param(lost(false))!.typed], [undefined, undefined]);
  });
});

describe('statement context: failures', () => {
  it('a value decoder that throws stops the context at that message, never decoding; the analysis says so there', () => {
    const boom = (): never => {
      throw new Error('boom');
    };
    const conv = new Conversation({ frontendMode: 'normal', statements: { typeValues: true, decodeValue: boom } });
    const analysis = new ConnectionStatements(1, { redact: false }, conv.statements);
    const events = [s.query('SELECT 1'), s.rowDescription([['a', 23]]), s.dataRow(['1']), s.dataRow(['2'])].flatMap(([dir, bytes]) => conv.push(dir, bytes));
    const rows = events.flatMap((e) => (e.kind === 'message' && e.message.name === 'DataRow' ? [e.message] : []));
    assert.ok(rows.every((m) => !m.error && column(m)!.typed === undefined));
    assert.equal(conv.statements!.failure!.frame, rows[0]!.frame);
    // All decoded before any is observed (a chunk's worth): the note still comes at the failing row.
    const notes = events.map((e, i) => [i, analysis.observe(e, i).notes.map((n) => n.text)] as const).filter(([, n]) => n.length > 0);
    assert.deepEqual(notes, [[2, ['statement tracking stopped for this connection: internal error: boom']]]);
  });

  it('the tracker, when it fails, stops the decoding context too (redaction fails closed)', () => {
    const conv = new Conversation({ frontendMode: 'normal', statements: { typeValues: true, redact: true } });
    const analysis = new ConnectionStatements(1, { redact: true }, conv.statements);
    // A framing error seen by the analysis (from this conversation) stops both.
    for (const ev of conv.push('backend', Buffer.from([0x5a, 0, 0, 0, 1]))) analysis.observe(ev, 0);
    const b = conv.push('frontend', Buffer.concat([s.parse('s', 'SELECT $1::int4', [23])[1], s.bind('', 's', ['1'])[1]]));
    const m = (b[1] as Extract<CodecEvent, { kind: 'message' }>).message;
    assert.equal(param(m)!.secret, true);
  });
});

describe('the tracker reads what each message did, as it was then', () => {
  // The server's whole answer in one chunk: ParameterDescription and RowDescription come
  // after the Execute completed; the conversation decodes them all before the tracker sees
  // the first. The record says what was known when the statement completed.
  const steps: s.Step[] = [s.parse('', 'SELECT $1'), s.bind('', '', ['7']), s.execute(''), s.describe('S', ''), s.sync()];
  const answer = Buffer.concat([s.parseComplete(), s.bindComplete(), s.commandComplete('SELECT 1'), s.parameterDescription([23]), s.rowDescription([['?column?', 25]]), s.ready()].map((x) => x[1]));

  for (const following of [true, false]) {
    it(`${following ? "following the conversation's context" : 'with a context of its own'}: parameter types and rows as they were when the statement completed`, () => {
      const conv = new Conversation({ frontendMode: 'normal', statements: { typeValues: true } });
      const tracker = new StatementTracker({ conn: 1 }, following ? conv.statements : null);
      const events = [...steps.flatMap(([dir, bytes]) => conv.push(dir, bytes)), ...conv.push('backend', answer)];
      const records = events.flatMap((e, i) => (e.kind === 'message' ? tracker.observe(e.message, i) : []));
      assert.deepEqual(
        records.map((r) => [r.params, r.rows]),
        [[[{ type: null, format: 'text', value: '7' }], null]],
      );
    });
  }

  it('passes over messages it is never shown (consumed by pgscope), and ignores those of another conversation', () => {
    const conv = new Conversation({ frontendMode: 'normal', statements: { typeValues: true } });
    const tracker = new StatementTracker({ conn: 1 }, conv.statements);
    const other = new Conversation({ frontendMode: 'normal', statements: { typeValues: true } });
    const [q1, q2] = [s.query('SELECT 1'), s.query('SELECT 2')].flatMap(([dir, bytes]) => conv.push(dir, bytes));
    const answer = conv.push('backend', Buffer.concat([s.commandComplete('SELECT 1'), s.ready(), s.commandComplete('SELECT 1'), s.ready()].map((x) => x[1])));
    const seen: CodecEvent[] = [...other.push('frontend', s.query('SELECT 3')[1]), q2!, ...answer.slice(2)];
    void q1;
    const records = seen.flatMap((e, i) => (e.kind === 'message' ? tracker.observe(e.message, i) : []));
    assert.deepEqual(records.map((r) => r.sql), ['SELECT 2']);
  });
});
