/**
 * readCapture (src/capture/read-capture.ts) end to end in process:
 *  - every recorded conversation (test/fixtures, plus the pipeline's synthetic ones) run
 *    through real sessions with --pcap and --jsonl on (test/helpers/session-pipeline.ts),
 *    then the pcapng read back: the same messages (fields, raw), statements (sql, params,
 *    rows, tag, error) and closed facts as the JSON lines, redacting or not;
 *  - captures built by hand: encrypted connections, bytes missing, a capture that begins
 *    mid-connection, connections that are not PostgreSQL, packets that are not TCP,
 *    classic pcap of Linux cooked frames, pgscope's comments;
 *  - JSON lines read back as they are; files that are not captures; 100,000 messages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaptureError } from '../../../src/capture/capture-error.js';
import { forEachCaptureObject, readCapture, type CaptureOptions } from '../../../src/capture/read-capture.js';
import type { JsonlObject } from '../../../src/output/jsonl/objects.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { runPipeline, syntheticConversations } from '../../helpers/session-pipeline.js';
import { cstr, int16, int32, msg, startupMessage } from '../../helpers/wire.js';
import { ethernet, framesPcapng, inLinkLayer, ipPacket, pcap, PSH, tcpFrames, type Chunk, type End, type Frame } from './build-capture.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-capture-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(bytes: Buffer | string): string {
  const p = join(dir, `f${++files}`);
  writeFileSync(p, bytes);
  return p;
}

type Obj = Record<string, any> & { type: string; conn: number | null };
const read = async (bytes: Buffer | string, opts: CaptureOptions = { redact: false }): Promise<{ format: string; objects: Obj[]; notes: string[] }> =>
  (await readCapture(file(bytes), opts)) as unknown as { format: string; objects: Obj[]; notes: string[] };

const FORWARDED = new Set(['client -> server', 'server -> client']);

/**
 * A message as both sides must agree on it: not its time, nor its offset (a capture lacks
 * the SSLRequest pgscope answered). One that --redact-passwords took the raw bytes of was
 * written into the pcapng with its secret overwritten ('x'): read back, those bytes are
 * no longer a secret, only 'x's.
 */
function comparable(o: Obj, live: Obj = o): Record<string, unknown> {
  if (live.redacted) {
    assert.ok(o.redacted || /(78){4}/.test(o.raw), `${o.msg}: redacted, or its secret overwritten`);
    return { from: o.from, to: o.to, msg: o.msg, size: o.size };
  }
  const { time: _t, ts: _ts, offset: _o, fields, ...rest } = o;
  return { ...rest, fields: fieldsOf(fields) };
}

/** A secret's meaning depends on its bytes, which a redacted pcapng overwrote. */
function fieldsOf(fields: Record<string, any>[]): Record<string, unknown>[] {
  return fields.map((f) => (f.secret ? { name: f.name, offset: f.offset, length: f.length, secret: true } : f.children ? { ...f, children: fieldsOf(f.children) } : f));
}

const statementOf = (o: Obj): unknown => ({ conn: o.conn, sql: o.sql, params: o.params, rows: o.rows, tag: o.tag, affected: o.affected, error: o.error, protocol: o.protocol, statement: o.statement, portal: o.portal });

/**
 * A statement whose password --redact-passwords took out (or that shared a Query string
 * with one): in the pcapng, its SQL or parameters are 'x's.
 */
function statementsAgree(got: Obj, live: Obj): void {
  if (!JSON.stringify(live).includes('<redacted>') && !/^x+$/.test(got.sql)) {
    assert.deepEqual(statementOf(got), statementOf(live));
    return;
  }
  assert.deepEqual([got.conn, got.tag, got.rows, got.protocol], [live.conn, live.tag, live.rows, live.protocol]);
  assert.ok(!/pw|hunter2|secret|password=p/.test(JSON.stringify(got)), JSON.stringify(got));
}

for (const redact of [false, true]) {
  describe(`the recorded conversations through pgscope, then its pcapng read back${redact ? ' (--redact-passwords)' : ''}`, () => {
    let live: Obj[];
    let replayed: Obj[];
    let notes: string[];
    before(async () => {
      const out = await runPipeline([...loadFixtures(), ...syntheticConversations()], { redact });
      live = out.jsonl.trim().split('\n').map((l) => JSON.parse(l) as Obj);
      const c = await read(out.pcapng, { redact });
      assert.equal(c.format, 'pcapng');
      replayed = c.objects;
      notes = c.notes;
    });

    it('gives the messages of --jsonl: same connections, order, senders, fields and raw bytes; offsets shifted by what pgscope answered itself', () => {
      const conns = [...new Set(replayed.map((o) => o.conn))];
      const withMessages = new Set(live.filter((o) => o.type === 'message' && FORWARDED.has(o.label)).map((o) => o.conn));
      assert.ok(withMessages.size > 20, `${withMessages.size} connections`);
      for (const conn of withMessages) assert.ok(conns.includes(conn), `connection ${conn} is in the capture`);
      let compared = 0;
      for (const conn of conns) {
        const mine = live.filter((o) => o.conn === conn);
        const expected = mine.filter((o) => o.type === 'message' && FORWARDED.has(o.label));
        const got = replayed.filter((o) => o.conn === conn && o.type === 'message');
        if (mine.some((o) => o.type === 'unparsed' && !FORWARDED.has(o.label))) {
          // pgscope's own words after a TLS handshake it refused are not decoded live (it knew
          // the stream was encrypted), but are in the capture as plain bytes: more is decoded.
          const keys = got.map((o) => JSON.stringify(comparable(o)));
          for (const e of expected) assert.ok(keys.includes(JSON.stringify(comparable(e))), `connection ${conn}: ${e.msg}`);
          continue;
        }
        assert.deepEqual(got.map((g, i) => comparable(g, expected[i])), expected.map((e) => comparable(e)), `connection ${conn}`);
        for (const dir of ['frontend', 'backend']) {
          // The bytes of pgscope's own answers (SSLRequest and its 'S'), which the capture does not hold.
          const own = mine.filter((o) => o.type === 'message' && o.dir === dir && !FORWARDED.has(o.label)).reduce((n, o) => n + o.size, 0);
          got.forEach((g, i) => {
            if (g.dir === dir) assert.equal(expected[i]!.offset - g.offset, own, `connection ${conn} ${g.msg}`);
          });
        }
        // Times: the packet's, written when the bytes were, just after they were decoded.
        got.forEach((g, i) => assert.ok(g.ts >= expected[i]!.ts && g.ts - expected[i]!.ts < 100_000, `connection ${conn} ${g.msg}: ${g.ts} vs ${expected[i]!.ts}`));
        compared += got.length;
      }
      assert.ok(compared > 700, `${compared} messages compared`);
    });

    it('gives the statements of --jsonl (sql, parameters, rows, tag, error), and codec errors', () => {
      const conns = new Set(replayed.map((o) => o.conn));
      const expected = live.filter((o) => o.type === 'statement' && conns.has(o.conn));
      assert.ok(expected.length > 40);
      const got = replayed.filter((o) => o.type === 'statement');
      assert.equal(got.length, expected.length);
      got.forEach((g, i) => statementsAgree(g, expected[i]!));
      const errors = (l: Obj[]): unknown[] => l.filter((o) => o.type === 'codec-error').map((o) => ({ conn: o.conn, error: { ...o.error, offset: undefined } }));
      assert.ok(errors(live).length > 0);
      assert.deepEqual(errors(replayed), errors(live));
    });

    it('opens each connection at its client’s address, and closes it with the reason and byte counts pgscope wrote in the file', () => {
      for (const conn of new Set(replayed.map((o) => o.conn))) {
        const facts = replayed.filter((o) => o.conn === conn && o.type === 'connection');
        assert.deepEqual(
          facts.map((o) => o.phase),
          ['opened', 'server-connected', 'closed'].filter((p) => p !== 'server-connected' || live.some((o) => o.conn === conn && o.phase === 'server-connected')),
        );
        const liveOpened = live.find((o) => o.conn === conn && o.phase === 'opened')!;
        assert.deepEqual(facts[0]!.client, liveOpened.client);
        const { time: _a, ts: _b, ...closed } = facts.at(-1)!;
        const { time: _c, ts: _d, ...liveClosed } = live.find((o) => o.conn === conn && o.phase === 'closed')!;
        assert.deepEqual(closed, liveClosed);
      }
      assert.deepEqual(notes, []);
    });
  });
}

const T0 = 1_795_000_000_000;
const client: End = { ip: '10.1.0.5', port: 41000 };
const server: End = { ip: '10.1.0.9', port: 5432 };
const startup = startupMessage({ user: 'alice', database: 'app' });
const ready = Buffer.concat([msg('R', int32(0)), msg('Z', 'I')]);
const Q = (sql: string): Buffer => msg('Q', cstr(sql));
const answer = (value: string): Buffer =>
  Buffer.concat([msg('T', int16(1), cstr('v'), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)), msg('D', int16(1), int32(Buffer.byteLength(value)), value), msg('C', cstr('SELECT 1')), msg('Z', 'I')]);

/** A conversation: startup, then each query answered. */
function session(queries: string[], t0 = T0): Chunk[] {
  const chunks: Chunk[] = [
    { side: 'client', bytes: startup, time: t0 },
    { side: 'server', bytes: ready, time: t0 + 1 },
  ];
  queries.forEach((q, i) => {
    chunks.push({ side: 'client', bytes: Q(q), time: t0 + 10 * (i + 1) });
    chunks.push({ side: 'server', bytes: answer(`answer ${i}`), time: t0 + 10 * (i + 1) + 2 });
  });
  return chunks;
}

const messages = (objects: Obj[], conn?: number): string[] => objects.filter((o) => o.type === 'message' && (conn === undefined || o.conn === conn)).map((o) => `${o.from}: ${o.msg}`);

describe('captures from anywhere', () => {
  it('a capture of a plain connection: messages at packet times, statements, opened and closed ("FIN seen")', async () => {
    const c = await read(framesPcapng(tcpFrames([{ client, server, chunks: session(['SELECT 1', 'SELECT 2']) }])));
    assert.deepEqual(c.notes, []);
    assert.deepEqual(messages(c.objects), [
      'client: StartupMessage',
      'server: AuthenticationOk',
      'server: ReadyForQuery',
      ...['SELECT 1', 'SELECT 2'].flatMap(() => ['client: Query', 'server: RowDescription', 'server: DataRow', 'server: CommandComplete', 'server: ReadyForQuery']),
    ]);
    const q = c.objects.find((o) => o.msg === 'Query')!;
    assert.equal(q.ts, (T0 + 10) * 1000);
    assert.equal(q.time, new Date(T0 + 10).toISOString().replace('Z', '000Z'));
    const statements = c.objects.filter((o) => o.type === 'statement');
    assert.deepEqual(
      statements.map((s) => [s.sql, s.rows, s.tag, s.duration]),
      [
        ['SELECT 1', 1, 'SELECT 1', 2],
        ['SELECT 2', 1, 'SELECT 1', 2],
      ],
    );
    const facts = c.objects.filter((o) => o.type === 'connection');
    assert.deepEqual(facts[0], { v: 1, type: 'connection', conn: 1, time: new Date(T0).toISOString().replace('Z', '000Z'), ts: T0 * 1000, phase: 'opened', client: { address: '10.1.0.5', port: 41000 }, local: { address: '10.1.0.9', port: 5432 } });
    assert.equal(facts[1]!.phase, 'server-connected');
    assert.deepEqual([facts[1]!.host, facts[1]!.port], ['10.1.0.9', 5432]);
    const closed = facts.at(-1)!;
    assert.deepEqual([closed.phase, closed.reason, closed.bytesFromClient, closed.bytesFromServer], ['closed', 'FIN seen', startup.length + Q('SELECT 1').length * 2, ready.length + answer('answer 0').length * 2]);
    // Time order, the order of the capture.
    for (let i = 1; i < c.objects.length; i++) assert.ok(c.objects[i]!.ts >= c.objects[i - 1]!.ts);
  });

  it('connections numbered in order of their first packet; "capture ended" for one still open; IPv6', async () => {
    const v6c: End = { ip: 'fd00::5', port: 50001 };
    const v6s: End = { ip: 'fd00::9', port: 5432 };
    const c = await read(
      framesPcapng(
        tcpFrames([
          { client, server, chunks: session(['SELECT 1']) },
          { client: v6c, server: v6s, chunks: session(['SELECT 2'], T0 + 100), open: true },
        ]),
      ),
    );
    assert.deepEqual(
      c.objects.filter((o) => o.type === 'connection').map((o) => `${o.conn} ${o.phase}${o.reason ? ` ${o.reason}` : ''}`),
      ['1 opened', '1 server-connected', '1 closed FIN seen', '2 opened', '2 server-connected', '2 closed capture ended'],
    );
    assert.deepEqual(c.objects.find((o) => o.conn === 2 && o.phase === 'opened')!.client, { address: 'fd00::5', port: 50001 });
    assert.equal(c.objects.find((o) => o.conn === 2 && o.type === 'statement')!.sql, 'SELECT 2');
  });

  it('encryption pgscope cannot undo is said: bytes after an accepted SSLRequest that are not TLS records; GSSAPI encryption', async () => {
    // TLS decrypted with key logs: test/unit/capture/tls-decrypt.test.ts.
    const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    const gssencRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);
    const c = await read(
      framesPcapng(
        tcpFrames([
          {
            client,
            server,
            chunks: [
              { side: 'client', bytes: sslRequest, time: T0 },
              { side: 'server', bytes: Buffer.from('S'), time: T0 + 1 },
              { side: 'client', bytes: Buffer.alloc(40, 9), time: T0 + 2 },
            ],
          },
          {
            client: { ...client, port: 41001 },
            server,
            chunks: [
              { side: 'client', bytes: gssencRequest, time: T0 + 10 },
              { side: 'server', bytes: Buffer.from('G'), time: T0 + 11 },
              { side: 'client', bytes: Buffer.alloc(30, 5), time: T0 + 12 },
            ],
          },
        ]),
      ),
    );
    assert.deepEqual(c.notes, [
      'connection 1: bytes from the client that are not a TLS record (content type 9, length 2313)',
      'connection 2 is encrypted: GSS-encrypted after GSSENCRequest was accepted; pgscope cannot decrypt GSSAPI encryption, its messages cannot be read from this capture',
    ]);
    assert.deepEqual(messages(c.objects, 1), ['client: SSLRequest', 'server: SSLResponse']);
    assert.deepEqual(
      c.objects.filter((o) => o.type === 'unparsed').map((o) => [o.conn, o.from, o.length, o.reason]),
      [
        [1, 'client', 40, 'TLS-encrypted, not decrypted'],
        [2, 'client', 30, 'GSS-encrypted after GSSENCRequest was accepted'],
      ],
    );
  });

  it('bytes missing from the capture: said with their size and offset; decoding resumes at the next message boundary, statements at the next ReadyForQuery; no statement made up', async () => {
    const frames = tcpFrames([{ client, server, chunks: session(['SELECT 1', 'SELECT 2', 'SELECT 3']) }]);
    // Lose the second query's segment (the server acknowledges it all the same).
    const q2 = frames.findIndex((f) => f.frame.includes(Buffer.from('SELECT 2')));
    frames.splice(q2, 1);
    const c = await read(framesPcapng(frames));
    const lost = Q('SELECT 2').length;
    const at = Q('SELECT 1').length + 33; // after the StartupMessage (33 bytes) and the first Query
    // The server's second answer (to the query lost) ends with the ReadyForQuery where statements are followed again.
    const secondReady = ready.length + 2 * answer('answer 0').length - 6;
    const texts = [
      `connection 1: ${lost} bytes from the client are missing from the capture at offset ${at} (lost, or cut by its snap length); decoding resumes at the next message boundary found, statements at the next ReadyForQuery`,
      `connection 1: the client's messages are decoded again from offset ${at}`,
      `connection 1: statements are followed again from here (the server's ReadyForQuery at offset ${secondReady})`,
    ];
    assert.deepEqual(c.notes, texts);
    assert.deepEqual(
      c.objects.filter((o) => o.type === 'status').map((o) => [o.conn, o.level, o.text]),
      [
        [1, 'warn', texts[0]],
        [1, 'info', texts[1]],
        [1, 'info', texts[2]],
      ],
    );
    const fromClient = c.objects.filter((o) => o.conn === 1 && o.dir === 'frontend').map((o) => (o.type === 'message' ? `${o.msg} ${o.offset}` : `${o.type}: ${o.reason}`));
    assert.deepEqual(fromClient.slice(0, 3), ['StartupMessage 0', `Query 33`, `Query ${at}`], 'the third query is decoded, at the offset after the first (the lost bytes are not counted)');
    assert.equal(c.objects.filter((o) => o.type === 'message' && o.msg === 'DataRow').length, 3, 'the server’s side is still decoded');
    assert.deepEqual(
      c.objects.filter((o) => o.type === 'statement').map((o) => o.sql),
      ['SELECT 1', 'SELECT 3'],
      'the answer to the query lost is no statement; the next query is followed again',
    );
  });

  it('a capture that begins after the startup, inside a message: decoding starts at the first message boundary, with a note', async () => {
    const frames = tcpFrames([{ client, server, chunks: session(['SELECT 1', 'SELECT 2']) }]);
    // Drop the handshake and startup: start at the first query.
    const first = frames.findIndex((f) => f.frame.includes(Buffer.from('SELECT 1')));
    const c = await read(framesPcapng(frames.slice(first)));
    assert.deepEqual(c.notes, ['connection 1 began before the capture did: its startup is not in it']);
    assert.deepEqual(messages(c.objects).slice(0, 2), ['client: Query', 'server: RowDescription']);
    assert.deepEqual(
      c.objects.filter((o) => o.type === 'statement').map((o) => o.sql),
      ['SELECT 1', 'SELECT 2'],
    );
  });

  it('a capture that begins inside a message: the bytes before the next message are skipped and said, the rest decoded', async () => {
    const big = 'y'.repeat(40_000);
    const chunks: Chunk[] = [
      { side: 'client', bytes: startup, time: T0 },
      { side: 'server', bytes: ready, time: T0 + 1 },
      { side: 'client', bytes: Q('select big'), time: T0 + 2 },
      { side: 'server', bytes: answer(big), time: T0 + 3 },
      { side: 'client', bytes: Q('select 2'), time: T0 + 4 },
      { side: 'server', bytes: answer('two'), time: T0 + 5 },
    ];
    const frames = tcpFrames([{ client, server, chunks }]);
    // Start at the server's second segment of the big answer: inside its DataRow.
    const bigAnswer = frames.filter((f) => f.frame.includes(Buffer.from('yyyyyyyy')));
    const c = await read(framesPcapng(frames.slice(frames.indexOf(bigAnswer[1]!))));
    const skippedNote = c.notes.find((n) => n.startsWith("connection 1: the server's messages are decoded again from offset "));
    assert.ok(skippedNote, c.notes.join('\n'));
    assert.match(skippedNote, /\((\d+) bytes before it skipped\)$/);
    assert.deepEqual(messages(c.objects), ['server: CommandComplete', 'server: ReadyForQuery', 'client: Query', 'server: RowDescription', 'server: DataRow', 'server: CommandComplete', 'server: ReadyForQuery']);
    assert.ok(c.objects.some((o) => o.type === 'unparsed' && o.from === 'server'), 'the bytes skipped are shown undecoded');
  });

  it('what is not PostgreSQL is skipped: other ports, unless their first bytes are a startup packet; packets that are not TCP are counted', async () => {
    const web: End = { ip: '10.1.0.9', port: 8080 };
    const pgElsewhere: End = { ip: '10.1.0.9', port: 6000 };
    const frames: Frame[] = [
      ...tcpFrames([
        { client, server: web, chunks: [{ side: 'client', bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n'), time: T0 }, { side: 'server', bytes: Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), time: T0 + 1 }] },
        { client: { ...client, port: 41002 }, server: pgElsewhere, chunks: session(['SELECT 1'], T0 + 5) },
      ]),
    ];
    const udp = ipPacket(ethernet(client, server, { seq: 1, flags: PSH, payload: 'x' }));
    udp[9] = 17;
    const udpFrame = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]), udp]);
    frames.push({ time: T0 + 50, frame: udpFrame }, { time: T0 + 51, frame: udpFrame });
    const c = await read(framesPcapng(frames));
    assert.deepEqual(c.notes, [
      '1 TCP connection skipped as not PostgreSQL (10.1.0.5:41000 → 10.1.0.9:8080): neither end is on a server port (5432) and the client\'s first bytes are not a startup packet',
      '2 packets skipped: not TCP',
    ]);
    assert.deepEqual(
      [...new Set(c.objects.map((o) => o.conn))],
      [1],
    );
    assert.equal(c.objects.find((o) => o.phase === 'opened')!.local.port, 6000);
    // Given its port, a connection whose handshake is missing is read too.
    const midway = tcpFrames([{ client, server: pgElsewhere, chunks: session(['SELECT 9']) }]);
    const from = midway.findIndex((f) => f.frame.includes(Buffer.from('SELECT 9')));
    const given = await read(framesPcapng(midway.slice(from)), { redact: false, serverPorts: [6000] });
    assert.deepEqual(messages(given.objects, 1)[0], 'client: Query');
  });

  it('classic pcap, big-endian, nanoseconds, Linux cooked frames: the same objects as the pcapng', async () => {
    const frames = tcpFrames([{ client, server, chunks: session(['SELECT 1']) }]);
    const a = await read(framesPcapng(frames));
    const b = await read(pcap('be', 'nano', 113, frames.map((f) => ({ time: f.time, data: inLinkLayer(113, ipPacket(f.frame)) }))));
    assert.equal(b.format, 'pcap');
    assert.deepEqual(b.objects, a.objects);
  });

  it('pgscope’s comments: its connection numbers, real server and client port, close reasons and byte counts', async () => {
    const c = await read(
      framesPcapng(
        tcpFrames([
          {
            client: { ...client, port: 5433 },
            server,
            chunks: session(['SELECT 1']),
            synComment: 'pgscope connection #7: server [2001:db8::7]:6543 (shown as port 5432 so that Wireshark decodes PostgreSQL); client port 5432 shown as 5433 (5432 is the server\'s port in this file)',
            finComment: 'pgscope connection #7 closed: the client sent Terminate (120 bytes from the client, 340 from the server)',
          },
          { client, server, chunks: session([], T0 + 100), synComment: 'pgscope connection #7: server 10.0.0.1:5432 (…)', finComment: 'pgscope connection #7: still open when pgscope stopped writing this file' },
          { client: { ...client, port: 41003 }, server, chunks: [{ side: 'client', bytes: startup, time: T0 + 200 }], synComment: 'pgscope connection #9: no server (the connection ended before one was connected): shown at pgscope\'s own address 10.1.0.9:6432 (…)' },
        ]),
      ),
    );
    const facts = c.objects.filter((o) => o.type === 'connection').map(({ time: _t, ts: _ts, v: _v, type: _type, ...rest }) => rest);
    assert.deepEqual(facts, [
      { conn: 7, phase: 'opened', client: { address: '10.1.0.5', port: 5432 }, local: { address: '2001:db8::7', port: 6543 } },
      { conn: 7, phase: 'server-connected', host: '2001:db8::7', port: 6543, why: 'as pgscope recorded it in the capture', remote: { address: '2001:db8::7', port: 6543 }, local: { address: '10.1.0.5', port: 5433 } },
      { conn: 7, phase: 'closed', reason: 'the client sent Terminate', bytesFromClient: 120, bytesFromServer: 340 },
      // Number 7 is taken: the lowest free one.
      { conn: 1, phase: 'opened', client: { address: '10.1.0.5', port: 41000 }, local: { address: '10.0.0.1', port: 5432 } },
      { conn: 1, phase: 'server-connected', host: '10.0.0.1', port: 5432, why: 'as pgscope recorded it in the capture', remote: { address: '10.0.0.1', port: 5432 }, local: { address: '10.1.0.5', port: 41000 } },
      { conn: 1, phase: 'closed', reason: 'still open when pgscope stopped writing this file', bytesFromClient: startup.length, bytesFromServer: ready.length },
      { conn: 9, phase: 'opened', client: { address: '10.1.0.5', port: 41003 }, local: { address: '10.1.0.9', port: 5432 } },
      { conn: 9, phase: 'closed', reason: 'FIN seen', bytesFromClient: startup.length, bytesFromServer: 0 },
    ]);
  });

  it('where pgscope dropped blocks (its reader fell behind), a note with the frame', async () => {
    const frames = tcpFrames([{ client, server, chunks: session(['SELECT 1']) }]);
    frames.splice(5, 0, { time: T0 + 3, frame: Buffer.alloc(0), comment: 'pgscope: 4 blocks dropped here: the reader of this capture fell behind' });
    const c = await read(framesPcapng(frames));
    assert.deepEqual(c.notes, ['frame 6: pgscope: 4 blocks dropped here: the reader of this capture fell behind']);
  });
});

describe('JSON lines, and files that are not captures', () => {
  it('JSON lines come back as written (blank lines passed over, any chunking)', async () => {
    const lines: JsonlObject[] = [
      { v: 1, type: 'status', conn: null, time: '2026-11-21T01:12:44.693123Z', ts: 1795223564693123, level: 'info', text: 'héllo' },
      { v: 1, type: 'connection', conn: 1, time: '2026-11-21T01:12:44.693124Z', ts: 1795223564693124, phase: 'opened', client: { address: '::1', port: 1 }, local: { address: '::1', port: 2 } },
    ];
    const text = `${JSON.stringify(lines[0])}\n\n${JSON.stringify(lines[1])}\n`;
    const c = await read(text);
    assert.deepEqual(c, { format: 'jsonl', objects: lines, notes: [] });
    // Without a final newline, with a byte-order mark, and long enough to span read chunks.
    const many = Array.from({ length: 20_000 }, (_, i) => ({ ...lines[0]!, text: `line ${i} ${'x'.repeat(100)}` }));
    const big = await read('\ufeff' + many.map((o) => JSON.stringify(o)).join('\n'));
    assert.deepEqual(big.objects, many);
    assert.match((await read(text, { redact: true })).notes[0]!, /shown as they were written/);
  });

  async function rejectsWith(bytes: Buffer | string, expect: { offset: number; where: RegExp; expected: RegExp }): Promise<void> {
    const path = file(bytes);
    await assert.rejects(readCapture(path, { redact: false }), (e: unknown) => {
      assert.ok(e instanceof CaptureError, String(e));
      assert.equal(e.file, path);
      assert.equal(e.offset, expect.offset);
      assert.match(e.where, expect.where);
      assert.match(e.expected, expect.expected);
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      return true;
    });
  }

  it('a PNG, an empty file, a pcapng cut short, a line that is not JSON or not pgscope’s', async () => {
    await rejectsWith(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), { offset: 0, where: /^the start of the file$/, expected: /a pcapng file .* found 89504e470d0a1a0a$/ });
    await rejectsWith(Buffer.alloc(0), { offset: 0, where: /^the start of the file$/, expected: /the file is empty/ });
    const good = framesPcapng(tcpFrames([{ client, server, chunks: session(['SELECT 1']) }]));
    // Cut inside the 6th block (the 4th packet): named with the offset where that block starts.
    let at = 0;
    for (let i = 0; i < 5; i++) at += good.readUInt32LE(at + 4);
    await rejectsWith(good.subarray(0, at + 30), { offset: at, where: /^block 6$/, expected: /the file ends 30 bytes into it/ });
    const line1 = '{"v":1,"type":"status","conn":null,"time":"x","ts":0,"level":"info","text":"a"}\n';
    await rejectsWith(`${line1}{"v":1,"type":"status"\n`, { offset: line1.length, where: /^line 2$/, expected: /a JSON object as --jsonl writes them/ });
    await rejectsWith(`${line1}\n{"v":2,"type":"status"}\n`, { offset: line1.length + 1, where: /^line 3$/, expected: /"v": 1 and a "type"/ });
    await rejectsWith('[1, 2]\n', { offset: 0, where: /^the start of the file$/, expected: /JSON lines/ });
  });

  it('a file that is not there: the file system’s error', async () => {
    await assert.rejects(readCapture(join(dir, 'nothing-here'), { redact: false }), { code: 'ENOENT' });
  });
});

describe('a big capture', () => {
  it('100,000 messages in a few seconds, handed on one by one (forEachCaptureObject)', { timeout: 120_000 }, async () => {
    const chunks: Chunk[] = [
      { side: 'client', bytes: startup, time: T0 },
      { side: 'server', bytes: ready, time: T0 + 1 },
    ];
    const rounds = 20_000;
    for (let i = 0; i < rounds; i++) {
      chunks.push({ side: 'client', bytes: Q(`SELECT ${i}`), time: T0 + 2 + i * 0.1 });
      chunks.push({ side: 'server', bytes: answer(String(i)), time: T0 + 2.05 + i * 0.1 });
    }
    const path = file(framesPcapng(tcpFrames([{ client, server, chunks }])));
    const counts: Record<string, number> = {};
    const started = Date.now();
    const { format, notes } = await forEachCaptureObject(path, { redact: false }, (o) => {
      counts[o.type] = (counts[o.type] ?? 0) + 1;
    });
    const ms = Date.now() - started;
    assert.equal(format, 'pcapng');
    assert.deepEqual(notes, []);
    assert.deepEqual(counts, { connection: 3, message: 3 + rounds * 5, statement: rounds });
    // About 3 s on one core; generous for a loaded 2-core machine.
    assert.ok(ms < 60_000, `${ms} ms`);
  });
});
