import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import { parseFilter } from '../../../src/output/filter/filter.js';
import type { Label, ProxyEvent, StatementRecord } from '../../../src/session/events.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { fixtureEvents } from '../jsonl/events.js';

const fixtures = loadFixtures();
const fixture = (n: string) => fixtures.find((f) => f.name === n) ?? assert.fail(`fixture ${n} missing`);

/** The names of the codec events a filter keeps, in order ("!" for codec errors and unparsed bytes). */
function kept(expr: string, events: ProxyEvent[]): string[] {
  const f = parseFilter(expr);
  return events.filter((e) => f.matches(e)).map((e) => (e.kind === 'codec' ? (e.event.kind === 'message' ? e.event.message.name : '!') : e.kind));
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

const simple = fixtureEvents(fixture('psql-scram-simple-queries'));
const extended = fixtureEvents(fixture('pg-extended-query'));

test('names match the message name, case-insensitively; a comma means any of them', () => {
  assert.deepEqual(unique(kept('readyforquery', simple)), ['ReadyForQuery']);
  assert.deepEqual(unique(kept('Query,ErrorResponse', simple)).sort(), ['ErrorResponse', 'Query']);
  assert.ok(kept('Query', simple).length >= 2);
});

test('client, server and pgscope follow the label', () => {
  const relabel = (label: Label) => simple.map((e) => (e.kind === 'codec' ? { ...e, label } : e));
  const all = simple.length;
  const client = kept('client', simple).length;
  assert.ok(client > 0 && client < all);
  assert.equal(client + kept('server', simple).length, all);
  assert.equal(kept('client', relabel('client -> script')).length, all);
  assert.equal(kept('server', relabel('server -> script')).length, all);
  assert.equal(kept('pgscope', relabel('script -> client')).length, all);
  assert.equal(kept('pgscope', simple).length, 0);
});

test('and, or, not combine as written', () => {
  const rows = kept('DataRow', simple).length;
  assert.ok(rows > 0);
  assert.equal(kept('server and not DataRow', simple).length, kept('server', simple).length - rows);
  assert.deepEqual(kept('not (client or server)', simple), []);
  assert.equal(kept('not Query,DataRow', simple).length, simple.length - rows - kept('Query', simple).length);
});

test('queries: client requests and the server messages that end them', () => {
  assert.deepEqual(unique(kept('queries', extended)).sort(), ['Bind', 'CommandComplete', 'ErrorResponse', 'Execute', 'Parse']);
  assert.deepEqual(unique(kept('queries', simple)).sort(), ['CommandComplete', 'EmptyQueryResponse', 'ErrorResponse', 'Query']);
  assert.deepEqual(unique(kept('queries', fixtureEvents(fixture('raw-function-call')))).sort(), ['CommandComplete', 'FunctionCall', 'FunctionCallResponse', 'Query']);
  assert.ok(kept('queries', fixtureEvents(fixture('raw-portal-suspended'))).includes('PortalSuspended'));
});

test('errors: ErrorResponse, malformed messages, codec errors and unparsed bytes', () => {
  assert.deepEqual(unique(kept('errors', simple)), ['ErrorResponse']);
  assert.ok(kept('errors', fixtureEvents(fixture('psql-sslrequest-accepted'))).includes('!'));
  const bad = (hex: string): ProxyEvent[] => new Conversation().push('backend', Buffer.from(hex, 'hex')).map((event) => ({ kind: 'codec', conn: 1, time: 0, label: 'server -> client', event }));
  assert.deepEqual(kept('errors', bad('5a000000064949')), ['ReadyForQuery']);
  // A framing error (a length below 4) has a direction but, its message unread, no name.
  // The framing error, then the bytes after it as unparsed.
  assert.deepEqual(kept('errors and server', bad('5a00000001')), ['!', '!']);
  assert.deepEqual(kept('client or ReadyForQuery', bad('5a00000001')), []);
});

test('sub-messages match by name: XLogData, Insert, PrimaryKeepalive', () => {
  const repl = fixtureEvents(fixture('replication-pgoutput-v4'));
  const x = kept('XLogData', repl);
  assert.ok(x.length > 5 && x.every((n) => n === 'CopyData'));
  assert.ok(kept('insert', repl).length > 0 && kept('insert', repl).length < x.length);
  assert.ok(kept('PrimaryKeepalive', repl).length > 0);
  assert.equal(kept('CopyData', repl).length, kept('XLogData or PrimaryKeepalive or StandbyStatusUpdate or CopyData and not (XLogData,PrimaryKeepalive,StandbyStatusUpdate)', repl).length);
});

test('conn=N and ranges select connections, for messages and for every other event', () => {
  const three = fixtureEvents(fixture('raw-copy-fail'), 3);
  const five = fixtureEvents(fixture('raw-copy-fail'), 5);
  const both = [...three, ...five];
  assert.equal(kept('conn=3', both).length, three.length);
  assert.equal(kept('conn=4-5', both).length, five.length);
  assert.equal(kept('conn=1-9', both).length, both.length);
  const status = (conn: number | null): ProxyEvent => ({ kind: 'status', conn, time: 0, level: 'info', text: 's' });
  assert.deepEqual(kept('conn=3', [status(3), status(5), status(null)]), ['status', 'status']);
  assert.deepEqual(parseFilter('conn=3').matches(status(5)), false);
});

const RECORD: StatementRecord = { conn: 2, start: 0, duration: 1, untilReady: 1, protocol: 'simple', sql: 'SELECT 1', statement: null, portal: null, params: [], rows: 1, tag: 'SELECT 1', affected: 1, error: null };

test('events that are not messages pass unless a term that applies to them rules them out', () => {
  const info: ProxyEvent = { kind: 'status', conn: 2, time: 0, level: 'info', text: 'i' };
  const err: ProxyEvent = { kind: 'status', conn: 2, time: 0, level: 'error', text: 'e' };
  const opened: ProxyEvent = { kind: 'connection', conn: 2, time: 0, phase: 'opened', client: { address: 'a', port: 1 }, local: { address: 'b', port: 2 } };
  const ok: ProxyEvent = { kind: 'statement', conn: 2, time: 0, record: RECORD };
  const failed: ProxyEvent = { kind: 'statement', conn: 2, time: 0, record: { ...RECORD, tag: null, error: { severity: 'ERROR', code: '42P01', message: 'no' } } };
  const fwd: ProxyEvent = { kind: 'forwarded', conn: 2, time: 0, label: 'server -> client', bytes: 5, elapsed: 0 };
  const all = [info, err, opened, ok, failed, fwd];
  const pass = (expr: string): boolean[] => all.map((e) => parseFilter(expr).matches(e));
  //                                              info   err    opened ok     failed fwd
  assert.deepEqual(pass('queries'), /*        */ [true, true, true, true, true, false]);
  assert.deepEqual(pass('errors'), /*         */ [false, true, false, false, true, false]);
  assert.deepEqual(pass('server and not DataRow'), [true, true, true, true, true, true]);
  assert.deepEqual(pass('client'), /*         */ [true, true, true, true, true, false]);
  assert.deepEqual(pass('DataRow'), /*        */ [true, true, true, true, true, false]);
  assert.deepEqual(pass('not errors'), /*     */ [true, false, true, true, false, true]);
  assert.deepEqual(pass('conn=3 or errors'), [false, true, false, false, true, false]);
});

test('matching keeps no state between events', () => {
  const f = parseFilter('server and not DataRow');
  const first = simple.map((e) => f.matches(e));
  assert.deepEqual(simple.map((e) => f.matches(e)), first);
  assert.ok(first.includes(true) && first.includes(false));
});
