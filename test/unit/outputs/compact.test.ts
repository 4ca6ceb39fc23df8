/**
 * --log-forwarded compact (src/output/compact.ts): one line per message. Every recorded
 * conversation (test/fixtures, and the hand-built ones of session-pipeline.ts) goes through
 * a real Session, with the statement analysis the outputs ask for, into the text log:
 * each message, framing error and stretch of undecoded bytes gives exactly one line, the
 * lines hold no control character (but pgscope's own colours), secrets stay hidden with
 * --redact-passwords, huge messages and --max-value-bytes keep lines bounded, and --filter
 * picks compact lines as it picks annotated ones.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/app/cli.js';
import { DEFAULTS, type Config } from '../../../src/app/config.js';
import { CompactLog } from '../../../src/output/compact.js';
import { LineWriter } from '../../../src/output/line-writer.js';
import { openOutputs } from '../../../src/output/outputs.js';
import { COLOUR, MONOCHROME } from '../../../src/output/style.js';
import { TextLog } from '../../../src/output/text-log.js';
import { Conversation } from '../../../src/protocol/conversation.js';
import { CancelRegistry } from '../../../src/session/cancel-registry.js';
import type { ProxyEvent } from '../../../src/session/events.js';
import { Session, type SessionInput, type SessionSettings } from '../../../src/session/session.js';
import { loadFixtures, type Fixture } from '../../helpers/fixtures.js';
import { syntheticConversations } from '../../helpers/session-pipeline.js';
import { cstr, int16, int32, msg, startupMessage } from '../../helpers/wire.js';

const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: null, alpn: 'postgresql' };
/** Control characters a terminal would act on (newline aside: it ends lines). */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/;
/** The SGR sequences pgscope's colour style writes. */
const OUR_SGR = /\x1b\[(2|22|1;31|39;22|36|35|33|39)m/g;
const strip = (s: string): string => s.replace(OUR_SGR, '');

const tmp = mkdtempSync(join(tmpdir(), 'pgscope-compact-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The events real sessions emit for these conversations (one connection each), decoding
 * with the statement analysis the outputs of `config` ask for, as the proxy does.
 */
function sessionEvents(fixtures: Fixture[], config: Config): ProxyEvent[] {
  const o = openOutputs(config, { writeText: () => {}, warn: () => {} });
  const analysis = o.statements;
  void o.close();
  const settings: SessionSettings = {
    serverHost: 'db.example',
    serverDeleteSuffix: '',
    serverConnectPort: 5432,
    serverSslnegotiation: 'postgres',
    clientDenySsl: false,
    serverTls: { attempt: false, requireEncryption: false, mode: 'disable' },
    statements: analysis,
    essentialOnly: !o.showsMessages,
    hook: null,
  };
  const cancels = new CancelRegistry();
  let clock = 1_795_223_564_693.125;
  const now = (): number => (clock += 0.375);
  const events: ProxyEvent[] = [];
  fixtures.forEach((f, i) => {
    const session = new Session(i + 1, settings, cancels, now);
    let serverConnected = false;
    let closed = false;
    const inputs: SessionInput[] = [];
    const run = (input: SessionInput): void => {
      inputs.push(input);
      while (inputs.length > 0) {
        for (const a of session.handle(inputs.shift()!)) {
          if (a.type === 'log') events.push(a.event);
          else if (a.type === 'connect-server') {
            serverConnected = true;
            inputs.push({ type: 'server-connected', address: '192.0.2.7', port: a.port, localAddress: '192.0.2.1', localPort: 50000 + i });
          } else if (a.type === 'start-client-tls') inputs.push({ type: 'client-tls-ready', info: TLS });
          else if (a.type === 'start-server-tls') inputs.push({ type: 'server-tls-ready', info: { ...TLS, sni: a.host }, certificate: null });
          else if (a.type === 'close' || a.type === 'reset') closed = true;
        }
      }
    };
    run({ type: 'client-connected', address: '198.51.100.9', port: 40000 + i, localAddress: '127.0.0.1', localPort: 5433 });
    for (const c of f.chunks) {
      if (closed) break;
      if (c.dir === 'frontend') run({ type: 'client-data', bytes: c.bytes });
      else if (serverConnected) run({ type: 'server-data', bytes: c.bytes });
    }
    if (!closed) run({ type: 'client-closed' });
    run({ type: 'ended' });
  });
  return events;
}

/** What the text log writes for each event, in compact form: the lines of each, made terminal-safe. */
function compactLinesPerEvent(events: ProxyEvent[], opts: { redact?: boolean; colour?: boolean; maxValueBytes?: number } = {}): string[][] {
  let text = '';
  const writer = new LineWriter((t) => (text += t), 50, 1 << 30);
  const log = new TextLog(writer, { forwarded: 'compact', style: opts.colour ? COLOUR : MONOCHROME, maxValueBytes: opts.maxValueBytes ?? DEFAULTS.maxValueBytes, verbose: false, redact: opts.redact ?? false });
  return events.map((ev) => {
    log.write(ev);
    writer.flush();
    const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
    text = '';
    return lines;
  });
}

const allConversations = (): Fixture[] => [...loadFixtures(), ...syntheticConversations()];
const typedConfig: Config = { ...DEFAULTS, logForwarded: 'compact' };

describe('--log-forwarded compact over every recorded conversation', () => {
  const events = sessionEvents(allConversations(), typedConfig);
  const perEvent = compactLinesPerEvent(events);

  it('one line per message, framing error and stretch of bytes not decoded; none for ^^ or a huge message still arriving', () => {
    let messages = 0;
    for (const [i, ev] of events.entries()) {
      const lines = perEvent[i]!;
      if (ev.kind === 'codec') {
        const expected = ev.event.kind === 'message-start' ? 0 : 1;
        assert.equal(lines.length, expected, `${ev.event.kind} ${ev.event.kind === 'message' ? ev.event.message.name : ''}: ${JSON.stringify(lines)}`);
        if (ev.event.kind === 'message') messages++;
      } else if (ev.kind === 'forwarded') {
        assert.deepEqual(lines, [], 'no ^^ lines');
      }
    }
    assert.ok(messages > 500, `${messages} messages`);
  });

  it('each line is `#N  MARKER Name summary`: C and S for forwarded traffic, P>C, C>P, P>S, S>P for pgscope\'s own', () => {
    const seen = new Set<string>();
    for (const [i, ev] of events.entries()) {
      if (ev.kind !== 'codec' || ev.event.kind !== 'message') continue;
      const line = perEvent[i]![0]!;
      const m = /^#(\d+) {2}(C|S|C>P|P>C|P>S|S>P) (\S+)/.exec(line);
      assert.ok(m, line);
      assert.equal(Number(m[1]), ev.conn);
      const want = { 'client -> server': 'C', 'server -> client': 'S', 'client -> script': 'C>P', 'script -> client': 'P>C', 'script -> server': 'P>S', 'server -> script': 'S>P' }[ev.label];
      assert.equal(m[2], want, line);
      assert.ok(line.startsWith(`#${ev.conn}  ${want} ${ev.event.message.name}`), line);
      assert.ok(line.length < 400, `bounded: ${line.length}`);
      seen.add(m[2]!);
    }
    // The SSLRequest of psql-sslrequest-accepted is answered by pgscope itself.
    assert.ok(seen.has('C') && seen.has('S') && seen.has('C>P') && seen.has('P>C'), [...seen].join(' '));
  });

  it('reads as the brief promised: SQL, typed rows, tags, errors, status', () => {
    const all = perEvent.flat();
    const has = (re: RegExp): void => assert.ok(all.some((l) => re.test(l)), `a line matching ${re}`);
    has(/^#\d+ {2}C Query "SELECT g AS n, 'row ' \|\| g AS label FROM generate_series\(1, 3\) AS g"$/);
    has(/^#\d+ {2}S RowDescription \(n int4, label text\)$/);
    has(/^#\d+ {2}S DataRow \(1, 'row 1'\)$/);
    has(/^#\d+ {2}S CommandComplete SELECT 3$/);
    has(/^#\d+ {2}S ErrorResponse ERROR 22012 division by zero$/);
    has(/^#\d+ {2}S ReadyForQuery idle$/);
    has(/^#\d+ {2}C Sync$/);
    has(/^#\d+ {2}C Bind unnamed portal ← statement "\w+" \(5, 'x'\)$/);
    has(/^#\d+ {2}C Bind unnamed portal ← unnamed statement \('42', NULL\)$/);
    // Status lines are the annotated log's, unchanged.
    has(/^#\d+ {2}connection end$/);
  });

  it('no control character reaches the output, and in colour only pgscope\'s own SGR codes; ErrorResponse whole in red', () => {
    for (const l of perEvent.flat()) assert.equal(CONTROL.exec(l), null, JSON.stringify(l));
    const coloured = compactLinesPerEvent(events, { colour: true });
    for (const l of coloured.flat()) assert.equal(CONTROL.exec(strip(l)), null, JSON.stringify(l));
    assert.deepEqual(coloured.map((ls) => ls.map(strip)), perEvent, 'the same text underneath');
    const error = coloured.flat().find((l) => strip(l).includes(' ErrorResponse ERROR 22012'))!;
    assert.match(error, /^#\d+ {2}\x1b\[1;31mS ErrorResponse ERROR 22012 division by zero\x1b\[39;22m$/);
    const query = coloured.flat().find((l) => strip(l).includes(' C Query '))!;
    assert.match(query, /^#\d+ {2}\x1b\[36mC Query\x1b\[39m "/, 'client side in its colour');
    const rfq = coloured.flat().find((l) => strip(l).endsWith(' S ReadyForQuery idle'))!;
    assert.match(rfq, /^#\d+ {2}\x1b\[35mS ReadyForQuery\x1b\[39m idle$/, 'server side in its colour');
  });
});

describe('--log-forwarded compact with --redact-passwords', () => {
  /** SQL and parameters carrying passwords: shown without --redact-passwords, never with it. */
  const SECRETS = ["'pw'", 'hunter2', 'password=secret', 'u:pw@h', 'password=p', "PASSWORD 'x'"];
  /** The recorded password and MD5 hash: a password message's summary never shows its value. */
  const NEVER = ['pgscope-secret', 'c51a5204a16ee11ce452c80c88abc0f2'];

  it('shows no secret, and says where one was hidden', () => {
    const convs = allConversations();
    const plain = compactLinesPerEvent(sessionEvents(convs, typedConfig)).flat().join('\n');
    for (const s of SECRETS) assert.ok(plain.includes(s), `without redaction the log shows ${s}`);
    for (const s of NEVER) assert.ok(!plain.includes(s), `${s} is never shown`);
    const config = { ...typedConfig, redactPasswords: true };
    const text = compactLinesPerEvent(sessionEvents(convs, config), { redact: true }).flat().join('\n');
    for (const s of [...SECRETS, ...NEVER]) assert.ok(!text.includes(s), `${s} is hidden`);
    assert.match(text, /^#\d+ {2}C Query "<redacted \d+ bytes>"$/m, 'a Query whose SQL carries a password');
    assert.match(text, /^#\d+ {2}C PasswordMessage cleartext password$/m);
    assert.match(text, /^#\d+ {2}C Bind unnamed portal ← unnamed statement \('<redacted 7 bytes>'\)$/m, 'a parameter of ALTER ROLE … PASSWORD $1');
    // Everything else still reads as usual.
    assert.match(text, /^#\d+ {2}S ErrorResponse ERROR 22012 division by zero$/m);
  });

  it('hides bytes that could not be decoded (they may be a password message)', () => {
    const ev = { kind: 'unparsed' as const, direction: 'frontend' as const, offset: 0, length: 40, prefix: Buffer.from('p\0\0\0\x0chunter2\0'), reason: 'after a framing error' };
    const lines = (redact: boolean): string[] => {
      const out: string[] = [];
      new CompactLog({ redact }).write(ev, 'client -> server', '#1  ', (l) => out.push(l));
      return out;
    };
    assert.deepEqual(lines(false), ['#1  C UNPARSED 40 bytes not decoded (after a framing error): "p\\x00\\x00\\x00\\x0chunter2\\x00"…(27 more bytes)']);
    assert.deepEqual(lines(true), ['#1  C UNPARSED 40 bytes not decoded (after a framing error): <redacted 40 bytes>']);
  });
});

describe('--log-forwarded compact keeps lines bounded', () => {
  const conversation = (steps: ['frontend' | 'backend', Buffer][]): Fixture => ({
    name: 'big',
    description: 'synthetic: big',
    server: 'synthetic',
    client: 'synthetic',
    chunks: [
      { dir: 'frontend', bytes: startupMessage({ user: 'alice', database: 'db' }) },
      { dir: 'backend', bytes: Buffer.concat([msg('R', int32(0)), msg('Z', 'I')]) },
      ...steps.map(([dir, bytes]) => ({ dir, bytes })),
    ],
  });
  const huge = 'x'.repeat(3 * 1024 * 1024);
  const rowOf = (v: string): Buffer => msg('D', int16(1), int32(Buffer.byteLength(v)), Buffer.from(v));
  const fx = conversation([
    ['frontend', msg('Q', cstr(`select '${huge}'`))],
    ['backend', Buffer.concat([msg('T', int16(1), cstr('big'), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)), rowOf(huge), rowOf('y'.repeat(500_000)), rowOf('0123456789abcdefghij'), msg('C', cstr('SELECT 3')), msg('Z', 'I')])],
  ]);

  it('a message over the retention limit is one short line saying so; a long value is cut', () => {
    const events = sessionEvents([fx], typedConfig);
    const lines = compactLinesPerEvent(events).flat().filter((l) => / (Query|DataRow) /.test(l));
    assert.equal(lines.length, 4, lines.join('\n'));
    for (const l of lines) assert.ok(l.length < 300, `${l.length}: ${l.slice(0, 100)}`);
    assert.match(lines[0]!, /^#1 {2}C Query \d+ bytes not kept for decoding \(forwarded unchanged\)$/);
    assert.match(lines[1]!, /^#1 {2}S DataRow /);
    assert.match(lines[2]!, /^#1 {2}S DataRow \('y{59}…'\)$/);
    assert.equal(lines[3], "#1  S DataRow ('0123456789abcdefghij')");
  });

  it('--max-value-bytes cuts values further, as in the annotated log', () => {
    const lines = compactLinesPerEvent(sessionEvents([fx], { ...typedConfig, maxValueBytes: 8 }), { maxValueBytes: 8 })
      .flat()
      .filter((l) => / DataRow /.test(l));
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^#1 {2}S DataRow \('x{8}…'\)$/);
    assert.equal(lines[1], "#1  S DataRow ('yyyyyyyy…')");
    assert.equal(lines[2], "#1  S DataRow ('01234567…')");
  });

  it('a value cut by --max-value-bytes ends on a whole character', () => {
    const conv = new Conversation({ backendMode: 'normal' });
    const out: string[] = [];
    const log = new CompactLog({ maxValueBytes: 5 });
    for (const ev of conv.push('backend', rowOf('ééééé'))) log.write(ev, 'server -> client', '', (l) => out.push(l));
    assert.deepEqual(out, ["S DataRow ('éé…')"]);
  });
});

describe('--filter and compact', () => {
  it('picks compact lines as it picks annotated ones', () => {
    const events = sessionEvents(loadFixtures().filter((f) => f.name === 'psql-scram-simple-queries'), typedConfig);
    const run = (logForwarded: 'compact' | 'annotated', filter: string): string[] => {
      let text = '';
      const o = openOutputs({ ...DEFAULTS, logForwarded, filter }, { writeText: (t) => (text += t), warn: () => {} });
      for (const ev of events) o.log(ev);
      o.flush();
      void o.close();
      return text.split('\n').filter((l) => l !== '');
    };
    const messages = (lines: string[]): string[] => lines.filter((l) => /^#1 {2}[CS] /.test(l));
    // Status lines (but the ^^ lines compact leaves out).
    const others = (lines: string[]): string[] => lines.filter((l) => !/^#1 {2}([CS] |(client|server) -> |\^\^ )/.test(l) && !/^#1 {3}/.test(l));
    for (const filter of ['errors', 'Query and sql ~* "^select"', 'server and not DataRow']) {
      const compact = run('compact', filter);
      const annotated = run('annotated', filter);
      // The same messages (one head line each in the annotated log), the same status lines.
      const heads = annotated.filter((l) => /^#1 {2}(client -> server|server -> client): /.test(l));
      assert.equal(messages(compact).length, heads.length, filter);
      assert.deepEqual(others(compact), others(annotated), filter);
    }
    assert.deepEqual(messages(run('compact', 'errors')), ['#1  S ErrorResponse ERROR 22012 division by zero']);
    const queries = messages(run('compact', 'Query and sql ~* "^select"'));
    assert.ok(queries.length === 3 && queries.every((l) => /^#1 {2}C Query "SELECT /.test(l)), queries.join('\n'));
    assert.ok(messages(run('compact', 'server and not DataRow')).every((l) => /^#1 {2}S (?!DataRow)/.test(l)));
  });
});

describe('pgscope decode --log-forwarded compact', () => {
  it('one line per message, values typed', async () => {
    const file = join(tmp, 'conv.json');
    const hostile = 'boom\x1b[2J\x9b31m\u202eevil';
    const chunks = [
      { dir: 'frontend', hex: startupMessage({ user: 'alice', database: 'db' }).toString('hex') },
      { dir: 'backend', hex: Buffer.concat([msg('R', int32(0)), msg('Z', 'I')]).toString('hex') },
      { dir: 'frontend', hex: msg('Q', cstr('select 1 as one')).toString('hex') },
      {
        dir: 'backend',
        hex: Buffer.concat([
          msg('T', int16(1), cstr('one'), int32(0), int16(0), int32(23), int16(4), int32(-1), int16(0)),
          msg('D', int16(1), int32(1), Buffer.from('1')),
          msg('C', cstr('SELECT 1')),
          msg('E', cstr('SERROR'), cstr('VERROR'), cstr('C22012'), cstr(`M${hostile}`), Buffer.from([0])),
          msg('Z', 'I'),
        ]).toString('hex'),
      },
    ];
    writeFileSync(file, JSON.stringify({ chunks }));
    let out = '';
    const code = await main(['decode', file, '--log-forwarded', 'compact', '--bw'], { out: (s) => void (out += s), err: () => {}, env: {}, stdoutIsTTY: false, runProxy: async () => 0 });
    assert.equal(code, 0);
    assert.deepEqual(out.trimEnd().split('\n'), [
      'C StartupMessage user=alice database=db',
      'S AuthenticationOk the authentication was successful',
      'S ReadyForQuery idle',
      'C Query "select 1 as one"',
      'S RowDescription (one int4)',
      'S DataRow (1)',
      'S CommandComplete SELECT 1',
      'S ErrorResponse ERROR 22012 boom\\x1b[2J\\u009b31m\\u202eevil',
      'S ReadyForQuery idle',
    ]);
    assert.equal(CONTROL.exec(out.replace(/\n/g, '')), null);
  });
});
