import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonlSink, type JsonlOptions } from '../../../src/output/jsonl/jsonl-sink.js';
import { jsonBytesText, writeJsonValue } from '../../../src/output/jsonl/json-value.js';
import { JsonOut, terminalSafeJson } from '../../../src/output/jsonl/json-out.js';
import { ByteLines } from '../../../src/output/byte-lines.js';
import type { LineWriter } from '../../../src/output/line-writer.js';
import { epochMicros, isoMicros } from '../../../src/output/time.js';
import { Conversation } from '../../../src/protocol/conversation.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import type { ProxyEvent } from '../../../src/session/events.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { proxyEvents } from './proxy-events.js';
import { jsonBytes, jsonValue } from './reference/json-value.js';
import { JsonlSink as ReferenceSink } from './reference/jsonl-sink.js';
import { typedJson } from './reference/message-json.js';
import { isoMicros as referenceIso } from './reference/time.js';

// The JSON lines sink writes its text directly; the reference (the sink as it was, built
// objects and JSON.stringify) says what that text must be, byte for byte.

const fixtures = loadFixtures();

/** writeJsonValue as a string (undefined for undefined, which it does not write). */
function jsonValueText(v: unknown, maxBytes: number, fullLength?: number): string | undefined {
  if (v === undefined) return undefined;
  const out = new JsonOut(64);
  writeJsonValue(out, v, maxBytes, fullLength);
  return out.buf.toString('utf8', 0, out.pos);
}

/**
 * The reference's lines as JSON.stringify made them, with the one change since: DEL, C1
 * controls and bidi overrides written as \u escapes (terminalSafeJson). Not through a
 * LineWriter, whose terminal escapes are for text, not JSON.
 */
function render(make: (lines: LineWriter) => { write(ev: ProxyEvent): void }, events: ProxyEvent[]): string {
  let text = '';
  const lines = { line: (t: string) => (text += terminalSafeJson(t) + '\n'), flush: () => {} } as unknown as LineWriter;
  const sink = make(lines);
  for (const ev of events) sink.write(ev);
  return text;
}

/** What the sink writes, as text: one batch at the end (ByteLines' limit out of reach), as render() does. */
function renderBytes(events: ProxyEvent[], opts: JsonlOptions): string {
  let text = '';
  const lines = new ByteLines((b) => (text += b.toString('utf8')), 50, 1 << 30);
  const sink = new JsonlSink(lines, opts);
  for (const ev of events) sink.write(ev);
  lines.flush();
  return text;
}

function assertSame(events: ProxyEvent[], opts: JsonlOptions): void {
  const want = render((l) => new ReferenceSink(l, opts), events);
  const got = renderBytes(events, opts);
  if (got === want) return;
  const g = got.split('\n');
  const w = want.split('\n');
  const i = g.findIndex((l, n) => l !== w[n]);
  assert.equal(g[i], w[i], `line ${i + 1} differs`);
  assert.equal(got, want);
}

const OPTIONS: [string, JsonlOptions][] = [
  ['defaults', { redact: false, maxRawBytes: 1024 }],
  ['redacting', { redact: true, maxRawBytes: 1024 }],
  ['a small limit', { redact: false, maxRawBytes: 8 }],
  ['a small limit, redacting', { redact: true, maxRawBytes: 3 }],
  ['no limit', { redact: false, maxRawBytes: 1 << 20 }],
];

for (const [name, opts] of OPTIONS) {
  test(`every recording, as the proxy reports it, gives the same bytes as before (${name})`, () => {
    // Decoded afresh for each: the statement stage marks secrets only when redacting.
    const events = proxyEvents(fixtures, { redact: opts.redact, step: 37.0013 });
    assert.ok(events.length > 1000);
    assertSame(events, opts);
  });
}

test('partly retained frames and elided values give the same bytes as before', () => {
  const events: ProxyEvent[] = [];
  fixtures.forEach((f, i) => {
    const conv = new Conversation({ retain: 16 });
    for (const c of f.chunks) for (const event of conv.push(c.dir, c.bytes)) events.push({ kind: 'codec', conn: i, time: 1e12 + events.length * 0.25, label: c.dir === 'frontend' ? 'client -> server' : 'server -> client', event });
  });
  for (const [, opts] of OPTIONS) assertSame(events, opts);
});

test('unusual members and values give the same bytes as before', () => {
  const conv = new Conversation({ backendMode: 'normal' });
  const [rfq] = conv.push('backend', Buffer.from('5a0000000549', 'hex'));
  const msg = (rfq as { message: DecodedMessage }).message;
  const bad = conv.push('backend', Buffer.from('5a000000064949', 'hex'))[0] as { message: DecodedMessage };
  const broken = new Conversation().push('backend', Buffer.from('5a00000001', 'hex'));
  const odd: unknown[] = [
    'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f lone \ud800 pair 😀 ls \u2028',
    -0,
    NaN,
    -Infinity,
    1e21,
    1.5e-7,
    12345678901234567890n,
    true,
    null,
    undefined,
    Buffer.from('plain text'),
    Buffer.from([0, 1, 2, 255]),
    new Uint8Array([104, 105]),
    Buffer.from('é'.repeat(10)),
    [1, undefined, null, [2n, Buffer.from('x')], 'y'],
    { a: 1, b: undefined, 2: 'two', 'we"ird': [NaN], ['__proto__']: 'p' },
    JSON.parse('{"__proto__": {"x": 1}, "y": 2}'),
    new Date(0),
    new Map([[1, 2]]),
    Symbol('s'),
    () => 1,
  ];
  const typedValues: unknown[] = [...odd, 'x'.repeat(40), ['a'.repeat(5), 'b'.repeat(5), 'c'.repeat(5)], Array.from({ length: 30 }, (_, i) => i), { k: 'v'.repeat(20), l: 'w' }, [[1, 2], [3, 4]]];
  msg.spans = [
    ...odd.map((value, i) => ({ name: `odd ${i}`, start: 0, end: 6, value, meaning: i % 2 ? 'm "q"' : undefined, retained: i % 3 ? undefined : 2 })),
    ...typedValues.map((value, i) => ({ name: 'typed', start: 0, end: 6, typed: { type: 'text[]', value, text: 't'.repeat(i) } })),
    { name: 'secret parent', start: 0, end: 6, value: 'v', children: [{ name: 'k', start: 0, end: 1, value: 'pw', secret: true, flag: 'elided' as const }] },
    { name: 'no children', start: 0, end: 6, value: 1, children: [] },
  ];
  msg.sub = ['XLogData', 'Insert "x"'];
  const t = 1795223564693.123;
  const events: ProxyEvent[] = [
    { kind: 'codec', conn: 1, time: t, label: 'server -> client', event: { kind: 'message', message: msg } },
    { kind: 'codec', conn: 1, time: t, label: 'script -> server', event: { kind: 'message', message: bad.message } },
    ...broken.map((event): ProxyEvent => ({ kind: 'codec', conn: 2, time: t, label: 'server -> script', event })),
    { kind: 'codec', conn: 3, time: t, label: 'client -> script', event: { kind: 'unparsed', direction: 'frontend', offset: 9, length: 100, reason: 'TLS', prefix: Buffer.from('\u0016\u0003\u0001') } },
    { kind: 'status', conn: null, time: t, level: 'debug', text: 'a "status" \n' },
    { kind: 'status', conn: 4, time: -1234.5678, level: 'error', text: undefined as unknown as string },
    { kind: 'status', conn: undefined as unknown as number, time: 0, level: 'info', text: 'x' },
    { kind: 'connection', conn: 5, time: t, phase: 'closed', reason: 'r', bytesFromClient: 1, bytesFromServer: 2 },
    { kind: 'connection', conn: 5, time: t, phase: 'closed', reason: 'r', bytesFromClient: 1, bytesFromServer: 2, ts: 'clash', 7: 'seven' } as unknown as ProxyEvent,
    { kind: 'security', conn: 6, time: t, verdict: { tls: 'none', gs2Flag: null, clientAuth: null, serverOfferedPlus: false, exposure: 'unknown', overrideAuth: true, sentence: 's' } },
    { kind: 'security', conn: 6, time: t, verdict: { conn: 99, tls: 'none' } as never },
    {
      kind: 'statement',
      conn: 7,
      time: t,
      record: { conn: 7, start: t - 1000.0005, duration: 1.5, untilReady: null, protocol: 'extended', sql: 'select $1 "x"', statement: '', portal: '', params: [{ type: 'int4', format: 'binary', value: null }], rows: 1, tag: 'SELECT 1', affected: 1, error: null },
    },
    { kind: 'statement', conn: 7, time: t, record: { conn: 7, start: t, startTs: 5, sql: 'x' } as never },
    { kind: 'statement', conn: 7, time: t, record: { start: t, extra: undefined, when: new Date(0), sql: 'x' } as never },
  ];
  for (const [, opts] of OPTIONS) assertSame(events, opts);
  assert.ok(bad.message.error !== undefined, 'the malformed message has its error');
});

test('byte and plain values: the text is what JSON.stringify made of the old objects', () => {
  const values: unknown[] = [Buffer.from('abc'), Buffer.from('aé'), Buffer.from([0x7f]), Buffer.alloc(0), 'x', 1n, [Buffer.from('\t\r\n')], { a: { b: [1, 'c'] } }];
  for (const v of values) {
    for (const max of [0, 1, 2, 3, 100]) {
      assert.equal(jsonValueText(v, max), JSON.stringify(jsonValue(v, max)), String(v));
      assert.equal(jsonValueText(v, max, 50), JSON.stringify(jsonValue(v, max, 50)), String(v));
      if (v instanceof Uint8Array) assert.equal(jsonBytesText(v, max, 7), JSON.stringify(jsonBytes(v, max, 7)));
    }
  }
  assert.ok(typedJson({ type: 'x', value: 1, text: '1' }, 4));
});

test('times: the same ISO text as before, the second cached or not', () => {
  const samples = [0, -1, -999999, -1000000, -1000001, 1, 999999, 1000000, 1795223564693123, 1795223564999999, 1795223565000000, 8.64e15 * 1000, 253402300799999999, 253402300800000000];
  let x = 1795223564693123;
  for (let i = 0; i < 20000; i++) {
    x += Math.floor(Math.random() * 3_000_000) - 1_000_000;
    samples.push(x, Math.floor(Math.random() * 4e15) - 2e15);
  }
  for (const us of samples) {
    let want: string | Error;
    try {
      want = referenceIso(us);
    } catch (e) {
      want = e as Error;
    }
    if (want instanceof Error) assert.throws(() => isoMicros(us), RangeError);
    else assert.equal(isoMicros(us), want, String(us));
  }
  assert.equal(isoMicros(1.5), referenceIso(1.5));
  assert.equal(isoMicros(epochMicros(1000.0004)), '1970-01-01T00:00:01.000000Z');
});
