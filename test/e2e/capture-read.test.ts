/**
 * readCapture over what a real pgscope wrote: one PostgreSQL 15 server, one pgscope with
 * `--jsonl F1 --pcap F2`, and through it
 *   - psql over TLS (the client leg: the pcapng holds the decrypted conversation), simple
 *     queries, one failing (42P01), one string of two statements;
 *   - node-postgres over TLS, the extended protocol: parameters, a named prepared
 *     statement run twice, an error in the extended protocol (22012);
 *   - psql in plaintext (no SSLRequest).
 * Then the pcapng read back must give the JSON lines' messages (the same connections,
 * order, senders, fields, raw bytes; offsets shifted by the SSLRequest and 'S' pgscope
 * answered itself; times no earlier, and within moments), statements (sql, parameters,
 * rows, tag, error) and closed facts. The JSON lines read back are the file's lines; a
 * non-capture (a PNG header) and a pcapng cut short fail with a CaptureError naming the
 * offset.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CaptureError } from '../../src/capture/capture-error.js';
import { readCapture } from '../../src/capture/read-capture.js';
import { waitAllEnded, type JsonObj } from '../helpers/outputs-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { pgscopeFor } from '../helpers/traffic-util.js';

const T = { timeout: 60_000 };
const TLS = { sslmode: 'require', channel_binding: 'disable', gssencmode: 'disable' };

type Obj = JsonObj & Record<string, any>;

let server: PgServer;
let dir: string;
const files = { jsonl: '', pcap: '' };
let live: Obj[];
let replayed: { format: string; objects: Obj[]; notes: string[] };
/** Connection numbers: psql over TLS, node-postgres over TLS, psql in plaintext. */
const conns = { psql: 0, pg: 0, plain: 0 };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-capture-read-'));
  files.jsonl = join(dir, 'trace.jsonl');
  files.pcap = join(dir, 'trace.pcapng');
  server = await startPgServer({ version: 15 });
  const proxy = await pgscopeFor(server, ['--jsonl', files.jsonl, '--pcap', files.pcap]);
  try {
    const r = await server.psqlRun('CREATE TABLE fruit (id int PRIMARY KEY, name text)', [
      '-v', 'ON_ERROR_STOP=0',
      '-c', "INSERT INTO fruit VALUES (1, 'apple'), (2, 'pear')",
      '-c', 'SELECT id, name FROM fruit ORDER BY id',
      '-c', 'SELECT * FROM no_such_table',
      '-c', "SELECT count(*) AS n FROM fruit; SELECT 'done' AS status",
    ], { port: proxy.port, params: TLS, allowFailure: true });
    assert.equal(r.stdout, '1|apple\n2|pear\n2\ndone\n', r.stderr);
    assert.match(r.stderr, /relation "no_such_table" does not exist/);

    const client = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'postgres', password: server.password, database: 'postgres', application_name: 'capture-read', ssl: { rejectUnauthorized: false } });
    await client.connect();
    try {
      const a = await client.query('SELECT $1::int AS a, $2::text AS b, $3::numeric AS c', [42, 'héllo', '1.50']);
      assert.deepEqual(a.rows, [{ a: 42, b: 'héllo', c: '1.50' }]);
      for (const id of [1, 2]) {
        const p = await client.query({ name: 'by_id', text: 'SELECT name FROM fruit WHERE id = $1', values: [id] });
        assert.equal(p.rows.length, 1);
      }
      await assert.rejects(client.query('SELECT 1 / $1::int', [0]), /division by zero/);
      await client.query('INSERT INTO fruit VALUES ($1, $2)', [3, null]);
    } finally {
      await client.end();
    }

    await server.psql('SELECT 1 AS plain', [], { port: proxy.port, params: { sslmode: 'disable' } });
    await waitAllEnded(proxy.output, 3);
  } finally {
    await proxy.stop();
  }
  live = readFileSync(files.jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Obj);
  replayed = (await readCapture(files.pcap, { redact: false })) as unknown as typeof replayed;
  const connOf = (re: RegExp): number => live.find((o) => o.type === 'statement' && re.test(String(o.sql)))!.conn!;
  conns.psql = connOf(/^CREATE TABLE fruit/);
  conns.pg = connOf(/^SELECT \$1::int AS a/);
  conns.plain = connOf(/^SELECT 1 AS plain/);
}, { timeout: 180_000 });

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const FORWARDED = new Set(['client -> server', 'server -> client']);
const ofConn = (l: Obj[], conn: number, type: string): Obj[] => l.filter((o) => o.conn === conn && o.type === type);

/** What a message is, whatever its time and offset. */
function comparable(o: Obj): Obj {
  const { time: _t, ts: _ts, offset: _o, ...rest } = o;
  return rest as Obj;
}

describe('readCapture of the pcapng a real pgscope wrote', () => {
  it('reads it as pcapng, with nothing to note, and the same connections', T, () => {
    assert.equal(replayed.format, 'pcapng');
    assert.deepEqual(replayed.notes, []);
    assert.deepEqual(
      [...new Set(replayed.objects.map((o) => o.conn))].sort(),
      [conns.psql, conns.pg, conns.plain].sort(),
    );
  });

  for (const which of ['psql', 'pg', 'plain'] as const) {
    it(`${which}: the messages of --jsonl, in order, with the same fields and raw bytes; offsets shifted by what pgscope answered itself; times a moment later at most`, T, () => {
      const conn = conns[which];
      const expected = ofConn(live, conn, 'message').filter((o) => FORWARDED.has(o.label));
      const got = ofConn(replayed.objects, conn, 'message');
      assert.ok(expected.length > (which === 'plain' ? 10 : 25), `${expected.length} messages`);
      assert.deepEqual(got.map(comparable), expected.map(comparable));
      // What pgscope said to the client itself, or took from it (not pgscope's own exchange with the server).
      const own = ofConn(live, conn, 'message').filter((o) => o.label === 'client -> script' || o.label === 'script -> client');
      assert.deepEqual(
        own.map((o) => `${o.label}: ${o.msg}`),
        which === 'plain' ? [] : ['client -> script: SSLRequest', 'script -> client: SSLResponse'],
      );
      for (const [i, g] of got.entries()) {
        const e = expected[i]!;
        const shift = own.filter((o) => o.dir === g.dir).reduce((n, o) => n + (o.size as number), 0);
        assert.equal(e.offset - g.offset, shift, `${g.msg} at ${e.offset}`);
        // The packet's time is when pgscope wrote the bytes, right after decoding them; µs in the file.
        assert.ok(g.ts >= e.ts && g.ts - e.ts < 2_000_000, `${g.msg}: ${g.ts} vs ${e.ts}`);
        assert.equal(g.time, new Date(Math.floor(g.ts / 1000)).toISOString().replace('Z', `${String(g.ts % 1000).padStart(3, '0')}Z`));
      }
    });
  }

  it('the statements of --jsonl: sql, parameters, rows, tags, errors', T, () => {
    const key = (o: Obj): unknown => ({ conn: o.conn, sql: o.sql, params: o.params, rows: o.rows, tag: o.tag, affected: o.affected, error: o.error && { code: o.error.code, message: o.error.message }, protocol: o.protocol, statement: o.statement });
    const expected = live.filter((o) => o.type === 'statement').map(key);
    assert.deepEqual(replayed.objects.filter((o) => o.type === 'statement').map(key), expected);
    const byConn = (c: number): Obj[] => ofConn(replayed.objects, c, 'statement');
    assert.deepEqual(
      byConn(conns.psql).map((s) => [s.sql, s.tag, s.error?.code ?? null]),
      [
        ['CREATE TABLE fruit (id int PRIMARY KEY, name text)', 'CREATE TABLE', null],
        ["INSERT INTO fruit VALUES (1, 'apple'), (2, 'pear')", 'INSERT 0 2', null],
        ['SELECT id, name FROM fruit ORDER BY id', 'SELECT 2', null],
        ['SELECT * FROM no_such_table', null, '42P01'],
        ['SELECT count(*) AS n FROM fruit', 'SELECT 1', null],
        ["SELECT 'done' AS status", 'SELECT 1', null],
      ],
    );
    const ext = byConn(conns.pg);
    const first = ext.find((s) => s.sql.startsWith('SELECT $1::int AS a'))!;
    assert.deepEqual(
      first.params.map((p: Obj) => p.value),
      ['42', 'héllo', '1.50'],
    );
    assert.deepEqual(
      ext.filter((s) => s.statement === 'by_id').map((s) => [s.rows, s.params[0].value]),
      [
        [1, '1'],
        [1, '2'],
      ],
    );
    assert.equal(ext.find((s) => s.sql === 'SELECT 1 / $1::int')!.error.code, '22012');
    // Durations come from the packets' times: close to the live ones.
    const liveFirst = live.find((o) => o.type === 'statement' && o.sql === first.sql)!;
    assert.ok(Math.abs(first.duration - liveFirst.duration) < 1000, `${first.duration} vs ${liveFirst.duration}`);
  });

  it('opened at the client’s address, the real server, and closed with the reason and byte counts pgscope counted', T, () => {
    for (const conn of Object.values(conns)) {
      const facts = ofConn(replayed.objects, conn, 'connection');
      assert.deepEqual(
        facts.map((o) => o.phase),
        ['opened', 'server-connected', 'closed'],
      );
      const opened = ofConn(live, conn, 'connection').find((o) => o.phase === 'opened')!;
      assert.deepEqual(facts[0]!.client, opened.client);
      assert.deepEqual([facts[1]!.host, facts[1]!.port], ['127.0.0.1', server.port]);
      const { v: _v, time: _t, ts: _ts, ...closed } = facts[2]!;
      const { v: _v2, time: _t2, ts: _ts2, ...liveClosed } = ofConn(live, conn, 'connection').find((o) => o.phase === 'closed')!;
      assert.deepEqual(closed, liveClosed);
    }
  });
});

describe('readCapture of other files', () => {
  it('JSON lines: the lines of the file, as they are', T, async () => {
    const c = await readCapture(files.jsonl, { redact: false });
    assert.equal(c.format, 'jsonl');
    assert.deepEqual(c.notes, []);
    assert.deepEqual(c.objects, live);
  });

  it('a PNG, and the pcapng cut short: a CaptureError naming the file, where and the offset', T, async () => {
    const png = join(dir, 'picture.png');
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex'));
    await assert.rejects(readCapture(png, { redact: false }), (e: unknown) => {
      assert.ok(e instanceof CaptureError);
      assert.equal(e.message, `${png}: the start of the file at byte 0: expected a pcapng file (0a0d0d0a), a pcap file (a1b2c3d4 or a1b23c4d, either byte order) or JSON lines ("{"), found 89504e470d0a1a0a`);
      return true;
    });
    const whole = readFileSync(files.pcap);
    // Cut in the middle of the 100th block.
    let at = 0;
    for (let i = 0; i < 99; i++) at += whole.readUInt32LE(at + 4);
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, whole.subarray(0, at + 20));
    await assert.rejects(readCapture(cut, { redact: false }), (e: unknown) => {
      assert.ok(e instanceof CaptureError);
      assert.equal(e.offset, at);
      assert.equal(e.where, 'block 100');
      assert.match(e.message, new RegExp(`^${cut}: block 100 at byte ${at}: expected a whole block of \\d+ bytes: the file ends 20 bytes into it`));
      return true;
    });
  });
});
