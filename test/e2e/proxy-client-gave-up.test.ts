/**
 * Telling users why a client gave up (issue 11, item 7), with real clients through the
 * real pgscope process and a real PostgreSQL 15 server (ssl=on, SCRAM, so it offers
 * SCRAM-SHA-256-PLUS over TLS):
 *
 * - psql with sslmode=verify-full and a root that did not sign pgscope's certificate: libpq
 *   sends the TLS alert "unknown ca"; pgscope says the client rejected its certificate and
 *   the ways through (--client-ca with sslrootcert=$(pgscope ca --print-path), or the
 *   client's own setting). The same with --client-ca when the client is given another root.
 * - node-postgres with `ssl: true` (rejectUnauthorized) finishes the handshake, then hangs up
 *   without sending a byte: pgscope says that too, instead of a bare "connection end".
 * - psql's default channel_binding=prefer against the SCRAM-SHA-256-PLUS server, TLS on both
 *   legs: the server refuses the binding (to pgscope's certificate); pgscope says why and the
 *   ways through.
 * - `pgscope --help`'s second example, as printed: pgscope BACKEND -p PORT, then the psql line
 *   it shows, against this TLS + SCRAM server: it works.
 * - Status lines: "connected to server H:P" says "at" only when the address differs from the
 *   target as named; pgscope's own SSLRequest to the server is not "the client asks".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import pg from 'pg';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { freePort } from '../helpers/ports.js';
import { assertNone, connectionEnded, connHeads, connLines, psqlOk, psqlVia, runPgscope, Scopes } from '../helpers/tls-e2e.js';

const T = { timeout: 120_000 };

let server: PgServer;
let dir: string;
const scopes = new Scopes();
const backend = (): string => `127.0.0.1:${server.port}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-gave-up-'));
  server = await startPgServer({ version: 15, ssl: true });
});
afterEach(() => scopes.stopAll());
after(async () => {
  await scopes.stopAll();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a client that rejects pgscope\'s certificate', () => {
  it('psql sslmode=verify-full with a root that did not sign pgscope\'s self-signed certificate: the alert, what it means, the ways through', T, async () => {
    const p = await scopes.start([backend()]);
    // The test server's CA: a real root, just not pgscope's.
    const r = await psqlVia(server, p.port, 'SELECT 1', { host: 'localhost', params: { sslmode: 'verify-full', sslrootcert: server.caFile! } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate verify failed/);
    const heads = connHeads(await connectionEnded(p, 1), 1);
    const text = heads.join('\n');
    assert.match(text, /TLS handshake with the client failed: .*alert unknown ca/);
    assert.match(text, /the client rejected pgscope's certificate \((tlsv1 )?alert unknown ca\), self-signed, which a verifying client cannot trust/);
    assert.match(text, /--client-ca and have the client trust that CA \(libpq: sslmode=verify-full sslrootcert=\$\(pgscope ca --print-path\)\)/);
    assert.match(text, /sslmode=require instead of verify-ca\/verify-full; node-postgres: ssl: \{ rejectUnauthorized: false \}/);
  });

  it('with --client-ca, a client given another root: it is told to trust pgscope\'s local CA', T, async () => {
    const caDir = join(dir, 'ca');
    const p = await scopes.start([backend(), '--client-ca', '--ca-dir', caDir]);
    const r = await psqlVia(server, p.port, 'SELECT 1', { host: 'localhost', params: { sslmode: 'verify-full', sslrootcert: server.caFile! } });
    assert.notEqual(r.code, 0);
    const text = connHeads(await connectionEnded(p, 1), 1).join('\n');
    assert.match(text, /the client rejected pgscope's certificate \(.*unknown ca\), signed by pgscope's local CA \(--client-ca\), which the client does not trust \(or the certificate does not name the host[^)]*\): give it that CA as its root \(libpq: sslrootcert=\$\(pgscope ca --print-path\)/);
    // And told so, it works: the local CA as the root, its path as `pgscope ca --print-path` says (the control).
    const root = (await runPgscope(['ca', '--print-path', '--ca-dir', caDir])).stdout.trim();
    const ok = await psqlOk(server, p.port, 'SELECT 42', { host: 'localhost', params: { sslmode: 'verify-full', sslrootcert: root, channel_binding: 'disable' } });
    assert.equal(ok, '42');
    assertNone(connHeads(await connectionEnded(p, 2), 2), /rejected pgscope's certificate/);
  });

  it('psql verify-full against a certificate it trusts but that does not name the host: libpq hangs up right after the handshake; pgscope says why', T, async () => {
    // pgscope shows the test server's own certificate (localhost, 127.0.0.1), which the client trusts; the client asks for another name.
    const p = await scopes.start([backend(), '--client-ssl-cert', server.certFile!, '--client-ssl-key', server.keyFile!]);
    const r = await psqlVia(server, p.port, 'SELECT 1', { host: 'db.example.com', params: { hostaddr: '127.0.0.1', sslmode: 'verify-full', sslrootcert: server.caFile! } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /does not match host name "db\.example\.com"/);
    const text = connHeads(await connectionEnded(p, 1), 1).join('\n');
    assert.match(text, /connection established with client/);
    assert.match(text, /the client hung up right after the TLS handshake without sending a byte: it most likely rejected pgscope's certificate, given with --client-ssl-cert, which the client does not trust or which does not name the host it connected to/);
  });

  it('node-postgres with ssl: true hangs up during the handshake without an alert: pgscope says it most likely rejected the certificate', T, async () => {
    const p = await scopes.start([backend()]);
    const client = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'postgres', password: server.password, database: 'postgres', ssl: true, connectionTimeoutMillis: 30_000 });
    await assert.rejects(client.connect(), /self[- ]signed certificate/);
    await client.end().catch(() => {});
    const text = connHeads(await connectionEnded(p, 1), 1).join('\n');
    assert.match(text, /the client hung up during the TLS handshake, after pgscope had sent its certificate, without a TLS alert: it most likely rejected pgscope's certificate, self-signed/);
    assert.match(text, /node-postgres: ssl: \{ rejectUnauthorized: false \}/);
  });
});

describe('SCRAM channel binding refused by the server', () => {
  it('psql\'s default channel_binding=prefer, TLS on both legs: the server\'s refusal comes with what happened and the ways through', T, async () => {
    const p = await scopes.start([backend()]);
    const r = await psqlVia(server, p.port, 'SELECT 1', { params: { sslmode: 'require' } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SCRAM channel binding check failed/);
    const text = connHeads(await connectionEnded(p, 1), 1).join('\n');
    assert.match(text, /the server refused the client's SCRAM channel binding \(SCRAM channel binding check failed\): the client bound its proof to pgscope's certificate, not the server's/);
    assert.match(text, /Ways through: channel_binding=disable on the client; --override-auth \(pgscope authenticates to the server itself\); or --client-ssl-cert\/--client-ssl-key with the server's own certificate and key/);
    // The control: with channel_binding=disable the same client gets in, and nothing is hinted.
    assert.equal(await psqlOk(server, p.port, 'SELECT 7', { params: { sslmode: 'require', channel_binding: 'disable' } }), '7');
    assertNone(connHeads(await connectionEnded(p, 2), 2), /refused the client's SCRAM channel binding/);
  });
});

describe('--help', () => {
  it('the second example works as printed against a TLS + SCRAM server; the JSON-lines schema is where --help says', T, async () => {
    const help = (await runPgscope(['--help'])).stdout;
    assert.match(help.replace(/\s+/g, ' '), /--jsonl <path> one JSON object per event \(schema: docs\/jsonl\.md\)/);
    assert.doesNotMatch(help, /schema in the README/);
    const lines = help.split('\n');
    const at = lines.findIndex((l) => /^ {2}pgscope db\.example\.com:5432 -p 6432$/.test(l));
    assert.ok(at > 0, 'the example is in --help');
    const conninfo = /psql "([^"]+)"/.exec(lines[at + 1]!)?.[1];
    assert.ok(conninfo, `a psql line follows the example: ${lines[at + 1]}`);
    // As printed, with this machine's server, a free port, and the … filled in.
    const port = await freePort();
    const p = await scopes.start([backend(), '-p', String(port)], { noPort: true });
    const filled = conninfo.replace('port=6432', `port=${port}`).replace('user=…', 'user=postgres').replace('dbname=…', 'dbname=postgres');
    assert.doesNotMatch(filled, /…/);
    const r = await psqlVia(server, port, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', { params: Object.fromEntries(filled.split(' ').map((kv) => kv.split('=') as [string, string])) });
    assert.equal(r.code, 0, `psql "${filled}" through pgscope failed:\n${r.stderr}`);
    assert.equal(r.stdout.trim(), 't', 'pgscope reached the server over TLS');
    await connectionEnded(p, 1);
  });
});

describe('status lines say each thing once', () => {
  it('"connected to server" names the address only when it differs; pgscope\'s own SSLRequest is not "the client asks"', T, async () => {
    const p = await scopes.start([backend()]);
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { params: { sslmode: 'require', channel_binding: 'disable' } }), '1');
    const lines = connLines(await connectionEnded(p, 1), 1);
    assert.ok(lines.includes(`#1  connected to server 127.0.0.1:${server.port}`), lines.join('\n'));
    const own = lines.find((l) => /script -> server: .*SSL request code/.test(l));
    assert.ok(own, 'pgscope\'s SSLRequest to the server is logged');
    assert.doesNotMatch(own, /the client asks/);
    assert.match(own, /asks the server to switch to TLS/);

    const named = await scopes.start([`localhost:${server.port}`, '--server-sslmode', 'disable']);
    await psqlVia(server, named.port, 'SELECT 1', { params: { sslmode: 'disable' } });
    assert.match(connHeads(await connectionEnded(named, 1), 1).join('\n'), new RegExp(`^#1  connected to server localhost:${server.port} at (127\\.0\\.0\\.1|\\[::1\\]):${server.port}$`, 'm'));
  });
});
