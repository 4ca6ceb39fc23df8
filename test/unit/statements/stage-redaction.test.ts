import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Conversation } from '../../../src/protocol/conversation.js';
import { StatementStage } from '../../../src/session/statement-stage.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import type { Label, ProxyEvent } from '../../../src/session/events.js';
import * as s from './script.js';

function codecEvents(conv: Conversation, conn: number, steps: s.Step[]): ProxyEvent[] {
  const out: ProxyEvent[] = [];
  for (const [dir, bytes] of steps) {
    const label: Label = dir === 'frontend' ? 'client -> server' : 'server -> client';
    for (const event of conv.push(dir, bytes)) out.push({ kind: 'codec', conn, time: s.timeOf(out.length), label, event });
  }
  return out;
}

const closed = (conn: number): ProxyEvent => ({ kind: 'connection', conn, time: 9000, phase: 'closed', reason: 'client closed', bytesFromClient: 1, bytesFromServer: 2 });
const messageOf = (ev: ProxyEvent): DecodedMessage | null => (ev.kind === 'codec' && ev.event.kind === 'message' ? ev.event.message : null);
const statusTexts = (out: ProxyEvent[]): string[] => out.flatMap((e) => (e.kind === 'status' ? [e.text] : []));

describe('StatementStage and redaction', () => {
  it('an unanswered statement in the closing status line is redacted', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), { redact: true });
    for (const ev of codecEvents(stage.conversation(1, { frontendMode: 'normal' }), 1, [s.query("ALTER ROLE alice PASSWORD 'hunter2'")])) stage.write(ev);
    stage.write(closed(1));
    const texts = statusTexts(out);
    assert.equal(texts.length, 1);
    assert.match(texts[0]!, /unanswered.*ALTER ROLE alice PASSWORD '<redacted>'/);
    assert.ok(!texts[0]!.includes('hunter2'));
  });

  it('without redaction the status line shows the SQL, cut with …', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), { redact: false });
    for (const ev of codecEvents(stage.conversation(1, { frontendMode: 'normal' }), 1, [s.query(`SELECT '${'x'.repeat(300)}'`)])) stage.write(ev);
    stage.write(closed(1));
    assert.match(statusTexts(out)[0]!, /SELECT 'x+…$/);
  });

  it('marks SQL passwords secret even after tracking stopped for the connection', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), { redact: true });
    const conv = stage.conversation(1, { frontendMode: 'normal' });
    // A framing error from the server stops tracking; the client's stream still decodes.
    for (const ev of codecEvents(conv, 1, [['backend', Buffer.from([0x5a, 0, 0, 0, 1])]])) stage.write(ev);
    assert.match(statusTexts(out).join('\n'), /statement tracking stopped/);
    for (const ev of codecEvents(conv, 1, [s.query("ALTER ROLE alice PASSWORD 'hunter2'"), s.parse('', 'ALTER ROLE bob PASSWORD $1'), s.bind('', '', ['pw'])])) stage.write(ev);
    const msgs = out.map(messageOf).filter((m): m is DecodedMessage => m !== null && m.frame.direction === 'frontend');
    const q = msgs.find((m) => m.name === 'Query')!;
    assert.equal(q.spans.find((sp) => sp.name === 'query')!.secret, true);
    const p = msgs.find((m) => m.name === 'Parse')!;
    assert.equal(p.spans.find((sp) => sp.name === 'query string')!.secret, true);
    // The Bind's statement is no longer known: its parameters are hidden.
    const b = msgs.find((m) => m.name === 'Bind')!;
    assert.equal(s.leaves(b, 'parameter')[0]!.secret, true);
  });

  it('a parameter carrying a connection-string password is secret, and redacted in records', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), { redact: true });
    const conv = stage.conversation(1, { frontendMode: 'normal' });
    const steps = [
      s.parse('', 'SELECT dblink_connect($1, $2)', [25, 25]),
      s.bind('', '', ['host=x password=secret', 'postgresql://u:pw@h/db']),
      s.execute(),
      s.sync(),
      s.parseComplete(),
      s.bindComplete(),
      s.commandComplete('SELECT 1'),
      s.ready(),
      s.bind('', '', ['host=x', 'plain']),
      s.execute(),
      s.sync(),
      s.bindComplete(),
      s.commandComplete('SELECT 1'),
      s.ready(),
    ];
    for (const ev of codecEvents(conv, 1, steps)) stage.write(ev);
    const binds = out.map(messageOf).filter((m): m is DecodedMessage => m?.name === 'Bind');
    assert.deepEqual(s.leaves(binds[0]!, 'parameter').map((l) => l!.secret), [true, true]);
    assert.deepEqual(s.leaves(binds[1]!, 'parameter').map((l) => l!.secret), [undefined, undefined]);
    const records = out.flatMap((e) => (e.kind === 'statement' ? [e.record] : []));
    assert.deepEqual(records.map((r) => r.params.map((p) => p.value)), [['<redacted>', '<redacted>'], ['host=x', 'plain']]);
  });

  it('without redaction, such parameters are typed as usual', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), { redact: false });
    for (const ev of codecEvents(stage.conversation(1, { frontendMode: 'normal' }), 1, [s.parse('', 'SELECT dblink_connect($1)', [25]), s.bind('', '', ['host=x password=secret'])])) stage.write(ev);
    const bind = out.map(messageOf).find((m) => m?.name === 'Bind')!;
    assert.equal(s.leaves(bind, 'parameter')[0]!.secret, undefined);
    assert.equal(s.leaves(bind, 'parameter')[0]!.typed?.text, 'host=x password=secret');
  });

  it('typed: false types nothing; records: false emits no statements; secrets are still marked', () => {
    const out: ProxyEvent[] = [];
    const stage = new StatementStage((ev) => out.push(ev), { redact: true, typed: false, records: false });
    const steps = [s.query("ALTER ROLE a PASSWORD 'x'; SELECT 1"), s.rowDescription([['a', 23]]), s.dataRow(['1']), s.commandComplete('SELECT 1'), s.ready()];
    for (const ev of codecEvents(stage.conversation(1, { frontendMode: 'normal' }), 1, steps)) stage.write(ev);
    const row = out.map(messageOf).find((m) => m?.name === 'DataRow')!;
    assert.equal(s.leaves(row, 'column')[0]!.typed, undefined);
    assert.equal(out.filter((e) => e.kind === 'statement').length, 0);
    const q = out.map(messageOf).find((m) => m?.name === 'Query')!;
    assert.equal(q.spans.find((sp) => sp.name === 'query')!.secret, true);
  });

  it('the stage as a whole never throws, and warns once', () => {
    const warnings: string[] = [];
    const stage = new StatementStage(
      () => {
        throw new Error('next broke');
      },
      { redact: true, warn: (t) => warnings.push(t) },
    );
    for (const ev of codecEvents(stage.conversation(1, { frontendMode: 'normal' }), 1, [s.query('SELECT 1'), s.commandComplete('SELECT 1'), s.ready()])) assert.doesNotThrow(() => stage.write(ev));
    assert.doesNotThrow(() => stage.write(closed(1)));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /next broke/);
  });
});
