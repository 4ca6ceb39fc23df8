/**
 * The inspector's model (src/inspector) over the JSON lines of every recorded conversation
 * (run through real Sessions and the --jsonl sink by the pipeline helper) and over
 * hand-made statements: rows and details, the filter language, the bounds and what they
 * drop, transactions, pipelines and the N+1 hint, and redaction.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Inspector } from '../../../src/inspector/inspector.js';
import type { JsonlObject, JsonlStatement } from '../../../src/output/jsonl/objects.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { runPipeline } from '../../helpers/session-pipeline.js';

let lines: string[];
let redactedLines: string[];

before(async () => {
  const fixtures = loadFixtures();
  lines = (await runPipeline(fixtures, { redact: false })).jsonl.trim().split('\n');
  redactedLines = (await runPipeline(fixtures, { redact: true })).jsonl.trim().split('\n');
});

function inspectorOf(ls: string[], limits: ConstructorParameters<typeof Inspector>[0]['limits'] = {}, redacted = false): Inspector {
  const ins = new Inspector({ mode: 'report', title: 'test', redacted, limits });
  for (const l of ls) ins.ingest(JSON.parse(l) as JsonlObject, l);
  return ins;
}

const objects = (ls: string[]): JsonlObject[] => ls.map((l) => JSON.parse(l) as JsonlObject);

describe('the inspector over recorded conversations', () => {
  it('keeps every message as a row with a one-line summary, and its details with the bytes', () => {
    const ins = inspectorOf(lines);
    // Messages, and bytes the codec could not decode (one conversation has some), each a row.
    const messages = objects(lines).filter((o) => o.type === 'message' || o.type === 'unparsed' || o.type === 'codec-error');
    assert.ok(messages.length > 300, `${messages.length}`);
    const page = ins.queryMessages({ offset: 0, limit: 5000 });
    assert.equal(page.total, messages.length);
    assert.deepEqual(page.rows.map((r) => r.msg), messages.map((m) => (m.type === 'message' ? m.msg : m.type === 'unparsed' ? 'unparsed' : m.type)));
    const unparsed = page.rows.find((r) => r.kind === 'unparsed')!;
    assert.equal(unparsed.error, true);
    assert.match(unparsed.summary, /92 bytes not decoded: TLS-encrypted/);
    assert.deepEqual(page.rows.map((r) => r.id), messages.map((_, i) => i + 1));
    for (const r of page.rows) assert.ok(!/[\n\r]/.test(r.summary), r.summary);
    const q = page.rows.find((r) => r.msg === 'Query')!;
    assert.match(q.summary, /^".+"$/);
    const d = ins.message(q.id)!;
    assert.equal(d.message!.msg, 'Query');
    assert.equal(d.message!.raw!.length, d.message!.size * 2);
    assert.equal(ins.message(999_999), null);
    const o = ins.overview();
    assert.equal(o.counts.messages, messages.length);
    assert.equal(o.counts.statements, objects(lines).filter((x) => x.type === 'statement').length);
    assert.ok(o.connections.length >= 5);
    assert.ok(o.connections.some((c) => c.user !== null && c.applicationName !== null));
  });

  it('filters with the --filter language, sql terms reaching Bind and Execute through their statement', () => {
    const ins = inspectorOf(lines);
    const errors = ins.queryMessages({ filter: 'errors', offset: 0, limit: 100 });
    assert.ok(errors.total >= 1);
    assert.ok(errors.rows.every((r) => r.error));
    const all = ins.queryMessages({ offset: 0, limit: 5000 }).rows;
    const ext = all.filter((r) => r.msg === 'Execute');
    assert.ok(ext.length > 0);
    const viaSql = ins.queryMessages({ filter: 'Execute and sql ~* "select"', offset: 0, limit: 5000 });
    assert.ok(viaSql.total > 0 && viaSql.total <= ext.length);
    const conn1 = ins.queryMessages({ filter: 'conn=1 and server', offset: 0, limit: 5000 });
    assert.ok(conn1.rows.every((r) => r.conn === 1 && r.from === 'server'));
    assert.equal(ins.queryMessages({ conn: 1, offset: 0, limit: 5000 }).total, all.filter((r) => r.conn === 1).length);
    assert.match(ins.queryMessages({ filter: 'Query and', offset: 0, limit: 5 }).error ?? '', /at character/);
    const search = ins.queryMessages({ search: 'READYFORQUERY', offset: 0, limit: 5000 });
    assert.equal(search.total, all.filter((r) => r.msg === 'ReadyForQuery').length);
  });

  it('extends a query as messages arrive, and pages through it', () => {
    const ins = inspectorOf(lines.slice(0, 100));
    const before = ins.queryMessages({ filter: 'server', offset: 0, limit: 10 }).total;
    for (const l of lines.slice(100)) ins.ingest(JSON.parse(l) as JsonlObject, l);
    const after = ins.queryMessages({ filter: 'server', offset: 0, limit: 10 });
    assert.ok(after.total > before);
    const tail = ins.queryMessages({ filter: 'server', offset: after.total - 3, limit: 10 });
    assert.equal(tail.rows.length, 3);
    assert.equal(tail.offset, after.total - 3);
  });

  it('keeps at most N messages per connection and in all, and counts what it dropped', () => {
    const ins = inspectorOf(lines, { messagesPerConnection: 5, messages: 25 });
    const o = ins.overview();
    assert.ok(o.counts.kept <= 25);
    assert.equal(o.counts.kept + o.counts.dropped, o.counts.messages);
    // Each connection's ring drops all but its last 5; the ring of 25 in all drops more of the oldest.
    for (const c of o.connections) assert.ok(c.droppedMessages >= Math.max(0, c.messages - 5), `#${c.conn}: ${c.droppedMessages} of ${c.messages}`);
    const page = ins.queryMessages({ offset: 0, limit: 5000 });
    assert.equal(page.total, o.counts.kept);
    const perConn = new Map<number | null, number>();
    for (const r of page.rows) perConn.set(r.conn, (perConn.get(r.conn) ?? 0) + 1);
    for (const [, n] of perConn) assert.ok(n <= 5);
    // The newest are kept.
    assert.equal(page.rows.at(-1)!.id, o.counts.messages);
    assert.equal(ins.message(1), null);
    const dropped = o.connections.reduce((n, c) => n + c.droppedMessages, 0);
    assert.equal(dropped, o.counts.dropped);
  });

  it('keeps the bytes of what it holds bounded too', () => {
    const ins = inspectorOf(lines, { bytes: 20_000 });
    const o = ins.overview();
    const kept = ins.queryMessages({ offset: 0, limit: 5000 }).rows.reduce((n, r) => n + (ins.message(r.id) ? JSON.stringify(ins.message(r.id)!.message).length : 0), 0);
    assert.ok(o.counts.dropped > 0);
    assert.ok(kept <= 20_000 * 1.2, `${kept}`);
  });

  it('with --redact-passwords, no password reaches a row or a detail', () => {
    const secrets = objects(lines).flatMap((o) => (o.type === 'message' && (o.msg === 'PasswordMessage' || o.msg === 'SASLResponse') ? [o] : []));
    assert.ok(secrets.length > 0);
    const ins = inspectorOf(redactedLines, {}, true);
    assert.equal(ins.overview().redacted, true);
    const rows = ins.queryMessages({ filter: 'PasswordMessage', offset: 0, limit: 100 }).rows;
    assert.ok(rows.length > 0);
    for (const r of rows) {
      const d = ins.message(r.id)!;
      assert.equal(d.message!.redacted, true);
      assert.equal(d.message!.raw, undefined);
      assert.doesNotMatch(r.summary + JSON.stringify(d), /md5[0-9a-f]{32}|secret-password/);
    }
  });
});

/** Hand-made statement and ReadyForQuery objects (what the session writes), for one connection. */
function statement(conn: number, sql: string, startMs: number, duration: number, error = false): JsonlStatement {
  const startTs = Math.round(startMs * 1000);
  return {
    v: 1,
    type: 'statement',
    conn,
    time: '',
    ts: startTs + Math.round(duration * 1000),
    start: '',
    startTs,
    duration,
    untilReady: duration + 0.1,
    protocol: 'simple',
    sql,
    statement: null,
    portal: null,
    params: [],
    rows: error ? null : 1,
    tag: error ? null : 'SELECT 1',
    affected: error ? null : 1,
    error: error ? { severity: 'ERROR', code: '40001', message: 'x' } : null,
  };
}

function idle(conn: number, atMs: number): JsonlObject {
  return {
    v: 1,
    type: 'message',
    conn,
    time: '',
    ts: Math.round(atMs * 1000),
    label: 'server -> client',
    from: 'server',
    to: 'client',
    dir: 'backend',
    kind: 'message',
    offset: 0,
    msg: 'ReadyForQuery',
    sub: [],
    typeByte: 'Z',
    length: 5,
    size: 6,
    fields: [{ name: 'status', offset: 5, length: 1, value: 'I', meaning: 'idle' }],
  };
}

describe('statements: transactions, pipelines, fingerprints, series', () => {
  it('flags one fingerprint run many times in one transaction (N+1), not the same spread over transactions', () => {
    const ins = new Inspector({ mode: 'report', title: 't', redacted: false });
    // Connection 1: BEGIN; 12 lookups; COMMIT — one transaction.
    let t = 1_000;
    ins.ingest(statement(1, 'begin', t, 0.1));
    for (let i = 0; i < 12; i++) ins.ingest(statement(1, `select * from items where id = ${i}`, (t += 1), 0.2));
    ins.ingest(statement(1, 'commit', (t += 1), 0.1));
    ins.ingest(idle(1, (t += 1)));
    // Connection 2: 12 lookups, each its own transaction (autocommit).
    for (let i = 0; i < 12; i++) {
      ins.ingest(statement(2, `select * from users where id = ${i}`, (t += 1), 0.3));
      ins.ingest(idle(2, (t += 0.5)));
    }
    const groups = ins.fingerprints();
    const items = groups.find((g) => g.fingerprint === 'select * from items where id = ?')!;
    const users = groups.find((g) => g.fingerprint === 'select * from users where id = ?')!;
    assert.deepEqual([items.count, items.maxInOneTxn, items.nPlusOne, items.maxTxn?.conn], [12, 12, true, 1]);
    assert.deepEqual([users.count, users.maxInOneTxn, users.nPlusOne], [12, 1, false]);
    assert.equal(ins.fingerprints(2).length, 1);
    const rows = ins.queryStatements({ conn: 2, offset: 0, limit: 100 }).rows;
    assert.deepEqual(rows.map((r) => r.txn), [...Array(12).keys()]);
  });

  it('marks statements started before the previous one completed as pipelined; slowest first; errors only', () => {
    const ins = new Inspector({ mode: 'report', title: 't', redacted: false });
    ins.ingest(statement(1, 'select 1', 1000, 5));
    ins.ingest(statement(1, 'select 2', 1001, 6));
    ins.ingest(statement(1, 'select 3', 1002, 50, true));
    ins.ingest(statement(1, 'select 4', 2000, 1));
    const rows = ins.queryStatements({ offset: 0, limit: 10 }).rows;
    assert.deepEqual(rows.map((r) => r.pipelined), [false, true, true, false]);
    assert.deepEqual(ins.queryStatements({ slowest: true, offset: 0, limit: 2 }).rows.map((r) => r.sql), ['select 3', 'select 2']);
    assert.deepEqual(ins.queryStatements({ errors: true, offset: 0, limit: 10 }).rows.map((r) => r.sql), ['select 3']);
    assert.deepEqual(ins.queryStatements({ search: 'SELECT 4', offset: 0, limit: 10 }).rows.map((r) => r.sql), ['select 4']);
    const s = ins.series();
    assert.deepEqual(s.seconds.map((x) => [x.t, x.count, x.errors]), [[1_000_000, 3, 1], [2_000_000, 1, 0]]);
    assert.equal(s.histogram.reduce((n, b) => n + b.count, 0), 4);
    assert.equal(s.histogram.at(-1)!.le, null);
  });

  it('keeps the last N statements, while groups count them all', () => {
    const ins = new Inspector({ mode: 'report', title: 't', redacted: false, limits: { statements: 10 } });
    for (let i = 0; i < 25; i++) ins.ingest(statement(1, `select ${i}`, 1000 + i, 1));
    const o = ins.overview();
    assert.deepEqual([o.counts.statements, o.counts.statementsKept], [25, 10]);
    assert.equal(ins.queryStatements({ offset: 0, limit: 100 }).rows[0]!.sql, 'select 15');
    assert.equal(ins.fingerprints()[0]!.count, 25);
  });
});
