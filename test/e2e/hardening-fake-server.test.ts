/**
 * Hardening: bad input from the server side. One pgscope routes by SNI name: clients that
 * say `127.0.0.2.local.test` reach a scripted fake server (net.createServer in this test,
 * on 127.0.0.2 with the real server's port), those that say `127.0.0.1.local.test` reach
 * a real PostgreSQL 15 server on 127.0.0.1 (Linux routes all of 127/8 to lo). The fake
 * server reads the startup packet and plays the scenario named by its application_name:
 *
 * - during startup: close at once, reset, garbage instead of an authentication request,
 *   AuthenticationOk with a length of 2, a never-ending authentication message, an
 *   AuthenticationSASL whose mechanism list is garbage, an ErrorResponse without its
 *   terminator, 'X' as the answer to SSLRequest, and 'S' followed by plaintext bytes in
 *   the same packet (CVE-2021-23222: bytes injected before the TLS handshake);
 * - after a real-looking startup and the client's first Query: a RowDescription with a
 *   negative length, a DataRow cut short then close, an unknown message type followed by a
 *   normal answer (the session must go on), a reset mid-message, and a never-ending DataRow
 *   (pgscope forwards it as it comes, with bounded memory, until the client leaves).
 *
 * For each: the client gets an ErrorResponse or a clean close (never a hang), pgscope logs
 * a clear line about it, keeps running, and a real session through the same pgscope (one
 * long-lived node-postgres client over TLS, and a fresh psql after every scenario) gets
 * the right answers throughout. At the end pgscope's descriptors are back to the baseline.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { alive, connsByClientPort, fdCount, firstError, linesByConn, probe, rssMiB } from '../helpers/hardening.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { fe, RawClient } from '../helpers/raw-client.js';
import { startProxy, waitUntil } from '../helpers/traffic-util.js';
import { cstr, int16, int32, msg } from '../helpers/wire.js';

const T = { timeout: 120_000 };
const FAKE_HOST = '127.0.0.2';
const FAKE_SNI = `${FAKE_HOST}.local.test`;
const REAL_SNI = '127.0.0.1.local.test';

// ---------------------------------------------------------------- the fake server

const authOk = msg('R', int32(0));
const readyIdle = msg('Z', 'I');
const realLookingStartup = Buffer.concat([
  authOk,
  msg('S', cstr('server_version'), cstr('15.99 (fake)')),
  msg('S', cstr('client_encoding'), cstr('UTF8')),
  msg('S', cstr('integer_datetimes'), cstr('on')),
  msg('K', int32(4242), int32(0x1234567)),
  readyIdle,
]);
const rowDesc = msg('T', int16(1), cstr('n'), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0));
const dataRow = (v: string): Buffer => msg('D', int16(1), int32(Buffer.byteLength(v)), v);
const answer = (v: string): Buffer => Buffer.concat([rowDesc, dataRow(v), msg('C', cstr('SELECT 1')), readyIdle]);

type Play = (s: Socket, firstQuery: () => Promise<Buffer | null>) => void | Promise<void>;

const SCENARIOS: Record<string, { play: Play }> = {
  'close-at-once': { play: (s) => void s.end() },
  'reset-at-once': { play: (s) => void s.resetAndDestroy() },
  'garbage-instead-of-auth': { play: (s) => void s.end(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n\x00\x01\x02garbage')) },
  'auth-length-2': { play: (s) => void s.write(Buffer.from([0x52, 0, 0, 0, 2, 0, 0, 0, 0])) },
  'never-ending-auth': {
    play: (s) => {
      s.write(Buffer.from([0x52, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 10]));
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write(chunk)), 5);
      s.once('close', () => clearInterval(timer));
    },
  },
  'sasl-garbage': { play: (s) => void s.write(msg('R', int32(10), Buffer.from([0xff, 0xfe, 0x53, 0x43, 0x52, 0x41, 0x4d, 0x01, 0x02]))) },
  'sasl-garbage-continue': {
    play: (s) => {
      s.write(msg('R', int32(10), cstr('SCRAM-SHA-256'), Buffer.from([0])));
      // The client's SASLInitialResponse came with its startup: answer it.
      setTimeout(() => s.destroyed || s.write(msg('R', int32(11), Buffer.from('r=\xff\xfe,s=!!!,i=-5', 'latin1'))), 50);
    },
  },
  'error-without-terminator': { play: (s) => void s.end(msg('E', 'SFATAL\0C28000\0Mno terminator here')) },
  'bad-length-after-startup': {
    play: async (s, q) => {
      s.write(realLookingStartup);
      if (!(await q())) return;
      s.write(Buffer.concat([Buffer.from([0x54, 0xff, 0xff, 0xff, 0x00]), Buffer.alloc(40, 7)]));
      setTimeout(() => s.end(), 300);
    },
  },
  'truncated-then-close': {
    play: async (s, q) => {
      s.write(realLookingStartup);
      if (!(await q())) return;
      s.end(Buffer.concat([rowDesc, dataRow('x'.repeat(100)).subarray(0, 20)]));
    },
  },
  'unknown-type-then-normal': {
    play: async (s, q) => {
      s.write(realLookingStartup);
      if (!(await q())) return;
      s.write(Buffer.concat([msg('~', Buffer.from('what is this')), msg('\x01', Buffer.alloc(3)), answer('first')]));
      if (!(await q())) return;
      s.write(answer('second'));
    },
  },
  'reset-mid-message': {
    play: async (s, q) => {
      s.write(realLookingStartup);
      if (!(await q())) return;
      s.write(Buffer.concat([rowDesc, dataRow('y'.repeat(1000)).subarray(0, 300)]));
      setTimeout(() => s.resetAndDestroy(), 100);
    },
  },
  'never-ending-datarow': {
    play: async (s, q) => {
      s.write(realLookingStartup);
      if (!(await q())) return;
      s.write(Buffer.concat([rowDesc, Buffer.from([0x44, 0x7f, 0xff, 0xff, 0xf0, 0, 1, 0x7f, 0xff, 0xff, 0xe0])]));
      const chunk = Buffer.alloc(256 * 1024, 0x42);
      const pump = (): void => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    },
  },
};

interface FakeServer {
  server: Server;
  /** Connections the fake server accepted and that are still open. */
  open: Set<Socket>;
  /** Scenario names in the order they were played. */
  played: string[];
}

/**
 * A fake server on host:port. It answers SSLRequest/GSSENCRequest with `sslAnswer`
 * (default 'N'), then plays the scenario named by the startup's application_name.
 */
function startFake(host: string, port: number, sslAnswer: Buffer = Buffer.from('N')): Promise<FakeServer> {
  const open = new Set<Socket>();
  const played: string[] = [];
  const server = createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    let scenario: (typeof SCENARIOS)[string] | null = null;
    const queries: ((b: Buffer | null) => void)[] = [];
    const pendingQueries: Buffer[] = [];
    s.on('close', () => queries.splice(0).forEach((r) => r(null)));
    const firstQuery = (): Promise<Buffer | null> =>
      new Promise((resolve) => {
        const q = pendingQueries.shift();
        if (q) resolve(q);
        else if (s.destroyed) resolve(null);
        else queries.push(resolve);
      });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (!scenario) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          if (buf.length < len) return;
          const code = buf.readInt32BE(4);
          const packet = buf.subarray(0, len);
          buf = buf.subarray(len);
          if (code === 80877103 || code === 80877104) {
            s.write(sslAnswer);
            if (sslAnswer[0] !== 0x4e) return; // anything but 'N': the scenario is that answer
            continue;
          }
          const params = packet.subarray(8).toString('latin1').split('\0');
          const app = params[params.indexOf('application_name') + 1] ?? '';
          scenario = SCENARIOS[app] ?? null;
          played.push(app);
          if (!scenario) {
            s.end(msg('E', cstr('SFATAL'), cstr('C08P01'), cstr(`Mfake server: no scenario ${app}`), Buffer.from([0])));
            return;
          }
          void scenario.play(s, firstQuery);
          continue;
        }
        if (buf.length < 5) return;
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) return;
        const m = buf.subarray(0, 1 + len);
        buf = buf.subarray(1 + len);
        if (m[0] === 0x51) {
          const r = queries.shift();
          if (r) r(m);
          else pendingQueries.push(m);
        }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, open, played }));
  });
}

// ---------------------------------------------------------------- the test

interface Expect {
  /** Scenario (application_name) and the fake server's address. */
  name: string;
  host: string;
  /**
   * What the client sees: an ErrorResponse with this SQLSTATE from pgscope, then the close
   * ({ error }); the close with no word from pgscope, as when the server's stream broke
   * mid-message and an ErrorResponse cannot be inserted ('close'); or, when the fake
   * server keeps the connection open, pgscope forwarding what it got and closing the
   * server leg once the client leaves ('client-leaves').
   */
  client: { error: string } | 'close' | 'client-leaves';
  /** Lines of the connection's log that explain what went wrong (all must be there). */
  logged: RegExp[];
  /** More client bytes after the startup and the Query (an answer to the server's request). */
  more?: Buffer;
}

/** A framing problem in forwarded traffic, as the annotated log flags it. */
const FLAGGED = /-> client: !! |= UNPARSED|can no longer be decoded/;

const EXPECT: Expect[] = [
  { name: 'close-at-once', host: FAKE_HOST, client: { error: '08006' }, logged: [/server hung up/] },
  { name: 'reset-at-once', host: FAKE_HOST, client: { error: '08006' }, logged: [/server connection ended with an error: read ECONNRESET/] },
  { name: 'garbage-instead-of-auth', host: FAKE_HOST, client: { error: '08006' }, logged: [FLAGGED, /server hung up/] },
  { name: 'auth-length-2', host: FAKE_HOST, client: 'client-leaves', logged: [FLAGGED] },
  { name: 'never-ending-auth', host: FAKE_HOST, client: 'client-leaves', logged: [FLAGGED] },
  { name: 'sasl-garbage', host: FAKE_HOST, client: 'client-leaves', logged: [/AuthenticationSASL/, FLAGGED] },
  { name: 'sasl-garbage-continue', host: FAKE_HOST, client: 'client-leaves', logged: [/AuthenticationSASLContinue/], more: msg('p', cstr('SCRAM-SHA-256'), int32(8), 'n,,n=,r=') },
  { name: 'error-without-terminator', host: FAKE_HOST, client: 'close', logged: [/"E" = ErrorResponse/, FLAGGED, /server hung up/] },
  { name: 'ssl-answer-X', host: '127.0.0.3', client: { error: '08001' }, logged: [/the server answered SSLRequest with "X" instead of S or N/] },
  { name: 'ssl-S-then-plaintext', host: '127.0.0.4', client: { error: '08001' }, logged: [/the server sent 15 unencrypted byte\(s\) after agreeing to SSL/] },
  { name: 'bad-length-after-startup', host: FAKE_HOST, client: 'close', logged: [FLAGGED, /server hung up/] },
  { name: 'truncated-then-close', host: FAKE_HOST, client: 'close', logged: [/the connection ended in the middle of a "D" message from the server/] },
  { name: 'reset-mid-message', host: FAKE_HOST, client: 'close', logged: [/server connection ended with an error: read ECONNRESET/, /the connection ended in the middle of a "D" message from the server/] },
];

describe('a scripted fake server that misbehaves, behind the pgscope a real session uses', () => {
  let server: PgServer;
  let proxy: Pgscope;
  const fakes: FakeServer[] = [];

  before(async () => {
    server = await startPgServer({ version: 15, auth: 'trust', ssl: true });
    fakes.push(await startFake(FAKE_HOST, server.port));
    fakes.push(await startFake('127.0.0.3', server.port, Buffer.from('X')));
    fakes.push(await startFake('127.0.0.4', server.port, Buffer.concat([Buffer.from('S'), authOk, readyIdle])));
    proxy = await startProxy(['--server-connect-port', String(server.port), '--server-delete-suffix', '.local.test']);
  }, T);

  after(async () => {
    await proxy?.stop();
    for (const f of fakes) {
      for (const s of f.open) s.destroy();
      await new Promise((r) => f.server.close(r));
    }
    await server?.stop();
  }, T);

  /** A fresh real session (psql over TLS, routed by SNI to the real server). */
  const fresh = async (tag: string): Promise<void> => {
    const r = await server.psqlRun(`SELECT '${tag}'`, [], { host: REAL_SNI, port: proxy.port, params: { hostaddr: '127.0.0.1', sslmode: 'require' }, env: { PGCONNECT_TIMEOUT: '60' }, allowFailure: true });
    assert.equal(r.stdout.trim(), tag, `a fresh real session after ${tag}: ${r.stderr}`);
  };

  /** The log lines of the connection made from this client port, once it has ended. */
  const connLog = async (localPort: number, what: string): Promise<string[]> => {
    let lines: string[] = [];
    await waitUntil(
      () => {
        const log = proxy.output();
        const conns = connsByClientPort(log).get(localPort) ?? [];
        const by = linesByConn(log);
        lines = conns.flatMap((n) => by.get(n) ?? []);
        return lines.some((l) => / connection end$/.test(l));
      },
      20_000,
      `the end of ${what} in the log`,
    ).catch(() => {});
    return lines;
  };

  it('every malformed answer ends in an ErrorResponse or a clean close, logged; the real session is unharmed', T, async (t) => {
    await fresh('warm-up');
    await waitUntil(() => /^#1 {2}connection end$/m.test(proxy.output()), 20_000, 'the warm-up session to end');
    const baseFds = fdCount(proxy.child.pid!);

    const steady = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'postgres', database: 'postgres', application_name: 'steady', ssl: { rejectUnauthorized: false, servername: REAL_SNI } });
    steady.on('error', () => {});
    await steady.connect();
    let steadyQueries = 0;
    let steadyError: unknown = null;
    let running = true;
    const steadyLoop = (async () => {
      while (running && steadyError === null) {
        const k = steadyQueries++;
        try {
          const r = await steady.query('SELECT $1::int + 1 AS n, inet_server_addr()::text AS a', [k]);
          assert.deepEqual(r.rows[0], { n: k + 1, a: '127.0.0.1/32' });
        } catch (e) {
          steadyError = e;
        }
      }
    })();

    const failures: string[] = [];
    for (const e of EXPECT) {
      const hangs = e.client === 'client-leaves';
      const r = await probe({
        port: proxy.port,
        tls: 'ssl',
        servername: `${e.host}.local.test`,
        chunks: [Buffer.concat([fe.startup({ user: 'postgres', database: 'postgres', application_name: e.name }), fe.query('SELECT 1'), e.more ?? Buffer.alloc(0)])],
        close: 'wait-end',
        // Long enough for pgscope to answer and close; the hanging ones are left by the client.
        waitMs: hangs ? 1500 : 10_000,
      });
      const err = firstError(r.received);
      const lines = await connLog(r.localPort, e.name);
      const logText = lines.join('\n');
      t.diagnostic(`${e.name}: ${r.received.length} bytes back, ${r.peerClosedFirst ? 'closed by pgscope' : 'left by the client'}, ErrorResponse ${err ? `${err['C']} ${err['M']}` : 'none'}`);
      if (hangs) {
        if (r.peerClosedFirst) failures.push(`${e.name}: pgscope closed a connection whose server was still talking`);
        if (!r.closed) failures.push(`${e.name}: pgscope did not close the client after the client ended its side`);
      } else if (!r.peerClosedFirst) failures.push(`${e.name}: pgscope did not close the client within 10 s of the server's misbehaviour`);
      // pgscope's ErrorResponse may follow bytes it forwarded (garbage included): look for it anywhere.
      const told = err?.['C'] === (e.client as { error?: string }).error || (typeof e.client === 'object' && r.received.includes(Buffer.from(`SFATAL\0VFATAL\0C${e.client.error}\0`)));
      if (typeof e.client === 'object' && !told) failures.push(`${e.name}: expected an ErrorResponse ${e.client.error}, got ${JSON.stringify(r.received.toString('latin1').slice(0, 160))}`);
      for (const re of e.logged) if (!re.test(logText)) failures.push(`${e.name}: no log line matching ${re}:\n${lines.filter((l) => !/bytes forwarded/.test(l)).slice(-12).join('\n')}`);
      assert.ok(alive(proxy.child.pid!), `pgscope died on ${e.name}:\n${proxy.stderr()}`);
      await fresh(e.name);
    }

    // A server that keeps its session going after an unknown message type: the client gets
    // every byte and the session goes on.
    {
      const c = await RawClient.connect(proxy.port);
      c.send(fe.sslRequest());
      assert.equal(await c.readByte(), 'S');
      await c.startTls({ servername: FAKE_SNI });
      const res = await c.startup({ user: 'postgres', database: 'postgres', params: { application_name: 'unknown-type-then-normal' } });
      assert.equal(res.parameters['server_version'], '15.99 (fake)');
      c.send(fe.query('SELECT 1'));
      const first = await c.readUntilReady();
      assert.deepEqual(first.map((m) => m.type), ['~', '\x01', 'T', 'D', 'C', 'Z']);
      c.send(fe.query('SELECT 2'));
      const second = await c.readUntilReady();
      assert.ok(second.some((m) => m.type === 'D' && m.body.includes(Buffer.from('second'))));
      await c.terminate();
      await waitUntil(() => /"\\x01" = unknown|unknown message type|UNPARSED/.test(proxy.output()), 10_000, 'the unknown messages flagged in the log').catch(() =>
        failures.push(`unknown-type-then-normal: the unknown message types are not flagged in the log`),
      );
    }

    // A DataRow that never ends: forwarded as it comes (the client gets megabytes) with
    // pgscope's memory bounded; when the client leaves, the server leg is closed too.
    {
      const fake = fakes[0]!;
      const before = fake.open.size;
      const r = await probe({ port: proxy.port, tls: 'ssl', servername: FAKE_SNI, chunks: [Buffer.concat([fe.startup({ user: 'postgres', database: 'postgres', application_name: 'never-ending-datarow' }), fe.query('SELECT 1')])], close: 'wait-end', waitMs: 3000 });
      const rss = rssMiB(proxy.child.pid!);
      t.diagnostic(`never-ending-datarow: ${(r.received.length / 1e6).toFixed(0)} MB forwarded in 3 s, pgscope RSS ${rss.toFixed(0)} MiB`);
      if (r.received.length < 5e6) failures.push(`never-ending-datarow: only ${r.received.length} bytes reached the client in 3 s`);
      if (rss > 200) failures.push(`never-ending-datarow: pgscope's RSS is ${rss.toFixed(0)} MiB`);
      if (!r.closed) failures.push('never-ending-datarow: pgscope did not close the client after the client ended');
      await waitUntil(() => fake.open.size <= before, 15_000, 'the fake server connection closed').catch(() => failures.push('never-ending-datarow: pgscope kept the server leg open after the client left'));
    }

    running = false;
    await steadyLoop;
    await steady.end();
    assert.equal(steadyError, null, `the long-lived real session failed after ${steadyQueries} queries: ${String(steadyError)}`);
    t.diagnostic(`steady session: ${steadyQueries} queries`);

    // Nothing left open: the fake servers' connections and pgscope's descriptors.
    const openFake = (): number => fakes.reduce((a, f) => a + f.open.size, 0);
    await waitUntil(() => openFake() === 0, 20_000, 'no fake-server connection open').catch(() => failures.push(`${openFake()} fake-server connection(s) still open`));
    let fds = 0;
    await waitUntil(() => (fds = fdCount(proxy.child.pid!)) <= baseFds, 20_000, 'descriptors back').catch(() => failures.push(`pgscope has ${fds} descriptors open, ${baseFds} at the start`));
    assert.deepEqual(failures, []);
    assert.ok(alive(proxy.child.pid!), 'pgscope still runs');
  });
});
