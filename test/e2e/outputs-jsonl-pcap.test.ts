/**
 * JSON lines (--jsonl), decrypted pcapng (--pcap) and all outputs at once, end to end.
 *
 * One PostgreSQL 15 server with TLS on a random port (never 5432), one pgscope with every
 * output on (`--log-forwarded annotated --jsonl F1 --pcap F2 --query-log F3 --summary`),
 * and, through it, over TLS on both legs:
 *   - a psql session (SNI "localhost"): CREATE TABLE, COPY FROM STDIN, a SELECT, an error
 *     (42P01), a multi-statement query string;
 *   - pgbench -M simple -t 20, then pgbench -M prepared -t 20 (tables made directly).
 * pgscope is then stopped (SIGTERM) and each test checks one output, or how they agree:
 * every JSON line against the schema, connection facts, per-direction offsets, typed
 * DataRow values, statement records = query-log lines; tshark decoding the pcapng (all on
 * port 5432, the real port in the SYN comment, pgbench's statements counted); the summary
 * printed last and agreeing with both. Last, `--jsonl -` (JSON on stdout, text log on stderr).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { oneLine } from '../../src/output/query-log/format-line.js';
import { checkJsonlLines } from '../helpers/jsonl-check.js';
import { parseQueryLog, pgbench, pgbenchTransactions, startPgscopeStderrLog, waitAllEnded, waitUntil, type JsonObj, type QueryLogEntry } from '../helpers/outputs-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { assertCleanLog, connLines, pgscopeFor } from '../helpers/traffic-util.js';
import { tsharkFields, type Fields } from '../unit/pcapng/tshark.js';

const T = { timeout: 60_000 };
/** The client leg: TLS to pgscope, no channel binding (a man in the middle cannot pass it). */
const TLS_ENV = { PGSSLMODE: 'require', PGCHANNELBINDING: 'disable', PGGSSENCMODE: 'disable' };

const COPY_IN = '1\tapple\t1.25\n2\tpear\t2.50\n3\tfig\t0.75\n';
const PSQL_COMMANDS = [
  'CREATE TABLE fruit (id int PRIMARY KEY, name text, price numeric(6,2))',
  'COPY fruit FROM STDIN',
  'SELECT id, name, price, price > 1 AS dear FROM fruit ORDER BY id',
  'SELECT * FROM no_such_table',
  "SELECT count(*) AS n FROM fruit; SELECT 'done' AS status",
  "SELECT repeat('x', 5000) AS big",
];
const PGBENCH_TX = 20;

let server: PgServer;
let dir: string;
const files = { jsonl: '', pcap: '', queryLog: '' };
let exitCode: number | null;
let stdout: string;
let jsonl: JsonObj[];
let queryLog: QueryLogEntry[];
/** The psql session's connection number. */
let psqlConn: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-outputs-jp-'));
  files.jsonl = join(dir, 'trace.jsonl');
  files.pcap = join(dir, 'trace.pcapng');
  files.queryLog = join(dir, 'query.log');
  server = await startPgServer({ version: 15, ssl: true });
  assert.notEqual(server.port, 5432);
  const [, proxy] = await Promise.all([
    pgbench(server, server.port, ['-i', '-s', '1', '-q', '-I', 'dtgp']),
    pgscopeFor(server, ['--log-forwarded', 'annotated', '--jsonl', files.jsonl, '--pcap', files.pcap, '--query-log', files.queryLog, '--summary']),
  ]);
  try {
    const r = await server.psqlRun(PSQL_COMMANDS[0]!, ['-v', 'ON_ERROR_STOP=0', ...PSQL_COMMANDS.slice(1).flatMap((c) => ['-c', c])], {
      port: proxy.port,
      // SNI: libpq sends the host name (not an address): localhost, reached at 127.0.0.1.
      params: { host: 'localhost', hostaddr: '127.0.0.1', sslmode: 'require', channel_binding: 'disable', gssencmode: 'disable' },
      input: COPY_IN,
      allowFailure: true,
      env: { PGCONNECT_TIMEOUT: '60' },
    });
    assert.equal(r.stdout, `1|apple|1.25|t\n2|pear|2.50|t\n3|fig|0.75|f\n3\ndone\n${'x'.repeat(5000)}\n`, `psql:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /relation "no_such_table" does not exist/);
    for (const mode of ['simple', 'prepared']) {
      const b = await pgbench(server, proxy.port, ['-n', '-M', mode, '-t', String(PGBENCH_TX), '-c', '1'], TLS_ENV);
      assert.equal(pgbenchTransactions(b), PGBENCH_TX);
    }
    // psql (1) + pgbench ×2 (a set-up connection and a client each).
    await waitAllEnded(proxy.output, 5);
  } finally {
    exitCode = await proxy.stop();
  }
  stdout = proxy.output();
  jsonl = checkJsonlLines(readFileSync(files.jsonl, 'utf8')) as JsonObj[];
  queryLog = parseQueryLog(readFileSync(files.queryLog, 'utf8'));
  const create = jsonl.find((o) => o.type === 'statement' && String(o.sql).startsWith('CREATE TABLE fruit'));
  assert.ok(create, 'a statement record for CREATE TABLE fruit');
  psqlConn = create.conn!;
}, { timeout: 120_000 });

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ofConn = (conn: number, type: string): JsonObj[] => jsonl.filter((o) => o.conn === conn && o.type === type);
type Field = { name: string; value?: unknown; typed?: { type: string; value: unknown; text: string }; children?: Field[] };

/** 2026-11-21T01:12:44.693123Z → integer microseconds since the epoch. */
function isoToMicros(iso: string): number {
  return Date.parse(iso.slice(0, 23) + 'Z') * 1000 + Number(iso.slice(23, 26));
}

describe('--jsonl', () => {
  it('every line is valid schema v1 JSON; connection lines carry both addresses, TLS on both legs, SNI and how the server was chosen', T, () => {
    assert.ok(jsonl.length > 100, `${jsonl.length} lines`);
    const conns = ofConn(psqlConn, 'connection');
    assert.deepEqual(
      conns.map((c) => c.phase),
      ['opened', 'client-tls', 'server-connected', 'server-tls', 'closed'],
    );
    const [opened, clientTls, connected, serverTls, closed] = conns as Record<string, any>[];
    assert.equal(opened!.client.address, '127.0.0.1');
    assert.ok(opened!.client.port > 0);
    assert.equal(opened!.local.address, '127.0.0.1');
    assert.match(clientTls!.tls.protocol, /^TLSv1\.[23]$/);
    assert.match(clientTls!.tls.cipher, /^TLS_|ECDHE/);
    assert.equal(clientTls!.tls.sni, 'localhost');
    assert.equal(clientTls!.direct, false);
    assert.equal(connected!.host, '127.0.0.1');
    assert.equal(connected!.port, server.port);
    assert.match(connected!.why, /--server-host/);
    assert.deepEqual(connected!.remote, { address: '127.0.0.1', port: server.port });
    assert.ok(connected!.local.port > 0);
    assert.match(serverTls!.tls.protocol, /^TLSv1\.[23]$/);
    assert.ok(serverTls!.tls.cipher);
    // psql sends Terminate and closes at once, and the server closes on Terminate: which end
    // pgscope reads first is a race (both are right), after the client's Terminate.
    assert.match(closed!.reason, /^(client|server) hung up$/);
    assert.ok(jsonl.some((o) => o.type === 'message' && o.conn === psqlConn && o.msg === 'Terminate'), "the client's Terminate");
    // The pgbench connections were opened by pgbench over TLS too, without SNI (host is an address).
    const others = jsonl.filter((o) => o.type === 'connection' && o.phase === 'client-tls' && o.conn !== psqlConn) as Record<string, any>[];
    assert.equal(others.length, 4);
    assert.ok(others.every((o) => o.tls.sni === null && /^TLSv1\.[23]$/.test(o.tls.protocol)));
    // The security verdict: a self-signed certificate that psql did not verify.
    const sec = ofConn(psqlConn, 'security') as Record<string, any>[];
    assert.equal(sec.length, 1);
    assert.equal(sec[0]!.tls, 'self-signed');
    assert.equal(sec[0]!.exposure, 'exposed');
    assert.equal(sec[0]!.clientAuth, 'SCRAM-SHA-256');
  });

  it('messages: µs timestamps in order; per sender, offsets start at 0 and each message starts where the previous ended, up to the byte counts of the closed line', T, () => {
    const msgs = ofConn(psqlConn, 'message') as Record<string, any>[];
    assert.ok(msgs.length > 30);
    // Real microseconds, not milliseconds padded with zeros.
    assert.ok(msgs.some((m) => m.ts % 1000 !== 0), 'some timestamps have sub-millisecond digits');
    for (let i = 1; i < msgs.length; i++) assert.ok(msgs[i]!.ts >= msgs[i - 1]!.ts, `time goes back at message ${i}: ${msgs[i]!.msg}`);
    const closed = ofConn(psqlConn, 'connection').find((c) => c.phase === 'closed') as Record<string, any>;
    for (const [from, total] of [
      ['client', closed.bytesFromClient],
      ['server', closed.bytesFromServer],
    ] as const) {
      const stream = msgs.filter((m) => m.from === from);
      let at = 0;
      for (const m of stream) {
        assert.equal(m.offset, at, `${from} message ${m.msg} (${m.label}) at offset ${m.offset}, expected ${at}`);
        if (m.kind === 'message') assert.equal(m.size, m.length + 1, `${m.msg}: size = length + 1`);
        at += m.size;
      }
      assert.equal(at, total, `the ${from}'s messages add up to bytesFrom${from === 'client' ? 'Client' : 'Server'}`);
    }
    // The forwarded ones, as the brief puts it: "client -> server" is one contiguous run after the SSLRequest.
    const c2s = msgs.filter((m) => m.label === 'client -> server');
    assert.equal(c2s[0]!.offset, 8, 'the StartupMessage follows the 8-byte SSLRequest');
    for (let i = 1; i < c2s.length; i++) assert.equal(c2s[i]!.offset, c2s[i - 1]!.offset + c2s[i - 1]!.size);
    // COPY FROM STDIN: the server's CopyInResponse, the client's CopyData with the rows, CopyDone.
    assert.ok(msgs.some((m) => m.msg === 'CopyInResponse' && m.from === 'server'));
    const copyData = msgs.filter((m) => m.msg === 'CopyData' && m.from === 'client');
    assert.ok(copyData.length >= 1);
    assert.ok(copyData.some((m) => JSON.stringify(m.fields).includes('apple')));
    assert.ok(msgs.some((m) => m.msg === 'CopyDone' && m.from === 'client'));
    assert.ok(msgs.some((m) => m.msg === 'ErrorResponse' && JSON.stringify(m.fields).includes('42P01')));
  });

  it('DataRow fields carry typed values (int4, text, numeric, bool) read through the RowDescription', T, () => {
    const rows = ofConn(psqlConn, 'message').filter((m) => m.msg === 'DataRow') as Record<string, any>[];
    const typed = rows.map((r) => (r.fields as Field[]).filter((f) => f.name === 'column').map((c) => c.children!.find((x) => x.name === 'value')?.typed ?? null));
    const fruit = typed.filter((t) => t.length === 4);
    assert.deepEqual(
      fruit.map((t) => t.map((x) => [x!.type, x!.text])),
      [
        [
          ['int4', '1'],
          ['text', 'apple'],
          ['numeric', '1.25'],
          ['bool', 't'],
        ],
        [
          ['int4', '2'],
          ['text', 'pear'],
          ['numeric', '2.50'],
          ['bool', 't'],
        ],
        [
          ['int4', '3'],
          ['text', 'fig'],
          ['numeric', '0.75'],
          ['bool', 'f'],
        ],
      ],
    );
    assert.equal(fruit[0]![0]!.value, 1);
    assert.equal(fruit[2]![3]!.value, false);
    // count(*) is int8: a JSON-safe decimal string or number, and its text "3".
    assert.ok(typed.some((t) => t.length === 1 && t[0]!.type === 'int8' && t[0]!.text === '3'));
    // A 5000-byte value: raw hex cut at the sink's limit (1024 bytes), the value cut and marked, the typed text bounded.
    const big = rows.find((r) => r.size > 5000)!;
    assert.ok(big, 'the DataRow of repeat(\'x\', 5000)');
    assert.equal(big.rawTruncated, true);
    assert.equal(big.raw.length, 2 * 1024);
    assert.equal(big.raw.slice(0, 10), '44' + (big.size - 1).toString(16).padStart(8, '0'));
    const value = (big.fields as Field[]).find((f) => f.name === 'column')!.children!.find((x) => x.name === 'value')!;
    assert.deepEqual([(value.value as Record<string, unknown>).length, (value.value as Record<string, unknown>).truncated], [5000, true]);
  });

  it('statement records: the psql session\'s seven statements, and one record per query-log line, member for member', T, () => {
    const records = jsonl.filter((o) => o.type === 'statement') as Record<string, any>[];
    const mine = records.filter((r) => r.conn === psqlConn);
    assert.deepEqual(
      mine.map((r) => [r.protocol, r.sql, r.tag, r.rows, r.error?.code ?? null]),
      [
        ['simple', PSQL_COMMANDS[0], 'CREATE TABLE', null, null],
        ['simple', PSQL_COMMANDS[1], 'COPY 3', null, null],
        ['simple', PSQL_COMMANDS[2], 'SELECT 3', 3, null],
        ['simple', PSQL_COMMANDS[3], null, null, '42P01'],
        ['simple', 'SELECT count(*) AS n FROM fruit', 'SELECT 1', 1, null],
        ['simple', "SELECT 'done' AS status", 'SELECT 1', 1, null],
        ['simple', PSQL_COMMANDS[5], 'SELECT 1', 1, null],
      ],
    );
    assert.equal(records.length, queryLog.length, 'as many statement records as query-log lines');
    records.forEach((r, i) => {
      const q = queryLog[i]!;
      const what = `record ${i}: ${JSON.stringify(r)}\nquery log: ${q.line}`;
      assert.equal(r.conn, q.conn, what);
      assert.equal(r.startTs, isoToMicros(q.start), what);
      assert.equal(r.protocol, q.protocol, what);
      assert.equal(r.duration.toFixed(3), q.duration.toFixed(3), what);
      assert.equal(r.untilReady.toFixed(3), q.ready!.toFixed(3), what);
      // > 0, except the second statement of a query string, which starts when the first ends (both answers can come in one read).
      assert.ok((r.sql === "SELECT 'done' AS status" ? r.duration >= 0 : r.duration > 0) && r.untilReady >= r.duration, what);
      assert.equal(oneLine(r.sql), q.sql, what);
      const outcome = r.error ? `${r.error.severity} ${r.error.code} ${r.error.message}` : `${r.tag}${r.rows === null ? '' : ` rows=${r.rows}`}`;
      assert.equal(outcome, q.outcome, what);
      const params = r.params.length ? r.params.map((p: any, k: number) => `$${k + 1}=${p.value === null ? 'NULL' : p.type ? `${p.type} ${p.value}` : `"${p.value}"`}`).join(', ') : null;
      assert.equal(params, q.params, what);
    });
  });

  it(
    'statement records and query-log lines print the same start time, to the microsecond',
    T,
    () => {
      const records = jsonl.filter((o) => o.type === 'statement') as Record<string, any>[];
      const differ = records.map((r, i) => [r.start, queryLog[i]!.start]).filter(([a, b]) => a !== b);
      assert.deepEqual(differ, [], `${differ.length} of ${records.length} start times differ`);
    },
  );
});

describe('--pcap', () => {
  let packets: Fields[];
  before(() => {
    packets = tsharkFields(files.pcap, 'pgsql', ['tcp.stream', 'tcp.srcport', 'tcp.dstport', 'pgsql.type', 'pgsql.query', 'pgsql.tag', 'pgsql.code', 'pgsql.statement']);
  });
  const all = (ps: Fields[], f: string): string[] => ps.flatMap((p) => p[f] ?? []);
  const streamWith = (re: RegExp): Fields[] => {
    const s = packets.find((p) => (p['pgsql.query'] ?? []).some((q) => re.test(q)))?.['tcp.stream']?.[0];
    assert.ok(s !== undefined, `a TCP stream with a query matching ${re}`);
    return packets.filter((p) => p['tcp.stream']![0] === s);
  };

  it('tshark decodes the psql session: every query, the CommandComplete tags, the SQLSTATE — all on port 5432, the real port in the SYN comment', T, () => {
    assert.ok(packets.length > 0);
    for (const p of packets) {
      const ports = [p['tcp.srcport']![0], p['tcp.dstport']![0]];
      assert.ok(ports.includes('5432'), `a PostgreSQL packet not on port 5432: ${ports.join(' → ')}`);
      assert.ok(!ports.includes(String(server.port)), 'the real server port is not in the packets');
    }
    const psql = streamWith(/^CREATE TABLE fruit/);
    assert.deepEqual(all(psql, 'pgsql.query'), PSQL_COMMANDS);
    assert.deepEqual(all(psql, 'pgsql.tag'), ['CREATE TABLE', 'COPY 3', 'SELECT 3', 'SELECT 1', 'SELECT 1', 'SELECT 1']);
    assert.deepEqual(all(psql, 'pgsql.code'), ['42P01']);
    const types = new Set(all(psql, 'pgsql.type'));
    for (const t of ['Startup message', 'Simple query', 'Row description', 'Data row', 'Command completion', 'CopyIn response', 'Copy data', 'Copy completion', 'Error', 'Ready for query', 'Termination']) {
      assert.ok(types.has(t), `tshark saw a "${t}" (it saw: ${[...types].join(', ')})`);
    }
    // No SSLRequest in the file: the stream starts with the StartupMessage.
    assert.equal(all(psql, 'pgsql.type')[0], 'Startup message');

    const comments = tsharkFields(files.pcap, 'frame.comment', ['frame.comment', 'tcp.flags.syn', 'tcp.flags.ack']);
    const syns = comments.filter((c) => c['tcp.flags.syn']![0] === '1' && c['tcp.flags.ack']![0] === '0');
    assert.equal(syns.length, 5, 'one SYN comment per connection');
    for (const s of syns) assert.match(s['frame.comment']![0]!, new RegExp(`^pgscope connection #\\d+: server 127\\.0\\.0\\.1:${server.port} \\(shown as port 5432 so that Wireshark decodes PostgreSQL\\)`));
    assert.ok(syns.some((s) => s['frame.comment']![0]!.startsWith(`pgscope connection #${psqlConn}: `)));
    // Correct sequence numbers, checksums and acknowledgements: Wireshark's TCP analysis flags nothing.
    assert.deepEqual(tsharkFields(files.pcap, 'tcp.analysis.flags', ['frame.number']), []);
  });

  it(`pgbench -M simple: as many "SELECT abalance …" queries as transactions (${PGBENCH_TX}), and the script's tags`, T, () => {
    const simple = streamWith(/^SELECT abalance FROM pgbench_accounts WHERE aid = \d+;$/);
    const queries = all(simple, 'pgsql.query');
    assert.equal(queries.filter((q) => /^SELECT abalance FROM pgbench_accounts WHERE aid = \d+;$/.test(q)).length, PGBENCH_TX);
    assert.equal(queries.filter((q) => /^UPDATE pgbench_accounts SET abalance = abalance \+ -?\d+ WHERE aid = \d+;$/.test(q)).length, PGBENCH_TX);
    assert.equal(queries.length, 7 * PGBENCH_TX);
    const tags = all(simple, 'pgsql.tag');
    assert.equal(tags.filter((t) => t === 'UPDATE 1').length, 3 * PGBENCH_TX);
    assert.equal(tags.filter((t) => t === 'COMMIT').length, PGBENCH_TX);
  });

  it(`pgbench -M prepared: each statement parsed once, then bound ${PGBENCH_TX} times (Bind/Execute), answered with its tags`, T, () => {
    const prepared = streamWith(/^SELECT abalance FROM pgbench_accounts WHERE aid = \$1;$/);
    const types = all(prepared, 'pgsql.type');
    assert.equal(types.filter((t) => t === 'Parse').length, 7);
    assert.equal(types.filter((t) => t === 'Bind').length, 7 * PGBENCH_TX);
    assert.equal(types.filter((t) => t === 'Execute').length, 7 * PGBENCH_TX);
    assert.equal(all(prepared, 'pgsql.query').filter((q) => q === 'SELECT abalance FROM pgbench_accounts WHERE aid = $1;').length, 1);
    // Statement names: each appears in its Parse and in every Bind.
    const names = new Map<string, number>();
    for (const n of all(prepared, 'pgsql.statement')) names.set(n, (names.get(n) ?? 0) + 1);
    assert.equal(names.size, 7, `statement names: ${JSON.stringify([...names])}`);
    assert.ok([...names.values()].every((n) => n === 1 + PGBENCH_TX), `statement names: ${JSON.stringify([...names])}`);
    assert.equal(all(prepared, 'pgsql.tag').filter((t) => t === 'INSERT 0 1').length, PGBENCH_TX);
  });
});

describe('all outputs together (--log-forwarded annotated --jsonl --pcap --query-log --summary)', () => {
  it('pgscope exits 0; the query log, the statement records, the summary and tshark count the same statements; the summary comes last', T, () => {
    assert.equal(exitCode, 0);
    const records = jsonl.filter((o) => o.type === 'statement') as Record<string, any>[];
    // psql 7, pgbench set-up queries, and 7 × 20 per pgbench mode.
    assert.ok(records.length >= 7 + 2 * 7 * PGBENCH_TX, `${records.length} statements`);
    assert.equal(queryLog.length, records.length);

    // tshark: every statement ends in a CommandComplete or an ErrorResponse.
    const packets = tsharkFields(files.pcap, 'pgsql', ['pgsql.type', 'pgsql.query']);
    const types = packets.flatMap((p) => p['pgsql.type'] ?? []);
    const ends = types.filter((t) => t === 'Command completion' || t === 'Error').length;
    assert.equal(ends, records.length, 'tshark sees one CommandComplete or ErrorResponse per statement');
    // Every statement's SQL is in a query tshark decoded (a Query string or a Parse), and every such query produced a statement.
    const queries = packets.flatMap((p) => p['pgsql.query'] ?? []);
    for (const r of records) assert.ok(queries.some((q) => q.includes(r.sql)), `tshark has no query containing ${r.sql}`);
    for (const q of queries) assert.ok(records.some((r) => q.includes(r.sql)), `no statement record for tshark's query ${q}`);

    // The summary: printed after everything else, the same totals.
    const at = stdout.lastIndexOf('pgscope summary: ');
    assert.ok(at > 0, 'a summary on standard output');
    assert.ok(stdout.indexOf('stopping: closing the listener') < at, 'after the stop');
    const summary = stdout.slice(at);
    assert.doesNotMatch(summary, /^#\d+ /m, 'nothing of the log after the summary');
    assert.match(summary, /^pgscope summary: 5 connections, [\d.]+ (KiB|bytes) from clients, [\d.]+ (KiB|MiB) from servers$/m);
    const errors = records.filter((r) => r.error).length;
    assert.equal(errors, 1);
    assert.match(summary, new RegExp(`^${records.length} statements in \\d+ groups, 1 error; by total time:$`, 'm'));
    // Prepared pgbench: one group per statement of the script, with every execution.
    assert.match(summary, new RegExp(`^ +${PGBENCH_TX} +[\\d.]+ +[\\d.]+ +[\\d.]+ +[\\d.]+ +[\\d.]+ +0  SELECT abalance FROM pgbench_accounts WHERE aid = \\$1$`, 'm'));

    // The annotated log of the same run: typed values, nothing undecoded.
    const log = connLines(stdout, psqlConn).join('\n');
    assert.match(log, /"apple" = text apple$/m);
    assert.match(log, /"1\.25" = numeric 1\.25$/m);
    assertCleanLog(stdout);
  });
});

describe('--jsonl -', () => {
  it('JSON lines go to standard output, the text log to standard error', T, async () => {
    // Plaintext on both legs: over a TLS server leg the server would offer SCRAM-SHA-256-PLUS, which libpq refuses on a plaintext client leg.
    const p = await startPgscopeStderrLog(['--server-host', server.host, '--server-connect-port', String(server.port), '--client-deny-ssl', '--server-sslmode', 'disable', '--jsonl', '-']);
    try {
      assert.equal(await server.psql("SELECT 'to stdout' AS where_to", [], { port: p.port, params: { sslmode: 'disable', gssencmode: 'disable' } }), 'to stdout');
      await waitUntil(() => /"phase":"closed"/.test(p.output()) && / connection end$/m.test(p.stderr()), 20_000, 'the end of the connection on both outputs');
    } finally {
      assert.equal(await p.stop(), 0);
    }
    const objs = checkJsonlLines(p.output()) as JsonObj[];
    assert.ok(objs.some((o) => o.type === 'status' && /listening on/.test(String(o.text))));
    assert.ok(objs.some((o) => o.type === 'message' && o.msg === 'Query'));
    assert.ok(objs.some((o) => o.type === 'statement' && o.sql === "SELECT 'to stdout' AS where_to" && o.tag === 'SELECT 1'));
    assert.match(p.stderr(), /listening on 127\.0\.0\.1:\d+/);
    assert.match(p.stderr(), /^#1  client -> server: "Q" = Query .*SELECT 'to stdout' AS where_to/m);
    assert.match(p.stderr(), /^#1  server -> client: "D" = DataRow/m);
    assert.doesNotMatch(p.output(), /^#1 /m, 'no text log on standard output');
  });
});
