/**
 * Who gets in (src/net/admission.ts), through the real pgscope process and real servers:
 *
 * - out of file descriptors: pgscope under `ulimit -n 300` and 600 idle clients. Node
 *   (libuv) accepts and closes clients it has no descriptor for without telling anyone, so
 *   before this, clients (psql included) were dropped and the log said nothing. Now the log
 *   names EMFILE, the limit and the fix, clients are answered FATAL 53300, and once the idle
 *   clients leave, pgscope says so and psql works through it again;
 * - --max-connections 3: three clients in, a fourth (psql over TLS and plaintext, libpq 18
 *   with direct TLS, node-postgres, a raw client after SSLRequest) gets FATAL 53300 "sorry,
 *   too many clients already" after its startup packet, as from PostgreSQL; CancelRequests
 *   (plaintext and over TLS) still pass; when one of the three leaves, the next client gets
 *   in.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { readDescriptorLimit } from '../../src/net/admission.js';
import { libpq18Env, startPgServers, type PgServer } from '../helpers/pg-server.js';
import { PGSCOPE_BIN, type Pgscope } from '../helpers/pgscope.js';
import { errorFields, fe, PgError, RawClient } from '../helpers/raw-client.js';
import { pgscopeFor, waitActive, waitConnEnd, waitUntil } from '../helpers/traffic-util.js';

const T = { timeout: 240_000 };
/** psql through pgscope on a loaded machine: a generous connect timeout. */
const PATIENT = { PGCONNECT_TIMEOUT: '60' };

// ---------------------------------------------------------------- pgscope under a ulimit

interface Limited {
  port: number;
  child: ChildProcess;
  output(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** The CLI with `ulimit -n <limit>` (bash's ulimit sets the soft and the hard limit). */
async function pgscopeWithUlimit(limit: number, args: string[]): Promise<Limited> {
  const quoted = [process.execPath, PGSCOPE_BIN, '-p', '0', '--bw', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('bash', ['-c', `ulimit -n ${limit} && exec ${quoted}`], { env: { ...process.env, NO_COLOR: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      children.delete(child);
      r(code);
    }),
  );
  const waitFor = (re: RegExp, timeoutMs = 30_000): Promise<void> => waitUntil(() => re.test(out) || child.exitCode !== null, timeoutMs, `a pgscope line matching ${re}`).then(() => assert.match(out, re));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  try {
    await waitFor(/listening on /, 90_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const port = Number(/listening on [^\s]*:(\d+),/.exec(out)?.[1]);
  return { port, child, output: () => out, waitFor, stop };
}

/** An idle TCP client: what it received, and whether it is closed. */
interface Idle {
  sock: Socket;
  connected: boolean;
  closed: boolean;
  received: Buffer;
}

function idleClient(port: number): Idle {
  const sock = new Socket();
  const c: Idle = { sock, connected: false, closed: false, received: Buffer.alloc(0) };
  sock.on('connect', () => (c.connected = true));
  sock.on('data', (d: Buffer) => (c.received = Buffer.concat([c.received, d])));
  sock.on('error', () => undefined);
  sock.on('close', () => (c.closed = true));
  sock.connect(port, '127.0.0.1');
  return c;
}

describe('out of file descriptors (ulimit -n 300, 600 idle clients)', () => {
  let server: PgServer | undefined;
  let proxy: Limited | undefined;
  const idle: Idle[] = [];
  const mine = readDescriptorLimit();

  before(async () => {
    [server] = (await startPgServers([{ version: 15, auth: 'trust' }])) as [PgServer];
    proxy = await pgscopeWithUlimit(300, ['--server-host', server.host, '--server-connect-port', String(server.port), '--log-forwarded', 'none']);
  }, T);
  after(async () => {
    for (const c of idle) c.sock.destroy();
    await proxy?.stop();
    await server?.stop();
  }, T);

  it('the log says EMFILE, the limit and the fix; clients hear FATAL 53300; once descriptors free up, psql works again', { ...T, skip: mine.soft !== null && mine.soft < 1024 ? `this test opens 600 sockets; the runner's ulimit -n is ${mine.soft}` : false }, async () => {
    const p = proxy!;
    const s = server!;
    for (let i = 0; i < 600; i++) idle.push(idleClient(p.port));
    // Every client connects (the kernel completes the handshake; pgscope accepts or refuses).
    await waitUntil(() => idle.every((c) => c.connected || c.closed), 60_000, 'the 600 clients to connect');

    await p.waitFor(/out of file descriptors: EMFILE/);
    const line = p.output().split('\n').find((l) => /out of file descriptors: EMFILE/.test(l))!;
    assert.match(line, /the limit is 300 descriptors \(ulimit -n; hard limit 300\)/, line);
    assert.match(line, /\d+ client connections open/, line);
    assert.match(line, /refused with FATAL 53300 until descriptors free up/, line);
    assert.match(line, /Fix: start pgscope with a higher limit .*or keep it below the limit with --max-connections \d+/, line);

    // Clients pgscope had no room for were answered, not dropped without a word.
    await waitUntil(() => idle.some((c) => c.received.length > 0), 30_000, 'an answer to a refused client');
    const answered = idle.filter((c) => c.received.length > 0);
    for (const c of answered.slice(0, 20)) {
      assert.equal(String.fromCharCode(c.received[0]!), 'E');
      const f = errorFields(c.received.subarray(5, 1 + c.received.readInt32BE(1)));
      assert.deepEqual([f['S'], f['C'], f['M']], ['FATAL', '53300', 'sorry, too many clients already']);
      assert.match(f['D'] ?? '', /pgscope is out of file descriptors \(EMFILE: its limit, ulimit -n, is 300\)/);
    }

    // A real client meanwhile (sslmode=prefer: SSLRequest, TLS, then its startup packet) is
    // refused with the reason, not cut off. Refused clients that sent nothing for a second
    // make room for it.
    await new Promise((r) => setTimeout(r, 1200));
    const during = await s.psqlRun('SELECT 1', [], { port: p.port, allowFailure: true, params: { sslmode: 'prefer' }, env: PATIENT, timeoutMs: 90_000 });
    assert.notEqual(during.code, 0, 'no client is served while pgscope is out of descriptors');
    assert.match(during.stderr, /FATAL: {2}sorry, too many clients already\nDETAIL: {2}pgscope is out of file descriptors \(EMFILE: its limit, ulimit -n, is 300\)/, during.stderr);

    // The idle clients leave: pgscope takes its reserve back, says so, and serves again.
    for (const c of idle) c.sock.destroy();
    await p.waitFor(/file descriptors are free again after [\d.]+ s \(\d+ client connections? open.*\): taking new clients again; \d+ clients were refused meanwhile/, 60_000);
    assert.equal(await s.psql('SELECT 42', [], { port: p.port, params: { sslmode: 'prefer' }, env: PATIENT, timeoutMs: 90_000 }), '42');
    assert.equal(p.child.exitCode, null, 'pgscope still runs');
    assert.doesNotMatch(p.output(), /listener error|internal error/);
    assert.equal(await p.stop(), 0);
  });
});

// ---------------------------------------------------------------- --max-connections

describe('--max-connections 3', () => {
  let server: PgServer | undefined;
  let proxy: Pgscope | undefined;
  const holders: RawClient[] = [];

  before(async () => {
    [server] = (await startPgServers([{ version: 18, auth: 'trust' }])) as [PgServer];
    proxy = await pgscopeFor(server, ['--max-connections', '3']);
  }, T);
  after(async () => {
    for (const h of holders) h.destroy();
    await proxy?.stop();
    await server?.stop();
  }, T);

  /** A raw client's startup through pgscope must end in FATAL 53300; the fields. */
  async function refusedRaw(c: RawClient): Promise<Record<string, string>> {
    try {
      await c.startup({ user: 'postgres', database: 'postgres' });
      assert.fail('the startup succeeded');
    } catch (e) {
      assert.ok(e instanceof PgError, `expected an ErrorResponse, got ${String(e)}`);
      await c.waitClosed(10_000);
      return e.fields;
    } finally {
      c.destroy();
    }
  }

  it('a fourth client gets FATAL 53300 after its startup packet, as from PostgreSQL; a cancel passes; when one leaves, the next gets in', T, async () => {
    const s = server!;
    const p = proxy!;
    const starts = [];
    for (let i = 0; i < 3; i++) {
      const c = await RawClient.connect(p.port);
      holders.push(c);
      starts.push(await c.startup({ user: 'postgres', database: 'postgres', params: { application_name: `holder-${i}` } }));
    }

    // psql, TLS (sslmode=prefer: 'S', the handshake, the startup packet, then the error; libpq
    // then tries again in plaintext, refused the same way) and plaintext.
    for (const sslmode of ['prefer', 'require', 'disable']) {
      const r = await s.psqlRun('SELECT 1', [], { port: p.port, allowFailure: true, params: { sslmode }, env: PATIENT });
      assert.equal(r.code, 2, `psql sslmode=${sslmode}: ${r.stderr}`);
      assert.match(r.stderr, /FATAL: {2}sorry, too many clients already\nDETAIL: {2}pgscope refused the connection: --max-connections 3 reached\./, r.stderr);
      assert.doesNotMatch(r.stderr, /error response during SSL exchange|closed the connection unexpectedly/);
    }
    // libpq 18, direct TLS (a ClientHello first, ALPN postgresql).
    const direct = await s.psqlRun('SELECT 1', [], { port: p.port, allowFailure: true, params: { sslmode: 'require', sslnegotiation: 'direct' }, env: { ...PATIENT, ...libpq18Env() } });
    assert.equal(direct.code, 2, direct.stderr);
    assert.match(direct.stderr, /FATAL: {2}sorry, too many clients already/, direct.stderr);

    // node-postgres over TLS: the SQLSTATE.
    const client = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'postgres', database: 'postgres', ssl: { rejectUnauthorized: false }, connectionTimeoutMillis: 60_000 });
    client.on('error', () => undefined);
    const err = (await client.connect().then(
      () => null,
      (e: unknown) => e,
    )) as (Error & { code?: string; severity?: string; detail?: string }) | null;
    await client.end().catch(() => undefined);
    assert.ok(err, 'node-postgres connected past --max-connections');
    assert.deepEqual([err.severity, err.code, err.message], ['FATAL', '53300', 'sorry, too many clients already']);

    // Raw: plaintext; and SSLRequest, which PostgreSQL answers 'S' when full too.
    const plain = await refusedRaw(await RawClient.connect(p.port));
    assert.deepEqual([plain['S'], plain['V'], plain['C'], plain['M']], ['FATAL', 'FATAL', '53300', 'sorry, too many clients already']);
    const viaTls = await RawClient.connect(p.port);
    viaTls.send(fe.sslRequest());
    assert.equal(await viaTls.readByte(), 'S');
    await viaTls.startTls();
    assert.equal((await refusedRaw(viaTls))['C'], '53300');

    // None of them reached the server: it has the three holders only.
    const backends = await s.psql(`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`);
    assert.equal(backends, '3');

    // The log says so, once at once and then in sums (rate-limited).
    await proxy!.waitFor(/--max-connections 3 reached \(3 client connections open\): refused a client from 127\.0\.0\.1:\d+ with FATAL 53300 "sorry, too many clients already"/);
    await proxy!.waitFor(/--max-connections 3: refused \d+ more clients? in the last 5 s/, 15_000);

    // A CancelRequest is never refused, as in PostgreSQL: it cancels holder-0's query.
    holders[0]!.send(fe.query('SELECT pg_sleep(60)'));
    await waitActive(s, 'holder-0');
    const cancel = await RawClient.connect(p.port);
    cancel.send(fe.cancelRequest(starts[0]!.pid, starts[0]!.key));
    await cancel.waitClosed(30_000);
    const answer = await holders[0]!.readUntilReady(30_000);
    const e = answer.find((m) => m.type === 'E');
    assert.ok(e, 'the query was cancelled');
    assert.equal(errorFields(e.body)['C'], '57014');
    // Over TLS too (SSLRequest, the handshake, then the CancelRequest: libpq 17's PQcancelCreate).
    holders[1]!.send(fe.query('SELECT pg_sleep(60)'));
    await waitActive(s, 'holder-1');
    const tlsCancel = await RawClient.connect(p.port);
    tlsCancel.send(fe.sslRequest());
    assert.equal(await tlsCancel.readByte(), 'S');
    await tlsCancel.startTls();
    tlsCancel.send(fe.cancelRequest(starts[1]!.pid, starts[1]!.key));
    await tlsCancel.waitClosed(30_000);
    const answer1 = await holders[1]!.readUntilReady(30_000);
    assert.equal(errorFields(answer1.find((m) => m.type === 'E')?.body ?? Buffer.alloc(0))['C'], '57014', 'the query was cancelled');

    // One leaves; once pgscope has seen it go, the next client gets in.
    await holders[2]!.terminate();
    await waitConnEnd(p.output, /"holder-2\\x00"/);
    assert.equal(await s.psql('SELECT 42', [], { port: p.port, params: { sslmode: 'prefer', application_name: 'next' }, env: PATIENT }), '42');
    // And with three in again (pgscope decides when it accepts), the next is refused again.
    await waitConnEnd(p.output, /"next\\x00"/);
    const keep = await RawClient.connect(p.port);
    holders.push(keep);
    await keep.startup({ user: 'postgres', database: 'postgres' });
    assert.equal((await refusedRaw(await RawClient.connect(p.port)))['C'], '53300');
    assert.equal(p.child.exitCode, null, 'pgscope still runs');
  });
});
