import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatementStage } from '../../../src/session/statement-stage.js';
import type { Label, ProxyEvent } from '../../../src/session/events.js';
import * as s from './script.js';

/**
 * Codec events of a hand-built conversation, as a session would emit them: decoded by the
 * Conversation the stage gives for the connection (it types values and marks secrets as
 * the stage's options say, while decoding).
 */
function codecEvents(stage: StatementStage, conn: number, steps: s.Step[]): ProxyEvent[] {
  const conv = stage.conversation(conn, { frontendMode: 'normal' });
  const out: ProxyEvent[] = [];
  for (const [dir, bytes] of steps) {
    const label: Label = dir === 'frontend' ? 'client -> server' : 'server -> client';
    for (const event of conv.push(dir, bytes)) out.push({ kind: 'codec', conn, time: s.timeOf(out.length), label, event });
  }
  return out;
}

const closed = (conn: number, time: number): ProxyEvent => ({ kind: 'connection', conn, time, phase: 'closed', reason: 'client closed', bytesFromClient: 1, bytesFromServer: 2 });

describe('StatementStage', () => {
  it('passes every event on, enriched before the sinks see it, and emits statements after the message that completed them', () => {
    const seen: { kind: string; typed?: unknown; sql?: string }[] = [];
    const stage = new StatementStage(
      (ev) => {
        if (ev.kind === 'codec' && ev.event.kind === 'message' && ev.event.message.name === 'DataRow') seen.push({ kind: 'DataRow', typed: s.leaves(ev.event.message, 'column')[0]!.typed });
        else if (ev.kind === 'statement') seen.push({ kind: 'statement', sql: ev.record.sql });
        else seen.push({ kind: ev.kind === 'codec' && ev.event.kind === 'message' ? ev.event.message.name : ev.kind });
      },
      { redact: false, decode: s.fakeDecoder().decode },
    );
    for (const ev of codecEvents(stage, 3, [s.query('SELECT 1'), s.rowDescription([['a', 23]]), s.dataRow(['1']), s.commandComplete('SELECT 1'), s.ready()])) stage.write(ev);
    stage.write({ kind: 'status', conn: null, time: 0, level: 'info', text: 'x' });
    assert.deepEqual(seen, [
      { kind: 'Query' },
      { kind: 'RowDescription' },
      { kind: 'DataRow', typed: { type: 'int4', value: 1, text: '1' } },
      { kind: 'CommandComplete' },
      { kind: 'ReadyForQuery' },
      { kind: 'statement', sql: 'SELECT 1' },
      { kind: 'status' },
    ]);
  });

  it('keeps connections apart and flushes a connection when it closes, before the closed fact', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), { redact: false });
    for (const ev of codecEvents(stage, 1, [s.query('SELECT 1'), s.commandComplete('SELECT 1')])) stage.write(ev);
    for (const ev of codecEvents(stage, 2, [s.query('SELECT 2'), s.commandComplete('SELECT 2'), s.ready()])) stage.write(ev);
    stage.write(closed(1, 5000));
    const tail = out.filter((e) => e.kind === 'statement' || e.kind === 'connection').map((e) => (e.kind === 'statement' ? `${e.conn} ${e.record.sql} ${e.record.untilReady}` : `${e.conn} closed`));
    assert.deepEqual(tail, ['2 SELECT 2 2', '1 SELECT 1 null', '1 closed']);
  });

  it('redacts records when asked', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), { redact: true });
    for (const ev of codecEvents(stage, 1, [s.query("ALTER ROLE bob PASSWORD 'hunter2'"), s.commandComplete('ALTER ROLE'), s.ready()])) stage.write(ev);
    const st = out.find((e) => e.kind === 'statement');
    assert.ok(st && st.kind === 'statement');
    assert.equal(st.record.sql, "ALTER ROLE bob PASSWORD '<redacted>'");
  });

  it('never throws: a failing tracker stops tracking that connection with one warning', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), {
      redact: false,
      decode: () => {
        throw new Error('boom');
      },
    });
    const evs = codecEvents(stage, 4, [s.query('SELECT 1'), s.rowDescription([['a', 23]]), s.dataRow(['1']), s.dataRow(['2']), s.commandComplete('SELECT 2'), s.ready()]);
    for (const ev of evs) assert.doesNotThrow(() => stage.write(ev));
    const warnings = out.filter((e) => e.kind === 'status');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.kind === 'status' ? warnings[0]!.text : '', /statement tracking stopped.*boom/);
    assert.equal(out.filter((e) => e.kind === 'codec').length, evs.length);
    assert.equal(out.filter((e) => e.kind === 'statement').length, 0);
  });
});
