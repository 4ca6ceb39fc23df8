import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import type { DecodedMessage, Span } from '../../../src/protocol/types.js';
import type { ProxyEvent } from '../../../src/session/events.js';
import { parseFilter } from '../../../src/output/filter/filter.js';
import { checkJsonlLines } from '../../helpers/jsonl-check.js';
import { loadFixtures, type Fixture } from '../../helpers/fixtures.js';
import { fixtureEvents, renderJsonl, T0 } from './events.js';

const fixtures = loadFixtures();
const byName = (n: string): Fixture => fixtures.find((f) => f.name === n) ?? assert.fail(`fixture ${n} missing`);
const OPTS = { redact: false, maxRawBytes: 1 << 20 };

test('there are recordings to check', () => {
  assert.ok(fixtures.length >= 20, `only ${fixtures.length} fixtures`);
});

for (const f of fixtures) {
  test(`${f.name}: one valid line per codec event, framing equal to the frames`, () => {
    const events = fixtureEvents(f, 7);
    const lines = checkJsonlLines(renderJsonl(events, OPTS));
    const codec = events.flatMap((e) => (e.kind === 'codec' && e.event.kind !== 'message-start' ? [e.event] : []));
    assert.equal(lines.length, codec.length);
    lines.forEach((l, i) => {
      const c = codec[i]!;
      assert.equal(l.conn, 7);
      if (c.kind !== 'message') return assert.equal(l.type, c.kind === 'error' ? 'codec-error' : 'unparsed');
      const fr = c.message.frame;
      assert.equal(l.type, 'message');
      assert.equal(l.msg, c.message.name);
      assert.equal(l.offset, fr.offset);
      assert.equal(l.size, fr.size);
      assert.equal(l.length, fr.length);
      assert.equal(l.raw, fr.bytes.toString('hex'));
      assert.equal(l.rawTruncated, fr.complete ? undefined : true);
      // Top-level fields tile the frame: each starts where the previous ended, the last ends at its end.
      const fields = l.fields as { offset: number; length: number }[];
      let at = 0;
      for (const fl of fields) {
        assert.equal(fl.offset, at, `${c.message.name}: field at ${fl.offset}, expected ${at}`);
        at += fl.length;
      }
      assert.equal(at, fr.size, `${c.message.name}: fields end at ${at} of ${fr.size}`);
    });
    // Offsets grow within each direction's stream.
    for (const dir of ['frontend', 'backend']) {
      const offs = lines.filter((l) => l.type === 'message' && l.dir === dir).map((l) => l.offset as number);
      assert.deepEqual(offs, [...offs].sort((a, b) => a - b));
    }
  });
}

test('time has six fractional digits and ts is the same instant in microseconds', () => {
  const mk = (time: number): ProxyEvent => ({ kind: 'status', conn: null, time, level: 'info', text: 'x' });
  const lines = checkJsonlLines(renderJsonl([mk(T0), mk(1000.0004), mk(1000.9996), mk(0.001)], OPTS));
  assert.deepEqual(
    lines.map((l) => [l.time, l.ts]),
    [
      ['2026-11-21T01:12:44.693123Z', 1795223564693123],
      ['1970-01-01T00:00:01.000000Z', 1000000],
      ['1970-01-01T00:00:01.001000Z', 1001000],
      ['1970-01-01T00:00:00.000001Z', 1],
    ],
  );
});

const PASSWORDS: Record<string, string> = { 'psql-cleartext-auth': 'pgscope-secret', 'psql-md5-auth': 'md5c51a5204a16ee11ce452c80c88abc0f2' };

/** Every secret value in a recording, as the forms a JSON line could carry it in. */
function secretForms(events: ProxyEvent[]): string[] {
  const out: string[] = [];
  const walk = (spans: Span[]): void => {
    for (const s of spans) {
      if (s.secret) {
        const b = Buffer.isBuffer(s.value) ? s.value : Buffer.from(String(s.value));
        out.push(b.toString('hex'));
        if (typeof s.value === 'string') out.push(s.value);
      }
      if (s.children) walk(s.children);
    }
  };
  for (const e of events) if (e.kind === 'codec' && e.event.kind === 'message') walk(e.event.message.spans);
  return out;
}

for (const [name, password] of Object.entries(PASSWORDS)) {
  test(`${name}: --redact-passwords removes the password and every secret from the whole output`, () => {
    const events = fixtureEvents(byName(name));
    const secrets = secretForms(events);
    assert.ok(secrets.includes(password), 'the recording has the password as a secret span');
    assert.ok(secrets.length >= 3, 'and the BackendKeyData key');
    const plain = renderJsonl(events, OPTS);
    assert.ok(plain.includes(password), 'without redaction the password is shown');
    assert.ok(plain.includes(Buffer.from(password).toString('hex')), 'and is in the raw bytes');

    const text = renderJsonl(events, { ...OPTS, redact: true });
    for (const s of secrets) assert.ok(!text.includes(s), `secret ${s} appears in the redacted output`);
    const lines = checkJsonlLines(text);
    const pw = lines.find((l) => l.msg === 'PasswordMessage')!;
    assert.equal(pw.redacted, true);
    assert.equal(pw.raw, undefined);
    const field = (pw.fields as { name: string; value: unknown; secret?: boolean }[]).find((f) => f.name === 'password')!;
    assert.deepEqual([field.value, field.secret], ['<redacted>', true]);
    // Messages without secrets keep their raw bytes.
    assert.ok(lines.filter((l) => l.type === 'message' && typeof l.raw === 'string').length > 5);
  });
}

test('redaction drops raw bytes of every client "p" message, secret fields or not (SCRAM)', () => {
  const lines = checkJsonlLines(renderJsonl(fixtureEvents(byName('psql-scram-simple-queries')), { ...OPTS, redact: true }));
  const p = lines.filter((l) => l.dir === 'frontend' && l.typeByte === 'p');
  assert.deepEqual(
    p.map((l) => [l.msg, l.redacted, l.raw]),
    [
      ['SASLInitialResponse', true, undefined],
      ['SASLResponse', true, undefined],
    ],
  );
});

test('raw bytes and byte values are cut at maxRawBytes and say so', () => {
  const lines = checkJsonlLines(renderJsonl(fixtureEvents(byName('psql-scram-simple-queries')), { redact: false, maxRawBytes: 8 }));
  const rows = lines.filter((l) => l.msg === 'DataRow');
  assert.ok(rows.length > 0);
  for (const l of rows) {
    const size = l.size as number;
    assert.equal((l.raw as string).length, Math.min(size, 8) * 2);
    assert.equal(l.rawTruncated, size > 8 ? true : undefined);
  }
  const cut = lines.flatMap((l) => JSON.stringify(l.fields).match(/\{"(?:hex|text)":"[^"]*","length":\d+,"truncated":true\}/g) ?? []);
  assert.ok(cut.length > 0, 'some byte value is longer than 8 bytes');
  for (const c of cut) {
    const v = JSON.parse(c) as { hex?: string; text?: string; length: number };
    assert.ok(v.length > 8 && (v.hex ? v.hex.length === 16 : v.text!.length <= 8), c);
  }
});

test('a frame not retained whole has rawTruncated even under the limit', () => {
  const f = byName('psql-scram-simple-queries');
  const events = fixtureEvents(f, 1, new Conversation({ retain: 16 }));
  const lines = checkJsonlLines(renderJsonl(events, OPTS));
  const partial = lines.filter((l) => (l.size as number) > 16 && l.type === 'message');
  assert.ok(partial.length > 0);
  for (const l of partial) assert.deepEqual([(l.raw as string).length, l.rawTruncated], [32, true]);
  assert.ok(lines.some((l) => JSON.stringify(l.fields).includes('"flag":"elided"')));
});

test('codec errors and unparsed bytes get their own lines; unparsed bytes are hidden when redacting', () => {
  const events = fixtureEvents(byName('psql-sslrequest-accepted'));
  const plain = checkJsonlLines(renderJsonl(events, OPTS)).filter((l) => l.type === 'unparsed');
  assert.ok(plain.length > 0);
  for (const l of plain) assert.ok((l.prefix as { hex?: string }).hex);
  const red = checkJsonlLines(renderJsonl(events, { ...OPTS, redact: true })).filter((l) => l.type === 'unparsed');
  for (const l of red) assert.deepEqual([l.redacted, l.prefix], [true, undefined]);

  const conv = new Conversation();
  const bad: ProxyEvent[] = conv.push('backend', Buffer.from('5a00000001', 'hex')).map((event) => ({ kind: 'codec', conn: 2, time: T0, label: 'server -> client', event }));
  const [line] = checkJsonlLines(renderJsonl(bad, OPTS));
  assert.equal(line!.type, 'codec-error');
  assert.deepEqual((line!.error as Record<string, unknown>).code, 'length-too-short');
});

test('a malformed message carries its error and an unparsed field', () => {
  // ReadyForQuery with 2 status bytes instead of 1.
  const conv = new Conversation({ backendMode: 'normal' });
  const events: ProxyEvent[] = conv.push('backend', Buffer.from('5a000000064949', 'hex')).map((event) => ({ kind: 'codec', conn: 1, time: T0, label: 'server -> client', event }));
  const [l] = checkJsonlLines(renderJsonl(events, OPTS));
  assert.equal(l!.msg, 'ReadyForQuery');
  assert.equal((l!.error as Record<string, unknown>).code, 'trailing-bytes');
  assert.ok((l!.fields as { flag?: string }[]).some((f) => f.flag === 'unparsed'));
});

test('typed values, meanings and nested children are carried over', () => {
  const events = fixtureEvents(byName('psql-scram-simple-queries'));
  const row = events.find((e) => e.kind === 'codec' && e.event.kind === 'message' && e.event.message.name === 'DataRow');
  const msg = (row as { event: { message: DecodedMessage } }).event.message;
  const col = msg.spans.find((s) => s.children)!;
  col.typed = { type: 'int8', value: '9007199254740993', text: '9007199254740993' };
  const [l] = checkJsonlLines(renderJsonl([row!], OPTS));
  const jcol = (l!.fields as Record<string, unknown>[]).find((f) => f.children)!;
  assert.deepEqual(jcol.typed, col.typed);
  assert.equal((jcol.children as unknown[]).length, col.children!.length);
  assert.equal(jcol.meaning, col.meaning);
});

test('connection, status, security and statement events; forwarded, wire and message-start write nothing', () => {
  const time = T0;
  const tls = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: 'db.local.neon.build', alpn: null };
  const events: ProxyEvent[] = [
    { kind: 'status', conn: null, time, level: 'info', text: 'listening on 127.0.0.1:5432' },
    { kind: 'connection', conn: 3, time, phase: 'opened', client: { address: '127.0.0.1', port: 50000 }, local: { address: '127.0.0.1', port: 5432 } },
    { kind: 'connection', conn: 3, time, phase: 'client-tls', tls, direct: false },
    { kind: 'connection', conn: 3, time, phase: 'server-connected', host: 'db', port: 5432, why: 'SNI', remote: { address: '10.0.0.1', port: 5432 }, local: { address: '10.0.0.2', port: 40000 } },
    { kind: 'connection', conn: 3, time, phase: 'server-tls', tls: { ...tls, sni: 'db' } },
    { kind: 'forwarded', conn: 3, time, label: 'client -> server', bytes: 10, elapsed: 0.1 },
    { kind: 'wire', conn: 3, time, label: 'client -> server', direction: 'frontend', offset: 0, bytes: Buffer.from('x') },
    { kind: 'codec', conn: 3, time, label: 'server -> client', event: { kind: 'message-start', direction: 'backend', offset: 0, type: 'D', length: 1e6, size: 1e6 + 1 } },
    {
      kind: 'security',
      conn: 3,
      time,
      verdict: { tls: 'self-signed', gs2Flag: 'n', clientAuth: 'SCRAM-SHA-256', serverOfferedPlus: true, exposure: 'exposed', overrideAuth: false, sentence: 'exposed.' },
    },
    {
      kind: 'statement',
      conn: 3,
      time,
      record: { conn: 3, start: T0 - 2.5, duration: 2.5, untilReady: 2.6, protocol: 'extended', sql: 'SELECT $1', statement: '', portal: '', params: [{ type: 'int4', format: 'text', value: '1' }], rows: 1, tag: 'SELECT 1', affected: 1, error: null },
    },
    { kind: 'connection', conn: 3, time, phase: 'closed', reason: 'client closed', bytesFromClient: 100, bytesFromServer: 200 },
  ];
  const lines = checkJsonlLines(renderJsonl(events, OPTS));
  assert.deepEqual(
    lines.map((l) => [l.type, l.phase ?? '']),
    [['status', ''], ['connection', 'opened'], ['connection', 'client-tls'], ['connection', 'server-connected'], ['connection', 'server-tls'], ['security', ''], ['statement', ''], ['connection', 'closed']],
  );
  assert.deepEqual(lines[2]!.tls, tls);
  assert.equal(lines[6]!.start, '2026-11-21T01:12:44.690623Z');
  assert.equal(lines[6]!.sql, 'SELECT $1');
  assert.equal(lines[5]!.exposure, 'exposed');
});

test('a filter decides which events become lines', () => {
  const events = fixtureEvents(byName('pg-extended-query'));
  const lines = checkJsonlLines(renderJsonl(events, { ...OPTS, filter: parseFilter('queries') }));
  assert.deepEqual([...new Set(lines.map((l) => l.msg))].sort(), ['Bind', 'CommandComplete', 'ErrorResponse', 'Execute', 'Parse']);
  assert.equal(renderJsonl(events, { ...OPTS, filter: parseFilter('pgscope') }), '');
});

test('typed values are bounded like raw: text and value cut at maxRawBytes characters, with truncated: true', () => {
  const events = fixtureEvents(byName('psql-scram-simple-queries'));
  const row = events.find((e) => e.kind === 'codec' && e.event.kind === 'message' && e.event.message.name === 'DataRow');
  const msg = (row as { event: { message: DecodedMessage } }).event.message;
  const col = msg.spans.find((s) => s.children)!;
  const long = 'x'.repeat(5000);
  const opts = { redact: false, maxRawBytes: 1024 };
  col.typed = { type: 'text', value: long, text: long };
  let [l] = checkJsonlLines(renderJsonl([row!], opts));
  let t = (l!.fields as Record<string, unknown>[]).find((f) => f.children)!.typed as Record<string, unknown>;
  assert.deepEqual(t, { type: 'text', value: 'x'.repeat(1024), text: 'x'.repeat(1024), truncated: true });
  // An array: elements beyond the limit are left out.
  col.typed = { type: 'text[]', value: Array.from({ length: 1000 }, () => 'abcdefghij'), text: `{${Array.from({ length: 1000 }, () => 'abcdefghij').join(',')}}` };
  [l] = checkJsonlLines(renderJsonl([row!], opts));
  t = (l!.fields as Record<string, unknown>[]).find((f) => f.children)!.typed as Record<string, unknown>;
  assert.equal(t.truncated, true);
  assert.equal((t.text as string).length, 1024);
  assert.ok((t.value as string[]).length <= 103 && (t.value as string[]).length >= 100, `${(t.value as string[]).length} elements`);
  // Small values are untouched.
  col.typed = { type: 'int4[]', value: [1, null, 3], text: '{1,NULL,3}' };
  [l] = checkJsonlLines(renderJsonl([row!], opts));
  t = (l!.fields as Record<string, unknown>[]).find((f) => f.children)!.typed as Record<string, unknown>;
  assert.deepEqual(t, { type: 'int4[]', value: [1, null, 3], text: '{1,NULL,3}' });
});
