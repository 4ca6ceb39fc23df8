/**
 * Hardening: bad input from the client side. One pgscope (logging everything annotated to
 * a file) in front of a real PostgreSQL 15 server receives FUZZ_CASES (default 10 000)
 * byte streams as a client, FUZZ_CONCURRENCY (default 40) at a time:
 *
 * - random bytes, and random bytes whose first word is an impossible startup length;
 * - the frontend side of every recorded conversation in test/fixtures, mutated (bit flips,
 *   byte changes, truncation, insertions, deletions, duplicated ranges);
 * - a valid startup followed by the fixtures' messages, mutated per message (length fields
 *   set to 0, 3, -1, ±1, 1 GiB, 2 GiB-1; messages dropped, duplicated, swapped, spliced
 *   from other conversations, random type bytes) and per byte;
 * - startup packets with bad parameters (no user, odd strings, no terminator, invalid
 *   UTF-8, protocol 2.0/4.0/3.99, unknown `_pq_.` options, bad replication values);
 * - SSLRequest followed by plaintext garbage (CVE-2021-23214), GSSENCRequest, CancelRequest
 *   with random keys and trailing bytes, a valid startup then a message claiming 1-2 GiB;
 * - some of the above inside TLS (after SSLRequest, and direct TLS with ALPN postgresql);
 *
 * each written in 1-4 chunks and then closed in one of four ways (half-close at once, wait
 * then half-close, reset at once, wait then reset). Every case is reproducible: a failure
 * prints FUZZ_SEED and the case number (`FUZZ_SEED=… FUZZ_ONLY=n` reruns one case;
 * FUZZ_TRACE=1 prints each case before it runs).
 *
 * Asserted: pgscope closes every connection once the client has (nothing left open 15 s
 * after the client's FIN); impossible startups get an ErrorResponse 08P01 and an "invalid
 * startup packet" log line; SSLRequest + plaintext is logged; the log shows "connection
 * end" for every connection and no internal error; a long-lived real session keeps getting
 * right answers throughout, and after every group of cases a fresh session (plaintext or
 * TLS) runs a query; at the end pgscope runs, its open descriptors are back to the
 * baseline and the server has no backend left from the fuzz connections.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadFixtures } from '../helpers/fixtures.js';
import { alive, caseSeed, connsByClientPort, fdCount, firstError, linesByConn, otherBackends, probe, Rng, rssMiB, type CloseMode, type ProbeResult } from '../helpers/hardening.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { fe } from '../helpers/raw-client.js';
import { startPgscopeLogfile, waitUntil, type FileLoggedPgscope } from '../helpers/traffic-util.js';
import { cstr, int32, msg, startupMessage, startupPacket } from '../helpers/wire.js';

const CASES = Number(process.env['FUZZ_CASES'] ?? 10_000);
const CONCURRENCY = Number(process.env['FUZZ_CONCURRENCY'] ?? 40);
const GROUP = Number(process.env['FUZZ_GROUP'] ?? 500);
const SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : (Date.now() ^ (process.pid << 10)) >>> 0;
const ONLY = process.env['FUZZ_ONLY'] !== undefined ? Number(process.env['FUZZ_ONLY']) : null;
const T = { timeout: 300_000 };

// ---------------------------------------------------------------- material from the fixtures

const fixtures = loadFixtures();
/** The whole frontend byte stream of each recorded conversation. */
const rawStreams = fixtures.map((f) => Buffer.concat(f.chunks.filter((c) => c.dir === 'frontend').map((c) => c.bytes))).filter((b) => b.length > 0);

/** The typed frontend messages after the startup packet (PasswordMessage/SASL dropped: the server trusts). */
function postStartupMessages(stream: Buffer): Buffer[] {
  let i = 0;
  for (;;) {
    if (i + 8 > stream.length) return [];
    const len = stream.readInt32BE(i);
    const code = stream.readInt32BE(i + 4);
    if (len < 8 || i + len > stream.length) return [];
    i += len;
    if (code === 80877103 || code === 80877104) continue; // SSLRequest / GSSENCRequest (TLS ones fail below)
    if (code >> 16 === 3) break;
    return []; // CancelRequest or TLS
  }
  const out: Buffer[] = [];
  while (i + 5 <= stream.length) {
    const len = stream.readInt32BE(i + 1);
    if (len < 4 || i + 1 + len > stream.length) break;
    const m = stream.subarray(i, i + 1 + len);
    if (m[0] !== 0x70) out.push(Buffer.from(m));
    i += 1 + len;
  }
  return out;
}
const sessions = rawStreams.map(postStartupMessages).filter((l) => l.length > 0);
const allMessages = sessions.flat();

// ---------------------------------------------------------------- case generation

const WEIRD_LENGTHS = [0, 1, 3, 4, 5, -1, -4, -100_000, 10_001, 65_536, 0x3fffffff, 0x40000000, 0x7fffffff];
const goodStartup = (app: string): Buffer => startupMessage({ user: 'postgres', database: 'postgres', application_name: app });

function mutateBytes(rng: Rng, b: Buffer): Buffer {
  let out: Buffer = Buffer.from(b);
  const n = rng.range(1, 4);
  for (let k = 0; k < n; k++) {
    if (out.length === 0) out = rng.bytes(rng.range(1, 16));
    const at = rng.int(out.length);
    switch (rng.int(7)) {
      case 0: // bit flip
        out[at] = out[at]! ^ (1 << rng.int(8));
        break;
      case 1: // any byte
        out[at] = rng.int(256);
        break;
      case 2: // truncate
        out = out.subarray(0, at);
        break;
      case 3: // insert random bytes
        out = Buffer.concat([out.subarray(0, at), rng.bytes(rng.range(1, 32)), out.subarray(at)]);
        break;
      case 4: // delete a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + rng.range(1, 16)))]);
        break;
      case 5: {
        // duplicate a range somewhere else
        const len = rng.range(1, Math.min(64, out.length - at));
        const where = rng.int(out.length + 1);
        out = Buffer.concat([out.subarray(0, where), out.subarray(at, at + len), out.subarray(where)]);
        break;
      }
      case 6: // an int32 at a random spot set to a weird value
        if (out.length >= 4) out.writeInt32BE(rng.pick(WEIRD_LENGTHS), rng.int(out.length - 3));
        break;
    }
  }
  return out;
}

function mutateMessages(rng: Rng, msgs: Buffer[]): Buffer[] {
  const out: Buffer[] = msgs.map((m) => Buffer.from(m));
  const n = rng.range(1, 3);
  for (let k = 0; k < n; k++) {
    const at = rng.int(out.length);
    switch (rng.int(8)) {
      case 0: // a weird length field
        if (out[at] && out[at]!.length >= 5) out[at]!.writeInt32BE(rng.pick(WEIRD_LENGTHS), 1);
        break;
      case 1: // length off by a little
        if (out[at] && out[at]!.length >= 5) out[at]!.writeInt32BE(Math.max(-0x80000000, Math.min(0x7fffffff, out[at]!.readInt32BE(1) + rng.range(-3, 3))), 1);
        break;
      case 2: // drop
        out.splice(at, 1);
        break;
      case 3: // duplicate
        if (out[at]) out.splice(at, 0, out[at]!);
        break;
      case 4: // swap with a neighbour
        if (out[at] && out[at + 1]) [out[at], out[at + 1]] = [out[at + 1]!, out[at]!];
        break;
      case 5: // splice a message from another conversation
        out.splice(at, 0, rng.pick(allMessages));
        break;
      case 6: // a random type byte on a random body
        out.splice(at, 0, msg(String.fromCharCode(rng.int(256)), rng.bytes(rng.range(0, 40))));
        break;
      case 7: // byte-level damage inside one message
        if (out[at]) out[at] = mutateBytes(rng, out[at]!);
        break;
    }
  }
  return out;
}

function badStartup(rng: Rng): { bytes: Buffer; what: string; expect08P01: boolean } {
  const v3 = int32(3 << 16);
  switch (rng.int(10)) {
    case 0:
      return { bytes: startupPacket(v3, cstr('database'), cstr('postgres'), Buffer.from([0])), what: 'no user', expect08P01: false };
    case 1:
      return { bytes: startupPacket(v3, cstr('user'), cstr('postgres'), cstr('database'), Buffer.from([0])), what: 'odd number of strings', expect08P01: false };
    case 2:
      return { bytes: startupPacket(v3, cstr('user'), Buffer.from('postgres')), what: 'no terminator', expect08P01: false };
    case 3:
      return { bytes: startupPacket(v3, cstr('user'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0]), cstr('database'), Buffer.from([0x80, 0x81, 0]), Buffer.from([0])), what: 'invalid UTF-8', expect08P01: false };
    case 4: {
      const major = rng.pick([0, 1, 2, 4, 5, 1234]);
      const b = startupMessage({ user: 'postgres' }, 0);
      b.writeUInt16BE(major, 4);
      return { bytes: b, what: `protocol ${major}.0`, expect08P01: true };
    }
    case 5:
      return { bytes: startupMessage({ user: 'postgres', database: 'postgres' }, rng.pick([1, 3, 99, 0xffff])), what: 'protocol 3.x unknown minor', expect08P01: false };
    case 6:
      return { bytes: startupMessage({ user: 'postgres', database: 'postgres', '_pq_.nope': 'on', [`_pq_.${rng.bytes(6).toString('hex')}`]: 'x' }), what: 'unknown _pq_ options', expect08P01: false };
    case 7:
      return { bytes: startupMessage({ user: 'postgres', database: 'postgres', replication: rng.pick(['maybe', 'database', 'true', '\u00ff']) }), what: 'replication values', expect08P01: false };
    case 8:
      return { bytes: startupMessage({ user: rng.pick(['nobody', '', 'x'.repeat(200)]), database: rng.pick(['nodb', '', 'postgres']) }), what: 'unknown user/database', expect08P01: false };
    default:
      return { bytes: startupMessage({ user: 'postgres', database: 'postgres', options: rng.pick(['-c statement_timeout=nope', '-c nosuch.setting', '--=', '-c work_mem=-1']) }), what: 'bad options', expect08P01: false };
  }
}

interface Case {
  index: number;
  seed: number;
  kind: string;
  what: string;
  chunks: Buffer[];
  close: CloseMode;
  waitMs: number;
  tls?: 'ssl' | 'direct';
  /** The client must receive an ErrorResponse with this SQLSTATE. */
  expectCode?: string;
  /** The connection's log must have a line matching this. */
  expectLog?: RegExp;
}

function split(rng: Rng, b: Buffer): Buffer[] {
  const n = Math.min(b.length, rng.range(1, 4));
  if (n <= 1) return [b];
  const cuts = [...new Set(Array.from({ length: n - 1 }, () => rng.range(1, b.length - 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(b.subarray(prev, c));
    prev = c;
  }
  out.push(b.subarray(prev));
  return out;
}

function makeCase(index: number): Case {
  const seed = caseSeed(SEED, index);
  const rng = new Rng(seed);
  const app = `fuzz-${index}`;
  let kind: string;
  let what = '';
  let bytes: Buffer;
  let expectCode: string | undefined;
  let expectLog: RegExp | undefined;
  let tls: 'ssl' | 'direct' | undefined;
  const inner = (): { bytes: Buffer; what: string } => {
    const r = rng.int(3);
    if (r === 0) return { bytes: Buffer.concat([goodStartup(app), ...mutateMessages(rng, rng.pick(sessions))]), what: 'mutated session' };
    if (r === 1) {
      const b = badStartup(rng);
      return { bytes: b.bytes, what: b.what };
    }
    return { bytes: mutateBytes(rng, rng.pick(rawStreams)), what: 'mutated recorded stream' };
  };
  const roll = rng.int(100);
  if (roll < 20) {
    kind = 'random';
    bytes = rng.bytes(rng.range(1, 512));
  } else if (roll < 30) {
    kind = 'impossible-startup-length';
    const len = rng.pick([0, 1, 4, 7, -1, -8, 10_001, 1 << 20, 0x40000000, 0x7fffffff]);
    bytes = Buffer.concat([int32(len), rng.bytes(rng.range(4, 64))]);
    what = `length ${len}`;
    expectCode = '08P01';
    expectLog = /invalid startup packet/;
  } else if (roll < 43) {
    kind = 'mutated-recorded-stream';
    bytes = mutateBytes(rng, rng.pick(rawStreams));
  } else if (roll < 63) {
    kind = 'mutated-session';
    const msgs = mutateMessages(rng, rng.pick(sessions));
    bytes = Buffer.concat([goodStartup(app), ...msgs]);
    if (rng.chance(0.3)) bytes = mutateBytes(rng, bytes);
  } else if (roll < 74) {
    kind = 'bad-startup';
    const b = badStartup(rng);
    bytes = b.bytes;
    what = b.what;
    if (b.expect08P01) {
      expectCode = '08P01';
      expectLog = /invalid startup packet/;
    }
  } else if (roll < 79) {
    kind = 'sslrequest-then-plaintext';
    bytes = Buffer.concat([fe.sslRequest(), rng.chance(0.5) ? goodStartup(app) : rng.bytes(rng.range(1, 100))]);
    expectLog = /CVE-2021-23214|TLS handshake with the client failed/;
  } else if (roll < 87) {
    kind = 'tls-after-sslrequest';
    tls = 'ssl';
    ({ bytes, what } = inner());
  } else if (roll < 91) {
    kind = 'direct-tls';
    tls = 'direct';
    ({ bytes, what } = inner());
  } else if (roll < 95) {
    kind = 'gssenc-or-cancel';
    bytes = rng.chance(0.5)
      ? Buffer.concat([fe.gssencRequest(), goodStartup(app), ...mutateMessages(rng, rng.pick(sessions))])
      : Buffer.concat([fe.cancelRequest(rng.u32() | 0, rng.bytes(rng.pick([4, 4, 32, 0, 300]))), rng.bytes(rng.range(0, 20))]);
  } else {
    kind = 'huge-message-after-startup';
    const len = rng.pick([0x7fffffff, 0x40000000, 0x3fffffff, 100_000_000]);
    bytes = Buffer.concat([goodStartup(app), Buffer.from(rng.pick(['Q', 'd', 'P', 'S', 'X', '\0'])), int32(len), rng.bytes(rng.range(0, 2000))]);
    what = `length ${len}`;
  }
  const closeRoll = rng.int(100);
  const close: CloseMode = closeRoll < 40 ? 'end' : closeRoll < 70 ? 'wait-end' : closeRoll < 85 ? 'destroy' : 'wait-destroy';
  const c: Case = { index, seed, kind, what, chunks: split(rng, bytes), close, waitMs: rng.range(10, 150) };
  if (tls) c.tls = tls;
  // Only a client that stays to listen can be told.
  if (expectCode && (close === 'end' || close === 'wait-end')) c.expectCode = expectCode;
  if (expectLog && close !== 'destroy') c.expectLog = expectLog;
  return c;
}

const describeCase = (c: Case): string =>
  `FUZZ_SEED=${SEED} FUZZ_ONLY=${c.index} (${c.kind}${c.what ? `: ${c.what}` : ''}; ${c.tls ?? 'plain'}; close ${c.close}; ${c.chunks.length} chunk(s), ${c.chunks.reduce((a, b) => a + b.length, 0)} bytes: ${Buffer.concat(c.chunks).subarray(0, 48).toString('hex')}…)`;

// ---------------------------------------------------------------- the test

describe('a client fuzzer against pgscope in front of a real server', () => {
  let server: PgServer;
  let proxy: FileLoggedPgscope;
  let dir: string;
  /** On failure the log stays, for the report. */
  let keepLog = !!process.env['FUZZ_KEEP_LOG'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgscope-fuzz-'));
    server = await startPgServer({
      version: 15,
      auth: 'trust',
      settings: { max_connections: '120', max_wal_senders: '30', statement_timeout: "'5s'", client_connection_check_interval: "'1s'", log_min_messages: 'panic' },
    });
    proxy = await startPgscopeLogfile(['--server-host', server.host, '--server-connect-port', String(server.port), '--server-sslmode', 'disable', '--client-cert-sig', 'ecdsa'], join(dir, 'pgscope.log'));
  }, T);

  after(async () => {
    await proxy?.stop();
    await server?.stop();
    if (dir && !keepLog) rmSync(dir, { recursive: true, force: true });
  }, T);

  it(`${ONLY === null ? CASES : 1} fuzzed client streams: pgscope survives, closes each, leaks nothing, real sessions unharmed`, T, async (t) => {
    t.diagnostic(`FUZZ_SEED=${SEED} (${fixtures.length} fixtures, ${sessions.length} sessions with ${allMessages.length} messages)`);
    const t0 = Date.now();
    const pgClient = (ssl: boolean, app: string): pg.Client => {
      const c = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'postgres', database: 'postgres', application_name: app, ssl: ssl ? { rejectUnauthorized: false } : false, connectionTimeoutMillis: 60_000 });
      c.on('error', () => {
        /* reported by the query that fails */
      });
      return c;
    };

    // A fresh session through pgscope; also sets the descriptor baseline once pgscope is warm.
    const freshSession = async (ssl: boolean, tag: string): Promise<void> => {
      const c = pgClient(ssl, `real-${tag}`);
      await c.connect();
      try {
        const r = await c.query('SELECT $1::text AS tag, count(*)::int AS n FROM generate_series(1, 100)', [tag]);
        assert.deepEqual(r.rows, [{ tag, n: 100 }], `fresh session ${tag}`);
      } finally {
        await c.end();
      }
    };
    await freshSession(false, 'warm-plain');
    await freshSession(true, 'warm-tls');
    await waitUntil(() => (proxy.log().match(/^#\d+ {2}connection end$/gm) ?? []).length >= 2, 20_000, 'the warm-up sessions to end');
    const baseFds = fdCount(proxy.pid);
    const baseRss = rssMiB(proxy.pid);

    // A long-lived real session querying all the time.
    const steady = pgClient(true, 'steady');
    await steady.connect();
    let steadyQueries = 0;
    let steadyError: unknown = null;
    let fuzzing = true;
    const steadyLoop = (async () => {
      while (fuzzing && steadyError === null) {
        const k = steadyQueries++;
        try {
          const r = await steady.query('SELECT $1::int * 2 AS d, repeat($2, 20) AS s', [k, 'ab']);
          assert.deepEqual(r.rows, [{ d: k * 2, s: 'ab'.repeat(20) }]);
        } catch (e) {
          steadyError = e;
        }
        // Throughout, not flat out: the CPU is for the fuzzing.
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const indices = ONLY === null ? Array.from({ length: CASES }, (_, i) => i) : [ONLY];
    const failures: string[] = [];
    const results: { c: Case; r: ProbeResult }[] = [];
    const kinds = new Map<string, number>();
    for (let g = 0; g < indices.length; g += GROUP) {
      const group = indices.slice(g, g + GROUP);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < group.length) {
          const c = makeCase(group[next++]!);
          kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
          if (process.env['FUZZ_TRACE']) process.stderr.write(`case ${describeCase(c)}\n`);
          const o: Parameters<typeof probe>[0] = { port: proxy.port, chunks: c.chunks, close: c.close, waitMs: c.waitMs, closeTimeoutMs: 15_000 };
          if (c.tls) o.tls = c.tls;
          const r = await probe(o);
          results.push({ c, r });
          if (!r.closed) failures.push(`still open 15 s after the client's FIN: ${describeCase(c)}`);
          if (c.expectCode) {
            const e = firstError(r.received);
            if (e?.['C'] !== c.expectCode) failures.push(`expected an ErrorResponse ${c.expectCode}, got ${JSON.stringify(r.received.subarray(0, 80).toString('latin1'))}: ${describeCase(c)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, group.length) }, worker));
      assert.ok(alive(proxy.pid), `pgscope died during cases ${group[0]}..${group.at(-1)} (FUZZ_SEED=${SEED}):\n${proxy.stderr()}`);
      await freshSession((g / GROUP) % 2 === 1, `after-${g + group.length}`);
      if (failures.length > 20) break;
    }
    fuzzing = false;
    await steadyLoop;
    await steady.end();
    assert.equal(steadyError, null, `the long-lived session failed after ${steadyQueries} queries: ${String(steadyError)}`);
    const fuzzMs = Date.now() - t0;
    {
      // Where the CPU went (utime + stime; the server's backends are the postmaster's children).
      const cpu = (pid: number | string, children: boolean): number => {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        const [u, s] = children ? [f[13], f[14]] : [f[11], f[12]];
        return (Number(u) + Number(s)) / 100;
      };
      const pm = readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!;
      t.diagnostic(`CPU seconds: pgscope ${cpu(proxy.pid, false).toFixed(1)}, this test ${cpu(process.pid, false).toFixed(1)}, server backends ${cpu(pm, true).toFixed(1)}`);
    }

    // Everything closes: pgscope's descriptors, the server's backends.
    let fds = fdCount(proxy.pid);
    try {
      await waitUntil(() => (fds = fdCount(proxy.pid)) <= baseFds, 30_000, `pgscope's descriptors back to ${baseFds}`);
    } catch {
      failures.push(`pgscope has ${fds} open descriptors, ${baseFds} before the fuzzing (leaked connections?)`);
    }
    let left = -1;
    try {
      await waitUntil(async () => (left = await otherBackends(server)) === 0, 30_000, 'no backends left');
    } catch {
      const r = await server.psqlRun("SELECT pid, backend_type, application_name, state, left(query, 60) FROM pg_stat_activity WHERE backend_type IN ('client backend','walsender') AND pid <> pg_backend_pid()", [], { allowFailure: true });
      failures.push(`${left} backend(s) left on the server after every fuzz connection closed:\n${r.stdout}`);
    }

    // The log: one "connection end" per connection, the malformed ones explained.
    await waitUntil(() => (proxy.log().match(/^#\d+ {2}connection end$/gm) ?? []).length >= indices.length + 3, 30_000, 'a "connection end" line for every connection').catch(() => {});
    const log = proxy.log();
    const byConn = linesByConn(log);
    const byPort = connsByClientPort(log);
    const notEnded = [...byConn].filter(([, lines]) => !lines.some((l) => / connection end$/.test(l))).map(([n]) => n);
    if (notEnded.length) failures.push(`${notEnded.length} connection(s) without "connection end" in the log: #${notEnded.slice(0, 20).join(', #')}`);
    const internal = log.split('\n').filter((l) => /internal error|uncaught|TypeError|RangeError/.test(l));
    if (internal.length) failures.push(`internal errors in the log:\n${internal.slice(0, 10).join('\n')}`);
    for (const { c, r } of results) {
      // A reset before pgscope read the bytes (or even accepted the connection) loses them: only
      // a client that half-closed, or that pgscope hung up on first, is owed the explanation.
      if (!c.expectLog || !r.localPort || (c.close === 'wait-destroy' && !r.peerClosedFirst)) continue;
      const conns = byPort.get(r.localPort) ?? [];
      if (!conns.some((n) => (byConn.get(n) ?? []).some((l) => c.expectLog!.test(l)))) failures.push(`no log line matching ${c.expectLog} for ${describeCase(c)} (connections ${conns.join(', ')})`);
    }
    const invalidStartups = (log.match(/invalid startup packet/g) ?? []).length;

    t.diagnostic(`${indices.length} cases in ${(fuzzMs / 1000).toFixed(1)} s (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}); steady session ${steadyQueries} queries`);
    t.diagnostic(`log ${(log.length / 1e6).toFixed(1)} MB, ${byConn.size} connections, ${invalidStartups} "invalid startup packet"; descriptors ${baseFds} -> ${fds}; RSS ${baseRss.toFixed(0)} -> ${rssMiB(proxy.pid).toFixed(0)} MiB`);
    if (failures.length) {
      keepLog = true;
      t.diagnostic(`pgscope's log kept in ${join(dir, 'pgscope.log')}`);
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failure(s)`);
    assert.ok(ONLY !== null || invalidStartups > 0, 'malformed startups are logged as "invalid startup packet"');

    const r = await server.psql("SELECT 'after the fuzz'", [], { port: proxy.port, params: { sslmode: 'require' }, env: { PGCONNECT_TIMEOUT: '60' } });
    assert.equal(r, 'after the fuzz');
    assert.ok(alive(proxy.pid), 'pgscope still runs');
  });
});
