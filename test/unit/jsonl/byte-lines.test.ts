import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteLines } from '../../../src/output/byte-lines.js';
import { JsonlSink, type JsonlOptions } from '../../../src/output/jsonl/jsonl-sink.js';
import type { ProxyEvent } from '../../../src/session/events.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { proxyEvents } from './proxy-events.js';

const OPTS: JsonlOptions = { redact: false, maxRawBytes: 1024 };
const events = proxyEvents(loadFixtures());

/** Every batch ByteLines hands over, copied (its buffer is reused after the call). */
function batches(maxBuffered: number, evs: ProxyEvent[]): Buffer[] {
  const out: Buffer[] = [];
  const lines = new ByteLines((b) => out.push(Buffer.from(b)), 50, maxBuffered);
  const sink = new JsonlSink(lines, OPTS);
  for (const ev of evs) sink.write(ev);
  lines.flush();
  return out;
}

test('batches of any size join into the same text, each ending at a line end', () => {
  const whole = batches(1 << 30, events);
  assert.equal(whole.length, 1);
  for (const max of [1, 300, 64 * 1024]) {
    const parts = batches(max, events);
    assert.ok(parts.length > (max === 64 * 1024 ? 1 : 100), `${parts.length} batches at ${max}`);
    for (const p of parts) assert.equal(p[p.length - 1], 0x0a, 'a batch ends with a whole line');
    assert.equal(Buffer.concat(parts).toString('utf8'), whole[0]!.toString('utf8'), `batches of ${max} bytes`);
  }
});

test('a huge line is written whole, and the buffer shrinks back afterwards', () => {
  const got: number[] = [];
  const lines = new ByteLines((b) => got.push(b.length), 50, 64 * 1024);
  lines.line('x'.repeat(5 * 1024 * 1024));
  assert.deepEqual(got, [5 * 1024 * 1024 + 1]);
  assert.ok(lines.out.buf.length <= 256 * 1024, `buffer kept: ${lines.out.buf.length} bytes`);
  lines.line('{}');
  lines.flush();
  assert.deepEqual(got, [5 * 1024 * 1024 + 1, 3]);
});

test('a message that fails half-way leaves no half line behind', () => {
  const message = events.find((e) => e.kind === 'codec' && e.event.kind === 'message')!;
  assert.ok(message.kind === 'codec' && message.event.kind === 'message');
  // The same event, but reading its message's spans throws after the line's head is written.
  const broken = { ...message, event: { ...message.event, message: { ...message.event.message, get spans(): never { throw new Error('boom'); } } } } as ProxyEvent;
  const out: string[] = [];
  const lines = new ByteLines((b) => out.push(b.toString('utf8')), 50, 1 << 30);
  const sink = new JsonlSink(lines, OPTS);
  sink.write(message);
  assert.throws(() => sink.write(broken), /boom/);
  sink.write(message);
  lines.flush();
  const text = out.join('');
  const l = text.split('\n');
  assert.equal(l.length, 3, 'two lines and the final newline');
  assert.equal(l[0], l[1]);
  assert.doesNotThrow(() => JSON.parse(l[0]!));
});
