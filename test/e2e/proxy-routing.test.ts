/**
 * Where the live proxy listens and where it connects, end to end (real psql, the real
 * pgscope process, a real PostgreSQL 15 server with TLS listening on 127.0.0.1 and ::1):
 * SNI routing with the default and a custom suffix, a fixed --server-host, the positional
 * BACKEND (IPv4 and [IPv6]:port), a chosen listening port, an IPv6 client leg, and the
 * self-loop refusal (at startup and per connection) with its --allow-self-loop override.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { freePort, portAnswers, waitForPort } from '../helpers/ports.js';
import { startTap, type Tap } from '../helpers/tap.js';
import { assertInOrder, assertNone, connectionEnded, connHeads, psqlOk, psqlVia, runPgscope, Scopes, WAIT_MS } from '../helpers/tls-e2e.js';

const T = { timeout: 120_000 };
/** TLS to pgscope without channel binding (a MITM breaks SCRAM-SHA-256-PLUS). */
const TLS = { sslmode: 'require', channel_binding: 'disable' } as const;

let server: PgServer;
let tap: Tap;
const scopes = new Scopes();

before(async () => {
  server = await startPgServer({ version: 15, ssl: true, settings: { listen_addresses: "'127.0.0.1,::1'" }, hba: ['host all all ::1/128 scram-sha-256'] });
  // A recording pass-through in front of the server: shows what pgscope sent on the server leg.
  tap = await startTap({ host: '127.0.0.1', port: server.port });
});

afterEach(() => scopes.stopAll());

after(async () => {
  await scopes.stopAll();
  await tap?.close();
  await server?.stop();
});

/** The SNI name in the first TLS ClientHello pgscope sent through the tap on connection `conn`, if any. */
function sniSentToServer(conn: number): string | null {
  const bytes = Buffer.concat(tap.conversation(conn).filter((c) => c.dir === 'frontend').map((c) => c.bytes));
  // Skip the SSLRequest (8 bytes); then a TLS record: type 0x16, version, length; handshake type 1.
  let i = bytes.indexOf(Buffer.from([0x16, 0x03]));
  if (i < 0 || bytes[i + 5] !== 0x01) return null;
  i += 5 + 4 + 2 + 32; // record header, handshake header, client version, random
  i += 1 + bytes[i]!; // session id
  i += 2 + bytes.readUInt16BE(i); // cipher suites
  i += 1 + bytes[i]!; // compression methods
  const end = i + 2 + bytes.readUInt16BE(i);
  i += 2;
  while (i + 4 <= end) {
    const type = bytes.readUInt16BE(i);
    const len = bytes.readUInt16BE(i + 2);
    if (type === 0) {
      // server_name: list length, name type (0 = host_name), name length, name
      const nameLen = bytes.readUInt16BE(i + 4 + 3);
      return bytes.subarray(i + 4 + 5, i + 4 + 5 + nameLen).toString('latin1');
    }
    i += 4 + len;
  }
  return null;
}

describe('routing by SNI', () => {
  it('default suffix: host=localhost.local.neon.build → pgscope connects to localhost and sends SNI localhost onward', T, async () => {
    tap.clear();
    const before = tap.connections.length;
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-connect-port', String(tap.port)]);
    assert.match(p.output(), /forwarding to the SNI name minus "\.local\.neon\.build" \(else localhost\)/);
    const out = await psqlOk(server, p.port, 'SELECT 1', { host: 'localhost.local.neon.build', params: { ...TLS, hostaddr: '127.0.0.1' } });
    assert.equal(out, '1');
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [
      /^#1  server name via SNI: localhost\.local\.neon\.build$/,
      new RegExp(`^#1  connecting to server localhost:${tap.port} \\(SNI name localhost\\.local\\.neon\\.build minus suffix \\.local\\.neon\\.build\\)$`),
      new RegExp(`^#1  connected to server localhost:${tap.port} at 127\\.0\\.0\\.1:${tap.port}$`),
      /connection established with server/,
    ]);
    await tap.idle(WAIT_MS);
    assert.equal(sniSentToServer(before), 'localhost', 'the stripped name is the server leg\'s SNI');

    // A name without the suffix is used as it is.
    assert.equal(await psqlOk(server, p.port, 'SELECT 2', { host: 'localhost', params: TLS }), '2');
    assert.match(connHeads(await connectionEnded(p, 2), 2).join('\n'), new RegExp(`connecting to server localhost:${tap.port} \\(SNI name localhost\\)`));
  });

  it('custom --server-delete-suffix .b.cd: host=localhost.b.cd → localhost; the default suffix is then not removed', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-delete-suffix', '.b.cd', '--server-connect-port', String(server.port)]);
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { host: 'localhost.b.cd', params: { ...TLS, hostaddr: '127.0.0.1' } }), '1');
    assertInOrder(connHeads(await connectionEnded(p, 1), 1), [/server name via SNI: localhost\.b\.cd$/, new RegExp(`connecting to server localhost:${server.port} \\(SNI name localhost\\.b\\.cd minus suffix \\.b\\.cd\\)`)]);
    // localhost.local.neon.build is not a name pgscope can reach once the suffix differs.
    const r = await psqlVia(server, p.port, 'SELECT 1', { host: 'localhost.local.neon.build', params: { ...TLS, hostaddr: '127.0.0.1' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pgscope: could not connect to server localhost\.local\.neon\.build:\d+/);
    await connectionEnded(p, 2);
  });

  it('no SNI (libpq sends none for an IP address): localhost', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-connect-port', String(server.port)]);
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { host: '127.0.0.1', params: TLS }), '1');
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/^#1  no SNI from the client$/, new RegExp(`connecting to server localhost:${server.port} \\(no --server-host and no SNI name\\)`)]);
  });
});

describe('fixed server', () => {
  it('--server-host wins over the SNI name', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--server-host', '127.0.0.1', '--server-connect-port', String(server.port)]);
    assert.match(p.output(), new RegExp(`forwarding to 127\\.0\\.0\\.1:${server.port},`));
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { host: 'elsewhere.local.neon.build', params: { ...TLS, hostaddr: '127.0.0.1' } }), '1');
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/server name via SNI: elsewhere\.local\.neon\.build/, new RegExp(`connecting to server 127\\.0\\.0\\.1:${server.port} \\(fixed by --server-host\\)`)]);
  });

  it('positional BACKEND 127.0.0.1:PORT', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', `127.0.0.1:${server.port}`]);
    assert.match(p.output(), new RegExp(`forwarding to 127\\.0\\.0\\.1:${server.port},`));
    assert.equal(await psqlOk(server, p.port, 'SELECT inet_client_addr()', { params: TLS }), '127.0.0.1');
  });

  it('positional BACKEND [::1]:PORT reaches the server over IPv6', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', `[::1]:${server.port}`]);
    assert.match(p.output(), new RegExp(`forwarding to \\[::1\\]:${server.port},`));
    assert.equal(await psqlOk(server, p.port, 'SELECT inet_client_addr()', { params: TLS }), '::1');
    // The address is the target as named: said once, not "[::1]:P at [::1]:P".
    assert.match(connHeads(await connectionEnded(p, 1), 1).join('\n'), new RegExp(`connected to server \\[::1\\]:${server.port}$`, 'm'));
  });
});

describe('the listening side', () => {
  it('-p PORT listens on that port', T, async () => {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const p = await scopes.start(['--client-cert-sig', 'ecdsa', '-p', String(port), `127.0.0.1:${server.port}`], { waitListening: false });
      try {
        await p.waitFor(/listening on /, WAIT_MS);
      } catch (e) {
        // Someone took the port between freePort() and pgscope's bind: try another.
        if (attempt < 3 && /already in use/.test(p.stderr())) continue;
        throw e;
      }
      assert.match(p.output(), new RegExp(`^listening on 127\\.0\\.0\\.1:${port}, forwarding to 127\\.0\\.0\\.1:${server.port}, server sslmode prefer$`, 'm'));
      assert.equal(await psqlOk(server, port, 'SELECT 1', { params: TLS }), '1');
      return;
    }
  });

  it('--client-listen-ip ::1: an IPv6 client leg', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--client-listen-ip', '::1', `127.0.0.1:${server.port}`]);
    assert.match(p.output(), new RegExp(`^listening on \\[::1\\]:${p.port},`, 'm'));
    assert.equal(await portAnswers(p.port, '127.0.0.1'), false, 'not listening on IPv4');
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { host: '::1', params: TLS }), '1');
    // The IPv4 probe above never reached pgscope: psql's connection is #1.
    assertInOrder(connHeads(await connectionEnded(p, 1), 1), [/^#1  connected from \[::1\]:\d+ at t0 = /, /connection established with client/, /server -> client: "Z" = ReadyForQuery/]);
  });
});

describe('self-loop', () => {
  it('--server-host 127.0.0.1 (or localhost) --server-connect-port <own port> is refused at startup', T, async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const port = await freePort();
      const r = await runPgscope(['--bw', '--client-cert-sig', 'ecdsa', '-p', String(port), '--server-host', host, '--server-connect-port', String(port)]);
      assert.equal(r.code, 2, `${host}: refused as a mistake in the command line`);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
      assert.match(lines[0]!, new RegExp(`^pgscope: refusing to connect to ${host}:${port} \\(127\\.0\\.0\\.1\\), which is pgscope's own listening address.*--allow-self-loop`));
      assert.doesNotMatch(r.stdout, /listening on/);
      assert.equal(await portAnswers(port), false, 'the port was released');
    }
  });

  it('--allow-self-loop: not refused at startup', T, async () => {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--allow-self-loop', '-p', String(port), '--server-host', '127.0.0.1', '--server-connect-port', String(port)], { waitListening: false });
      try {
        await p.waitFor(/listening on /, WAIT_MS);
      } catch (e) {
        if (attempt < 3 && /already in use/.test(p.stderr())) continue;
        throw e;
      }
      assert.match(p.output(), new RegExp(`listening on 127\\.0\\.0\\.1:${port}, forwarding to 127\\.0\\.0\\.1:${port}`));
      await waitForPort(port);
      assert.equal(p.child.exitCode, null);
      // No client is connected: it would forward to itself without end, as asked.
      assert.equal(await p.stop(), 0);
      return;
    }
  });

  it('a route to itself found per connection (SNI name → own address and port) is refused for that connection only', T, async () => {
    const port = await freePort();
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '-p', String(port), '--server-connect-port', String(port)]);
    const r = await psqlVia(server, port, 'SELECT 1', { host: 'localhost.local.neon.build', params: { ...TLS, hostaddr: '127.0.0.1' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`FATAL: {1,2}pgscope: could not connect to server localhost:${port}: refusing to connect to localhost:${port} \\(127\\.0\\.0\\.1\\), which is pgscope's own listening address`));
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [/connecting to server localhost:/, /refusing to connect/, /script -> client: "E" = ErrorResponse/, /connection end/]);
    assertNone(heads, /connected to server/);
    assertNone(p.output().split('\n'), /^#2 /, 'no second connection: nothing looped');
    assert.equal(p.child.exitCode, null);
  });
});
