/**
 * `pgscope read` over a real tcpdump capture of real TLS traffic, decrypted with real key
 * logs. One PostgreSQL 15 server with TLS; one pgscope in front of it (`--jsonl LIVE
 * --server-sslkeylogfile SERVER.keys --server-sslmode require`); tcpdump on lo capturing
 * both pgscope's port and the server's; and through pgscope:
 *   - psql (Debian's, with the bundled libpq 18 for `sslkeylogfile=`) over TLS 1.3: simple
 *     queries, one failing with 22012;
 *   - psql forced to TLS 1.2 (`ssl_max_protocol_version=TLSv1.2`), one failing query;
 *   - psql with `sslnegotiation=direct` (direct TLS on the client leg; pgscope negotiates
 *     with PostgreSQL 15 by SSLRequest: --server-sslnegotiation postgres);
 *   - node-postgres over TLS (its keys from node's --tls-keylog): parameters, a named
 *     prepared statement run twice, an error in the extended protocol;
 *   - psql in plaintext (cleartext password; the server leg is TLS all the same), with a
 *     200 kB row so that the capture has runs of back-to-back segments.
 * Each session is two TCP connections in the capture: the client leg (client ↔ pgscope)
 * and the server leg (pgscope ↔ server). Then:
 *   - `pgscope read CAP --keylog … --port P --port S --jsonl OUT --query-log QL` must give,
 *     for BOTH legs of every session, exactly the messages the live proxy logged (same
 *     order, names, fields, raw bytes; offsets aside), the same statements, and a query log
 *     with every statement and its latency;
 *   - tshark, given the same keys, lists the same message types, lengths and SQL text;
 *   - without keys (or with only the clients'): exit 0, what cannot be read is said to be
 *     encrypted, plaintext is still decoded;
 *   - damage made from the real capture: segments reordered and duplicated (output
 *     unchanged), a segment lost (the gap is noted with its size, decoding resumes at the
 *     next message), the capture starting in mid-connection (noted, decoded from there on);
 *   - standard input, a file that is not a capture, usage errors: exit 0, 1, 2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseQueryLog, waitAllEnded, waitUntil, type QueryLogEntry } from '../helpers/outputs-util.js';
import { libpq18Env, startPgServer, type PgServer } from '../helpers/pg-server.js';
import { PGSCOPE_BIN } from '../helpers/pgscope.js';
import { run, type RunResult } from '../helpers/proc.js';
import { inConnection, parsePcap, payloadOf, splitSegment, startTcpdump, TCP_FIN, TCP_RST, TCP_SYN, writePcap, type PcapFile, type PcapPacket, type Tcpdump, type TcpdumpStats } from '../helpers/tcpdump.js';
import { pgscopeFor } from '../helpers/traffic-util.js';

const T = { timeout: 180_000 };
/** `pgscope read` on a loaded 2-core machine. */
const READ_TIMEOUT_MS = 180_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

type Session = 'tls13' | 'tls12' | 'direct' | 'nodepg' | 'plain';
const SESSIONS: Session[] = ['tls13', 'tls12', 'direct', 'nodepg', 'plain'];
/** A statement only this session ran: it finds the session's connection in LIVE. */
const MARK: Record<Session, string> = {
  tls13: "select 'tls13' as a",
  tls12: "select 'tls12' as a",
  direct: "select 'direct' as a",
  nodepg: 'SELECT $1::int AS a, $2::text AS b',
  plain: "select 'plain-1' as a",
};
const BIG_SQL = "select repeat('x', 200000) as big";

let server: PgServer;
let dir: string;
const ports = { proxy: 0, server: 0 };
const f = {
  live: '',
  cap: '',
  clientKeys: '',
  nodeKeys: '',
  serverKeys: '',
  allKeys: '',
  out: '',
  ql: '',
};
let live: Obj[];
let capture: PcapFile;
/** The main read: every key, both ports. */
let main: { run: RunResult; objects: Obj[] };
/** Per session: LIVE's connection number, the client leg's client port, the server leg's client port (pgscope's end). */
const legs = {} as Record<Session, { liveConn: number; clientPort: number; serverLegPort: number; liveClientTls: Obj | undefined }>;

let tcpdump: Tcpdump | null = null;

// ---------------------------------------------------------------- helpers

const readJsonl = (path: string): Obj[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Obj);

/** `pgscope read ARGS…` to completion. */
function pgscopeRead(args: string[], input?: Buffer): Promise<RunResult> {
  return run(process.execPath, [PGSCOPE_BIN, 'read', ...args], { env: { ...process.env, NO_COLOR: '1' }, allowFailure: true, timeoutMs: READ_TIMEOUT_MS, ...(input ? { input } : {}) });
}

const keyArgs = (): string[] => ['--keylog', f.clientKeys, '--keylog', f.nodeKeys, '--keylog', f.serverKeys];
const portArgs = (): string[] => ['--port', String(ports.proxy), '--port', String(ports.server)];

/** Run read into a fresh JSON-lines file; the run must exit 0. */
async function readInto(name: string, capFile: string, args: string[]): Promise<{ run: RunResult; objects: Obj[]; path: string }> {
  const path = join(dir, `${name}.jsonl`);
  const r = await pgscopeRead([capFile, ...args, '--jsonl', path, '--bw']);
  assert.equal(r.code, 0, `pgscope read ${capFile} ${args.join(' ')}: exit ${r.code}\n--- stderr ---\n${r.stderr}\n--- stdout (end) ---\n${r.stdout.slice(-3000)}`);
  assert.ok(existsSync(path), `pgscope read wrote no ${path}\n${r.stderr}`);
  return { run: r, objects: readJsonl(path), path };
}

/** The connection number `read` gave the TCP connection whose client end is on this port. */
function connOfClientPort(objects: Obj[], port: number): number | undefined {
  return objects.find((o) => o.type === 'connection' && o.phase === 'opened' && o.client?.port === port)?.conn as number | undefined;
}

function mustConn(objects: Obj[], port: number, what: string): number {
  const c = connOfClientPort(objects, port);
  assert.ok(c !== undefined, `${what}: no connection opened from client port ${port} in the output; opened: ${JSON.stringify(objects.filter((o) => o.type === 'connection' && o.phase === 'opened').map((o) => [o.conn, o.client, o.local]))}`);
  return c;
}

const FORWARDED = new Set(['client -> server', 'server -> client']);

/** A PostgreSQL message both legs carry: not the SSLRequest and its one-byte answer (pgscope's own on the server leg), not TLS records. */
const isProtocolMessage = (o: Obj): boolean => o.type === 'message' && (o.kind === 'message' || (o.kind === 'startup' && o.msg !== 'SSLRequest' && o.msg !== 'GSSENCRequest'));

/** What the live proxy forwarded on connection `conn`. */
const liveMessages = (conn: number): Obj[] => live.filter((o) => o.conn === conn && FORWARDED.has(o.label) && isProtocolMessage(o));

const messagesOf = (objects: Obj[], conn: number, dir?: 'frontend' | 'backend'): Obj[] => objects.filter((o) => o.conn === conn && isProtocolMessage(o) && (dir === undefined || o.dir === dir));

/** A message as decoded, whatever its connection number, time and offset. */
function comparable(o: Obj): Obj {
  const { time: _t, ts: _ts, offset: _o, conn: _c, ...rest } = o;
  return rest;
}

/** A message without the typed values the statement analysis adds to columns and parameters (and their readings). */
function untyped(o: Obj): Obj {
  const strip = (fields: Obj[]): Obj[] =>
    fields.map((f) => {
      const { typed, meaning, children, ...rest } = f;
      return { ...rest, ...(typed === undefined && meaning !== undefined ? { meaning } : {}), ...(children ? { children: strip(children) } : {}) };
    });
  return Array.isArray(o.fields) ? { ...o, fields: strip(o.fields) } : o;
}

/** Any object without its timing (packets reordered carry other times). */
function untimed(o: Obj): Obj {
  const { time: _t, ts: _ts, start: _s, startTs: _st, duration: _d, untilReady: _u, ...rest } = o;
  return rest;
}

/** A status line with the capture's name taken out. */
function named(o: Obj, file: string): Obj {
  return o.type === 'status' && typeof o.text === 'string' ? { ...o, text: o.text.replaceAll(file, 'CAPTURE') } : o;
}

const statementKey = (o: Obj): unknown => ({ sql: o.sql, params: o.params, rows: o.rows, tag: o.tag, affected: o.affected, error: o.error && { code: o.error.code, message: o.error.message }, protocol: o.protocol, statement: o.statement });

/** µs since the epoch of a pcap record (tcpdump writes microsecond pcap). */
const packetMicros = (p: PcapPacket): number => p.tsSec * 1_000_000 + p.tsFrac;

/** Every TCP connection of the file has ended (FIN both ways, or a RST). */
function allClosed(file: string): boolean {
  let pc: PcapFile;
  try {
    pc = parsePcap(readFileSync(file));
  } catch {
    return false; // a record being written
  }
  const conns = new Map<string, { syn: boolean; fin: Set<string>; rst: boolean }>();
  for (const p of pc.packets) {
    const t = p.tcp;
    if (!t) continue;
    const a = `${t.src}:${t.srcPort}`;
    const b = `${t.dst}:${t.dstPort}`;
    const key = [a, b].sort().join(' ');
    const c = conns.get(key) ?? { syn: false, fin: new Set<string>(), rst: false };
    conns.set(key, c);
    if (t.flags & TCP_SYN) c.syn = true;
    if (t.flags & TCP_FIN) c.fin.add(a);
    if (t.flags & TCP_RST) c.rst = true;
  }
  return conns.size > 0 && [...conns.values()].every((c) => c.rst || c.fin.size === 2);
}

/** The packets of one TCP connection carrying data in one direction (from `fromPort`), in file order. */
function dataPackets(pc: PcapFile, portA: number, portB: number, fromPort: number): PcapPacket[] {
  return pc.packets.filter((p) => inConnection(p, portA, portB) && p.tcp!.srcPort === fromPort && p.tcp!.payloadLength > 0);
}

/** Index (in `list`) of the `n`-th (1-based) message named `msg`. */
function nthIndex(list: Obj[], msg: string, n: number): number {
  let seen = 0;
  for (const [i, o] of list.entries()) if (o.msg === msg && ++seen === n) return i;
  return -1;
}

/** The SQL of a Query ("query") or a Parse ("query string"). */
function sqlOf(o: Obj): string | undefined {
  const v = (o.fields as Obj[] | undefined)?.find((x) => x.name === 'query' || x.name === 'query string')?.value;
  return typeof v === 'string' ? v : v?.text;
}

// ---------------------------------------------------------------- the capture

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-capture-tls-read-'));
  f.live = join(dir, 'live.jsonl');
  f.cap = join(dir, 'cap.pcap');
  f.clientKeys = join(dir, 'client.keys');
  f.nodeKeys = join(dir, 'node.keys');
  f.serverKeys = join(dir, 'server.keys');
  f.allKeys = join(dir, 'all.keys');
  f.out = join(dir, 'out.jsonl');
  f.ql = join(dir, 'ql.txt');

  // The plaintext session authenticates with a cleartext password (user pgscope): a
  // SCRAM server behind a TLS server leg would offer SCRAM-SHA-256-PLUS, which libpq
  // refuses over a plaintext client leg.
  server = await startPgServer({ version: 15, ssl: true, hba: ['host all pgscope 127.0.0.1/32 password'] });
  ports.server = server.port;
  // --server-sslnegotiation postgres: PostgreSQL 15 has no direct TLS; the client leg does.
  const proxy = await pgscopeFor(server, ['--jsonl', f.live, '--server-sslkeylogfile', f.serverKeys, '--server-sslmode', 'require', '--server-sslnegotiation', 'postgres']);
  ports.proxy = proxy.port;
  try {
    tcpdump = await startTcpdump(f.cap, [ports.proxy, ports.server]);
    const env = libpq18Env();
    const TLS = { sslmode: 'require', channel_binding: 'disable', gssencmode: 'disable', sslkeylogfile: f.clientKeys };

    let r = await server.psqlRun(MARK.tls13, ['-v', 'ON_ERROR_STOP=0', '-c', 'select 1/0', '-c', 'select 2 as b'], { port: proxy.port, params: { ...TLS, application_name: 'tls13' }, env, allowFailure: true });
    assert.equal(r.stdout, 'tls13\n2\n', r.stderr);
    assert.match(r.stderr, /division by zero/);

    r = await server.psqlRun(MARK.tls12, ['-v', 'ON_ERROR_STOP=0', '-c', 'select 1/0', '-c', 'select 3 as c'], { port: proxy.port, params: { ...TLS, ssl_max_protocol_version: 'TLSv1.2', application_name: 'tls12' }, env, allowFailure: true });
    assert.equal(r.stdout, 'tls12\n3\n', r.stderr);
    assert.match(r.stderr, /division by zero/);

    r = await server.psqlRun(MARK.direct, ['-c', 'select 4 as d'], { port: proxy.port, params: { ...TLS, sslnegotiation: 'direct', application_name: 'direct' }, env });
    assert.equal(r.stdout, 'direct\n4\n', r.stderr);

    // node-postgres in a child process: node's --tls-keylog writes its key log.
    const script = `
      import pg from 'pg';
      const c = new pg.Client({ host: '127.0.0.1', port: ${proxy.port}, user: 'postgres', password: ${JSON.stringify(server.password)}, database: 'postgres', application_name: 'nodepg', ssl: { rejectUnauthorized: false } });
      await c.connect();
      const out = [];
      out.push((await c.query(${JSON.stringify(MARK.nodepg)}, [42, 'héllo'])).rows);
      for (const id of [1, 2]) out.push((await c.query({ name: 'twice', text: 'SELECT $1::int * 10 AS x', values: [id] })).rows);
      out.push(await c.query('SELECT 1 / $1::int', [0]).then(() => 'no error', (e) => e.code));
      // node-postgres rejects at the ErrorResponse; the server's ReadyForQuery follows in a
      // packet of its own. Hanging up now could beat it to pgscope, which then closes the
      // server leg without reading it (while tcpdump saw it arrive). One more statement
      // waits for it.
      out.push((await c.query('SELECT 2 AS after')).rows);
      await c.end();
      console.log(JSON.stringify(out));`;
    r = await run(process.execPath, [`--tls-keylog=${f.nodeKeys}`, '--no-warnings', '--input-type=module', '-e', script], { cwd: join(PGSCOPE_BIN, '..', '..'), timeoutMs: 60_000 });
    assert.equal(r.stdout.trim(), JSON.stringify([[{ a: 42, b: 'héllo' }], [{ x: 10 }], [{ x: 20 }], '22012', [{ after: 2 }]]), r.stderr);

    r = await server.psqlRun(MARK.plain, ['-c', "select 'plain-2' as a", '-c', BIG_SQL, '-c', "select 'plain-4' as a", '-c', "select 'plain-5' as a"], {
      port: proxy.port,
      user: server.user.name,
      params: { sslmode: 'disable', gssencmode: 'disable', application_name: 'plain' },
      env,
    });
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('plain-')).join(','), 'plain-1,plain-2,plain-4,plain-5', r.stderr);

    await waitAllEnded(proxy.output, SESSIONS.length, 60_000);
    // Every connection's last packets are in the file before tcpdump stops.
    await waitUntil(() => allClosed(f.cap), 30_000, `every TCP connection in ${f.cap} to end`);
  } finally {
    const td: Tcpdump | null = tcpdump;
    tcpdump = null;
    const stats: TcpdumpStats | null = td ? await td.stop() : null;
    await proxy.stop();
    if (stats) assert.equal(stats.droppedByKernel, 0, `tcpdump: ${JSON.stringify(stats)}`);
  }

  writeFileSync(f.allKeys, [f.clientKeys, f.nodeKeys, f.serverKeys].map((k) => readFileSync(k, 'utf8')).join(''));
  live = readJsonl(f.live);
  capture = parsePcap(readFileSync(f.cap));
  for (const s of SESSIONS) {
    const liveConn = live.find((o) => o.type === 'statement' && o.sql === MARK[s])?.conn as number | undefined;
    assert.ok(liveConn !== undefined, `no statement ${MARK[s]} in ${f.live}`);
    const opened = live.find((o) => o.conn === liveConn && o.type === 'connection' && o.phase === 'opened')!;
    const connected = live.find((o) => o.conn === liveConn && o.type === 'connection' && o.phase === 'server-connected')!;
    legs[s] = { liveConn, clientPort: opened.client.port, serverLegPort: connected.local.port, liveClientTls: live.find((o) => o.conn === liveConn && o.type === 'connection' && o.phase === 'client-tls') };
  }
  // The sessions are what they should be (else the comparisons below prove less).
  assert.equal(legs.tls13.liveClientTls?.tls.protocol, 'TLSv1.3');
  assert.equal(legs.tls12.liveClientTls?.tls.protocol, 'TLSv1.2');
  assert.equal(legs.direct.liveClientTls?.direct, true);
  assert.equal(legs.nodepg.liveClientTls?.tls.protocol, 'TLSv1.3');
  assert.equal(legs.plain.liveClientTls, undefined);

  const r = await pgscopeRead([f.cap, ...keyArgs(), ...portArgs(), '--jsonl', f.out, '--query-log', f.ql, '--bw']);
  assert.equal(r.code, 0, `pgscope read: exit ${r.code}\n--- stderr ---\n${r.stderr}\n--- stdout (end) ---\n${r.stdout.slice(-3000)}`);
  main = { run: r, objects: readJsonl(f.out) };
}, { timeout: 420_000 });

after(async () => {
  await tcpdump?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- with every key

describe('pgscope read CAP --keylog (client, node, server) --port P --port S', () => {
  for (const s of SESSIONS) {
    for (const leg of ['client', 'server'] as const) {
      it(`${s}, ${leg} leg: every message the live proxy forwarded, in order, the same fields and raw bytes; times within the capture`, T, () => {
        const port = leg === 'client' ? legs[s].clientPort : legs[s].serverLegPort;
        const conn = mustConn(main.objects, port, `${s} ${leg} leg`);
        assert.ok(liveMessages(legs[s].liveConn).length >= 20, `${s}: only ${liveMessages(legs[s].liveConn).length} messages in LIVE`);
        // Per direction: how the two directions interleave depends on when each packet
        // crossed this leg (node-postgres sends Terminate before the last ReadyForQuery
        // reaches it), not on what was sent.
        for (const d of ['frontend', 'backend'] as const) {
          const expected = liveMessages(legs[s].liveConn).filter((o) => o.dir === d);
          const got = messagesOf(main.objects, conn, d);
          assert.deepEqual(got.map(comparable), expected.map(comparable), `${s}, ${leg} leg, ${d}`);
          // Times: each message's packet, so within the capture and close to when pgscope saw it.
          const first = packetMicros(capture.packets[0]!);
          const last = packetMicros(capture.packets[capture.packets.length - 1]!);
          for (const [i, g] of got.entries()) {
            assert.ok(g.ts >= first && g.ts <= last, `${g.msg} #${i}: ts ${g.ts} outside the capture [${first}, ${last}]`);
            assert.ok(Math.abs(g.ts - expected[i]!.ts) < 5_000_000, `${g.msg} #${i}: ts ${g.ts}, live ${expected[i]!.ts}`);
          }
        }
        // The connection reached the server end of its leg.
        const opened = main.objects.find((o) => o.conn === conn && o.type === 'connection' && o.phase === 'opened')!;
        assert.equal(opened.local?.port, leg === 'client' ? ports.proxy : ports.server, JSON.stringify(opened));
      });
    }
  }

  it('the statements of LIVE, on both legs: sql, parameters, rows, tags, errors', T, () => {
    for (const s of SESSIONS) {
      const expected = live.filter((o) => o.type === 'statement' && o.conn === legs[s].liveConn).map(statementKey);
      assert.ok(expected.length >= 2, `${s}: ${expected.length} statements`);
      for (const port of [legs[s].clientPort, legs[s].serverLegPort]) {
        const conn = mustConn(main.objects, port, s);
        assert.deepEqual(main.objects.filter((o) => o.type === 'statement' && o.conn === conn).map(statementKey), expected, `${s}, port ${port}`);
      }
    }
    const errs = (s: Session): unknown[] => main.objects.filter((o) => o.type === 'statement' && o.conn === connOfClientPort(main.objects, legs[s].clientPort) && o.error).map((o) => [o.sql, o.error.code]);
    assert.deepEqual(errs('tls13'), [['select 1/0', '22012']]);
    assert.deepEqual(errs('tls12'), [['select 1/0', '22012']]);
    assert.deepEqual(errs('nodepg'), [['SELECT 1 / $1::int', '22012']]);
  });

  it('the query log: every statement of both legs with its latency, the errors with their SQLSTATE', T, () => {
    const lines: QueryLogEntry[] = parseQueryLog(readFileSync(f.ql, 'utf8'));
    for (const s of SESSIONS) {
      const expected = live.filter((o) => o.type === 'statement' && o.conn === legs[s].liveConn);
      for (const port of [legs[s].clientPort, legs[s].serverLegPort]) {
        const conn = mustConn(main.objects, port, s);
        const mine = lines.filter((l) => l.conn === conn);
        assert.deepEqual(
          mine.map((l) => l.sql),
          expected.map((o) => o.sql),
          `${s}, port ${port}: query-log lines\n${mine.map((l) => l.line).join('\n')}`,
        );
        for (const [i, l] of mine.entries()) {
          const e = expected[i]!;
          assert.ok(Number.isFinite(l.duration) && l.duration >= 0, l.line);
          assert.ok(l.ready !== null && l.ready >= l.duration, l.line);
          if (e.error) assert.match(l.outcome, new RegExp(`^ERROR ${e.error.code} `), l.line);
          else assert.ok(l.outcome.startsWith(e.tag), `${l.line}: expected ${e.tag}`);
        }
      }
    }
    const zero = lines.filter((l) => l.sql === 'select 1/0');
    assert.equal(zero.length, 4, 'select 1/0: TLS 1.3 and TLS 1.2, each on two legs');
    for (const l of zero) assert.match(l.outcome, /^ERROR 22012 division by zero$/, l.line);
  });

  it('nothing is said to be missing or undecodable; the connections are PostgreSQL ones only', T, () => {
    assert.doesNotMatch(main.run.stderr, /missing|lost|not decoded|cannot be read|encrypted/i, main.run.stderr);
    for (const o of main.objects) {
      assert.ok(o.type !== 'codec-error' && o.type !== 'unparsed', `unexpected ${JSON.stringify(o).slice(0, 400)}`);
      if (o.type === 'message') assert.equal(o.error, undefined, `${o.msg} has an error: ${JSON.stringify(o.error)}`);
    }
    const opened = main.objects.filter((o) => o.type === 'connection' && o.phase === 'opened');
    assert.equal(opened.length, SESSIONS.length * 2, JSON.stringify(opened.map((o) => [o.client, o.local])));
  });

  it('tshark, with the same keys, lists the same message types, lengths and SQL per connection and direction', T, () => {
    // tshark 4.0 has no way to hand direct TLS (ALPN "postgresql") to its PostgreSQL
    // dissector: the direct session's client leg is left out of this comparison.
    const streams = tsharkPgsql();
    const compared: string[] = [];
    for (const s of SESSIONS) {
      for (const leg of ['client', 'server'] as const) {
        if (s === 'direct' && leg === 'client') continue;
        const port = leg === 'client' ? legs[s].clientPort : legs[s].serverLegPort;
        const conn = mustConn(main.objects, port, `${s} ${leg} leg`);
        for (const d of ['frontend', 'backend'] as const) {
          const ours = messagesOf(main.objects, conn, d);
          const theirs = streams.get(`${port} ${d}`) ?? { types: [], queries: [] };
          const what = `${s}, ${leg} leg, ${d}`;
          assert.deepEqual(
            theirs.types,
            ours.map((o) => `${tsharkName(o.msg)} ${o.length}`),
            what,
          );
          assert.deepEqual(
            theirs.queries,
            ours.filter((o) => o.msg === 'Query' || o.msg === 'Parse').map(sqlOf),
            `${what}: SQL`,
          );
          compared.push(what);
        }
      }
    }
    assert.equal(compared.length, (SESSIONS.length * 2 - 1) * 2);
  });

  it('the annotated log (standard output) shows the decrypted queries and errors', T, () => {
    for (const s of SESSIONS) assert.ok(main.run.stdout.includes(MARK[s]), `${MARK[s]} not in the annotated log`);
    assert.match(main.run.stdout, /division by zero/);
  });

  it("the inspector opens it: pgscope report with the same keys holds every session's decrypted SQL; without them, none of the TLS ones", T, async () => {
    const page = join(dir, 'report.html');
    const r = await run(process.execPath, [PGSCOPE_BIN, 'report', f.cap, ...keyArgs(), ...portArgs(), '-o', page], { allowFailure: true, timeoutMs: READ_TIMEOUT_MS });
    assert.equal(r.code, 0, r.stderr);
    const html = readFileSync(page, 'utf8');
    for (const s of SESSIONS) assert.ok(html.includes(MARK[s]), `${MARK[s]} not in the report`);
    const bare = join(dir, 'report-bare.html');
    const b = await run(process.execPath, [PGSCOPE_BIN, 'report', f.cap, ...portArgs(), '-o', bare], { allowFailure: true, timeoutMs: READ_TIMEOUT_MS });
    assert.equal(b.code, 0, b.stderr);
    const bareHtml = readFileSync(bare, 'utf8');
    assert.ok(bareHtml.includes('plain-1'), 'the plaintext session is in it');
    for (const s of ['tls13', 'tls12', 'direct', 'nodepg'] as const) assert.ok(!bareHtml.includes(MARK[s]), `${MARK[s]}: a TLS session decoded without its keys`);
  });
});

// ---------------------------------------------------------------- without keys

describe('pgscope read without (all) the keys', () => {
  it('no --keylog: exit 0; the TLS connections are said to be encrypted, with their handshake; plaintext is decoded all the same', T, async () => {
    const r = await readInto('nokeys', f.cap, portArgs());
    const said = r.run.stdout + r.run.stderr;
    // Nothing of the TLS sessions' queries can be read.
    for (const s of ['tls13', 'tls12', 'direct', 'nodepg'] as const) {
      assert.ok(!r.objects.some((o) => o.type === 'message' && (o.msg === 'Query' || o.msg === 'Parse') && sqlOf(o) === MARK[s]), `${s}'s query decoded without keys`);
      assert.ok(!said.includes(MARK[s]), `${s}'s query shown without keys`);
    }
    // The plaintext client leg: everything.
    const conn = mustConn(r.objects, legs.plain.clientPort, 'plain client leg');
    const mainConn = mustConn(main.objects, legs.plain.clientPort, 'plain client leg');
    assert.deepEqual(messagesOf(r.objects, conn).map(comparable), messagesOf(main.objects, mainConn).map(comparable));
    assert.ok(messagesOf(r.objects, conn).length >= 20);
    // Standard error: the encrypted connections, with what their handshakes say.
    const notes = r.run.stderr.split('\n').filter((l) => l.startsWith(`pgscope: ${f.cap}: `));
    const encrypted = notes.filter((l) => /encrypted/i.test(l));
    assert.ok(encrypted.length >= 1, `no note on standard error of an encrypted connection:\n${r.run.stderr}`);
    assert.match(encrypted.join('\n'), /TLSv1\.3|TLS 1\.3/);
    assert.match(encrypted.join('\n'), /TLSv1\.2|TLS 1\.2/);
    assert.match(said, /TLS/);
  });

  it('only the clients\' key logs: the client legs are decrypted, the server legs are said to be encrypted', T, async () => {
    const r = await readInto('clientkeys', f.cap, ['--keylog', f.clientKeys, '--keylog', f.nodeKeys, ...portArgs()]);
    for (const s of ['tls13', 'tls12', 'direct', 'nodepg'] as const) {
      const c = mustConn(r.objects, legs[s].clientPort, `${s} client leg`);
      for (const d of ['frontend', 'backend'] as const) {
        assert.deepEqual(messagesOf(r.objects, c, d).map(comparable), liveMessages(legs[s].liveConn).filter((o) => o.dir === d).map(comparable), `${s} client leg, ${d}`);
      }
      const sc = connOfClientPort(r.objects, legs[s].serverLegPort);
      if (sc !== undefined) assert.ok(!messagesOf(r.objects, sc).some((o) => o.msg === 'Query' || o.msg === 'Parse'), `${s} server leg decoded without its keys`);
    }
    assert.match(r.run.stderr, /encrypted/i);
  });
});

// ---------------------------------------------------------------- damage

describe('pgscope read of a damaged copy of the capture', () => {
  it("a segment's halves captured in the wrong order and another segment duplicated: the same output, nothing said", T, async () => {
    // The swap: a data segment the server sent on the plaintext session's server leg (TLS),
    // part of the 200 kB row, cut in two and its halves captured in the wrong order (whether
    // two whole segments come back to back depends on when the proxy acknowledged them).
    const pk = capture.packets;
    const fromServer = (p: PcapPacket): boolean => inConnection(p, legs.plain.serverLegPort, ports.server) && p.tcp!.srcPort === ports.server;
    const at = pk.findIndex((p) => fromServer(p) && p.tcp!.payloadLength >= 100);
    assert.ok(at >= 0, "no server segment of 100 bytes or more on the plaintext session's server leg");
    const split = splitSegment(pk[at]!, Math.floor(pk[at]!.tcp!.payloadLength / 2));
    // The duplicate: a data segment from the TLS 1.3 client in the middle of its connection, sent again three packets later.
    const fromClient = dataPackets(capture, legs.tls13.clientPort, ports.proxy, legs.tls13.clientPort);
    assert.ok(fromClient.length >= 4, `${fromClient.length} data segments from the TLS 1.3 client`);
    const dup = fromClient[Math.floor(fromClient.length / 2)]!;
    const out: PcapPacket[] = [];
    for (let i = 0; i < pk.length; i++) {
      let p = pk[i]!;
      // The packets' data change places; the times stay in file order, as a capture's.
      if (i === at) {
        out.push({ ...split[1], tsSec: p.tsSec, tsFrac: p.tsFrac });
        p = { ...split[0], tsSec: p.tsSec, tsFrac: p.tsFrac };
      }
      out.push(p);
      if (i === dup.index + 3) out.push({ ...dup, tsSec: p.tsSec, tsFrac: p.tsFrac });
    }
    assert.equal(out.length, pk.length + 2);
    const file = join(dir, 'reordered.pcap');
    writeFileSync(file, writePcap(capture, out));
    const r = await readInto('reordered', file, [...keyArgs(), ...portArgs()]);
    assert.deepEqual(r.objects.map((o) => untimed(named(o, file))), main.objects.map((o) => untimed(named(o, f.cap))));
    assert.equal(r.run.stderr.replaceAll(file, 'CAPTURE'), main.run.stderr.replaceAll(f.cap, 'CAPTURE'));
  });

  /** The plaintext session's client leg, packets from pgscope to psql carrying data. */
  const plainToClient = (): PcapPacket[] => dataPackets(capture, legs.plain.clientPort, ports.proxy, ports.proxy);

  /** Read a copy of the capture without `drop`. */
  async function readWithout(name: string, drop: PcapPacket): Promise<{ run: RunResult; objects: Obj[]; conn: number; file: string }> {
    const file = join(dir, `${name}.pcap`);
    writeFileSync(file, writePcap(capture, capture.packets.filter((p) => p !== drop)));
    const r = await readInto(name, file, [...keyArgs(), ...portArgs()]);
    return { ...r, file, conn: mustConn(r.objects, legs.plain.clientPort, 'plain client leg') };
  }

  /** Standard error notes the gap: "pgscope: FILE: …", its size in bytes, and that they are missing. */
  function assertGapNoted(r: { run: RunResult; file: string }, drop: PcapPacket): void {
    const lost = drop.tcp!.payloadLength;
    const noted = r.run.stderr.split('\n').filter((l) => l.startsWith(`pgscope: ${r.file}: `) && new RegExp(`\\b${lost} bytes\\b`).test(l) && /missing|lost|gap/i.test(l));
    assert.ok(noted.length >= 1, `no note on standard error of the ${lost} bytes missing:\n${r.run.stderr}`);
  }

  it('a segment lost in the middle of a 200 kB row: the gap is noted with its size; what follows the row is decoded as before', T, async () => {
    const big = plainToClient().filter((p) => p.tcp!.payloadLength >= 4096);
    assert.ok(big.length >= 3, `the 200 kB row came in ${big.length} segments`);
    const drop = big[Math.floor(big.length / 2)]!;
    const r = await readWithout('lost-mid-row', drop);
    const mainConn = mustConn(main.objects, legs.plain.clientPort, 'plain client leg');
    // What the client sent is untouched.
    assert.deepEqual(messagesOf(r.objects, r.conn, 'frontend').map(comparable), messagesOf(main.objects, mainConn, 'frontend').map(comparable));
    // The server's messages after the row: the same.
    const before = messagesOf(main.objects, mainConn, 'backend');
    const row = before.findIndex((o) => o.msg === 'DataRow' && o.size > 200_000);
    assert.ok(row > 0);
    const tail = before.slice(row + 1);
    assert.equal(tail[0]?.msg, 'CommandComplete');
    const got = messagesOf(r.objects, r.conn, 'backend');
    // First as the codec decodes them, then the later statements are followed again, and
    // with them the columns' typed values.
    assert.deepEqual(got.slice(-tail.length).map((o) => untyped(comparable(o))), tail.map((o) => untyped(comparable(o))));
    const sqls = r.objects.filter((o) => o.type === 'statement' && o.conn === r.conn && !o.error).map((o) => [o.sql, o.tag]);
    assert.deepEqual(sqls.slice(-2), [
      ["select 'plain-4' as a", 'SELECT 1'],
      ["select 'plain-5' as a", 'SELECT 1'],
    ]);
    assert.deepEqual(got.slice(-tail.length).map(comparable), tail.map(comparable));
    assertGapNoted(r, drop);
  });

  it('the segment holding a whole answer lost: the gap is noted with its size; decoding resumes at the next message', T, async () => {
    const answer = plainToClient().find((p) => payloadOf(p).includes('plain-2'));
    assert.ok(answer, "no segment with the answer to select 'plain-2'");
    const r = await readWithout('lost-answer', answer);
    const mainConn = mustConn(main.objects, legs.plain.clientPort, 'plain client leg');
    const before = messagesOf(main.objects, mainConn, 'backend');
    // The answer to 'plain-2' ends with the 3rd ReadyForQuery (after the login and 'plain-1').
    const tail = before.slice(nthIndex(before, 'ReadyForQuery', 3) + 1);
    assert.equal(tail[0]?.msg, 'RowDescription');
    const got = messagesOf(r.objects, r.conn, 'backend');
    assert.deepEqual(got.slice(-tail.length).map((o) => untyped(comparable(o))), tail.map((o) => untyped(comparable(o))));
    assert.ok(!got.some((o) => o.msg === 'DataRow' && JSON.stringify(o.fields).includes('plain-2')), 'the lost answer was decoded');
    // Statements are followed again from the server's first ReadyForQuery after the loss: the
    // big query, already sent when the loss came to light, is not one; the next ones are.
    const sqls = r.objects.filter((o) => o.type === 'statement' && o.conn === r.conn && !o.error).map((o) => [o.sql, o.tag]);
    assert.deepEqual(sqls.slice(-2), [
      ["select 'plain-4' as a", 'SELECT 1'],
      ["select 'plain-5' as a", 'SELECT 1'],
    ]);
    assert.ok(!sqls.some(([sql]) => sql === "select 'plain-2' as a"), 'no statement made up for the query whose answer was lost');
    assert.match(r.run.stderr, /statements are followed again from here \(the server's ReadyForQuery at offset \d+\)/);
    assertGapNoted(r, answer);
  });

  it('the capture starting in mid-connection (the startup cut off), with --port: noted, and decoded from the first whole message', T, async () => {
    // Cut the file at the plaintext client's Query "select 'plain-2'": its startup, login and first query are gone.
    const fromClient = dataPackets(capture, legs.plain.clientPort, ports.proxy, legs.plain.clientPort);
    const cutAt = fromClient.find((p) => payloadOf(p).includes('plain-2'));
    assert.ok(cutAt, "no segment with the Query select 'plain-2'");
    const file = join(dir, 'cut.pcap');
    writeFileSync(file, writePcap(capture, capture.packets.slice(cutAt.index)));
    const r = await readInto('cut', file, [...keyArgs(), ...portArgs()]);
    const conn = mustConn(r.objects, legs.plain.clientPort, 'plain client leg');
    const mainConn = mustConn(main.objects, legs.plain.clientPort, 'plain client leg');
    // The client's messages from that Query on.
    const fe = messagesOf(main.objects, mainConn, 'frontend');
    const q = fe.findIndex((o) => o.msg === 'Query' && sqlOf(o) === "select 'plain-2' as a");
    assert.ok(q > 0);
    assert.deepEqual(messagesOf(r.objects, conn, 'frontend').map(comparable), fe.slice(q).map(comparable));
    // The server's, from its answer to it on (after the login's and 'plain-1''s ReadyForQuery).
    const be = messagesOf(main.objects, mainConn, 'backend');
    assert.deepEqual(messagesOf(r.objects, conn, 'backend').map(comparable), be.slice(nthIndex(be, 'ReadyForQuery', 2) + 1).map(comparable));
    assert.deepEqual(
      r.objects.filter((o) => o.type === 'statement' && o.conn === conn).map((o) => [o.sql, o.tag]),
      [
        ["select 'plain-2' as a", 'SELECT 1'],
        [BIG_SQL, 'SELECT 1'],
        ["select 'plain-4' as a", 'SELECT 1'],
        ["select 'plain-5' as a", 'SELECT 1'],
      ],
    );
    // A note says that the start is not in the capture.
    assert.ok(
      r.run.stderr.split('\n').some((l) => l.startsWith(`pgscope: ${file}: `) && /\b(start|began|begins|beginning)/i.test(l) && /missing|not in|before the capture|cut/i.test(l)),
      `no note that the connection's start is missing:\n${r.run.stderr}`,
    );
  });
});

// ---------------------------------------------------------------- input and exit codes

describe('pgscope read: standard input, not a capture, usage errors', () => {
  it('"-" reads the capture from standard input: the same output', T, async () => {
    const path = join(dir, 'stdin.jsonl');
    const r = await pgscopeRead(['-', ...keyArgs(), ...portArgs(), '--jsonl', path, '--bw'], readFileSync(f.cap));
    assert.equal(r.code, 0, r.stderr);
    const notStatus = (l: Obj[]): Obj[] => l.filter((o) => o.type !== 'status');
    assert.deepEqual(notStatus(readJsonl(path)), notStatus(main.objects));
  });

  it('a file that is not a capture: exit 1, and a line on standard error naming it', T, async () => {
    const png = join(dir, 'picture.png');
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex'));
    const r = await pgscopeRead([png, '--bw']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^pgscope: .*${png.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  });

  it('usage errors: exit 2', T, async () => {
    for (const args of [[f.cap, '--log-forwarded', 'bogus'], [f.cap, '--no-such-option'], []]) {
      const r = await pgscopeRead(args);
      assert.equal(r.code, 2, `pgscope read ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.notEqual(r.stderr.trim(), '', `pgscope read ${args.join(' ')}: nothing on standard error`);
    }
  });
});

// ---------------------------------------------------------------- tshark

/** Wireshark's names for the message types (pgsql.type). */
const TSHARK_TYPE: Record<string, string> = {
  StartupMessage: 'Startup message',
  SSLRequest: 'SSL request',
  PasswordMessage: 'Password message',
  SASLInitialResponse: 'SASLInitialResponse message',
  SASLResponse: 'SASLResponse message',
  Query: 'Simple query',
  Parse: 'Parse',
  Bind: 'Bind',
  Describe: 'Describe',
  Execute: 'Execute',
  Sync: 'Sync',
  Flush: 'Flush',
  Close: 'Close',
  Terminate: 'Termination',
  ParameterStatus: 'Parameter status',
  BackendKeyData: 'Backend key data',
  ReadyForQuery: 'Ready for query',
  RowDescription: 'Row description',
  DataRow: 'Data row',
  CommandComplete: 'Command completion',
  ErrorResponse: 'Error',
  NoticeResponse: 'Notice',
  ParseComplete: 'Parse completion',
  BindComplete: 'Bind completion',
  CloseComplete: 'Close completion',
  NoData: 'No data',
  ParameterDescription: 'Parameter description',
  EmptyQueryResponse: 'Empty query',
};

function tsharkName(msg: string): string {
  if (msg.startsWith('Authentication')) return 'Authentication request';
  const n = TSHARK_TYPE[msg];
  assert.ok(n, `the test has no Wireshark name for ${msg}`);
  return n;
}

/**
 * tshark's PostgreSQL messages in the capture, decrypted with every key, both ports
 * decoded as PostgreSQL: per "clientPort direction", the "type length" list (without SSL
 * requests: the TLS layer starts after them) and the SQL of Query and Parse, in order.
 */
function tsharkPgsql(): Map<string, { types: string[]; queries: string[] }> {
  const args = ['-r', f.cap, '-o', `tls.keylog_file:${f.allKeys}`, '-d', `tcp.port==${ports.proxy},pgsql`, '-d', `tcp.port==${ports.server},pgsql`, '-Y', 'pgsql', '-T', 'json', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'pgsql.type', '-e', 'pgsql.length', '-e', 'pgsql.query'];
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run tshark (install it: apt-get install tshark): ${r.error.message}`);
  assert.equal(r.status, 0, `tshark ${args.join(' ')} failed: ${r.stderr}`);
  const packets = r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as { _source: { layers: Record<string, string[]> } }[]).map((p) => p._source.layers);
  const out = new Map<string, { types: string[]; queries: string[] }>();
  const serverSide = new Set([ports.proxy, ports.server]);
  for (const p of packets) {
    const src = Number(p['tcp.srcport']?.[0]);
    const dst = Number(p['tcp.dstport']?.[0]);
    // The client leg's server end is pgscope's port, the server leg's the server's.
    const fromClient = serverSide.has(dst);
    const key = `${fromClient ? src : dst} ${fromClient ? 'frontend' : 'backend'}`;
    const e = out.get(key) ?? { types: [], queries: [] };
    out.set(key, e);
    const types = p['pgsql.type'] ?? [];
    const lengths = p['pgsql.length'] ?? [];
    assert.equal(types.length, lengths.length, JSON.stringify(p));
    for (const [i, t] of types.entries()) if (t !== 'SSL request') e.types.push(`${t} ${lengths[i]}`);
    e.queries.push(...(p['pgsql.query'] ?? []));
  }
  return out;
}
