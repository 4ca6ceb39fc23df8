/**
 * --client-ca end to end: `pgscope ca --print-path` makes the local CA and prints its
 * certificate's path; the real pgscope (bin/pgscope.js) then shows clients certificates
 * signed by it, so real libpq clients (Debian's psql 15, and libpq 18 with direct TLS)
 * pass sslmode=verify-full with sslrootcert=that file, for localhost, 127.0.0.1 and an
 * SNI name; with another root they fail certificate verification.
 *
 * The server is PostgreSQL 15 with TLS and SCRAM: every connection uses
 * channel_binding=disable (SCRAM-SHA-256-PLUS through a man in the middle fails by design).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { libpq18Env, startPgServer, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { plainEnv, psqlOk, psqlVia, runPgscope, Scopes } from '../helpers/tls-e2e.js';

const T = { timeout: 120_000 };
const SSL_IN_USE = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

let server: PgServer;
let dir: string;
let caDir: string;
let caFile: string;
const scopes = new Scopes();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-local-ca-'));
  caDir = join(dir, 'ca');
  caFile = join(caDir, 'pgscope-ca.crt');
  server = await startPgServer({ version: 15, ssl: true });
});

after(async () => {
  await scopes.stopAll();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('pgscope ca', () => {
  it('--print-path creates the CA on first use (saying so on stderr) and prints just the path; the next run only prints it', T, async () => {
    const first = await runPgscope(['ca', '--print-path', '--ca-dir', caDir], plainEnv());
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${caFile}\n`);
    assert.match(first.stderr, new RegExp(`created a new CA in ${caDir}`));
    assert.equal(statSync(caDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(caDir, 'pgscope-ca.key')).mode & 0o777, 0o600);
    assert.equal(new X509Certificate(readFileSync(caFile)).ca, true);

    const again = await runPgscope(['ca', '--print-path'], plainEnv({ PGSCOPE_CA_DIR: caDir }));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `${caFile}\n`, '$PGSCOPE_CA_DIR names the folder too');
    assert.equal(again.stderr, '');
  });

  it('without --print-path describes the CA and how to use it', T, async () => {
    const r = await runPgscope(['ca', '--ca-dir', caDir], plainEnv());
    assert.equal(r.code, 0, r.stderr);
    const fp = new X509Certificate(readFileSync(caFile)).fingerprint256;
    assert.ok(r.stdout.includes(caFile), r.stdout);
    assert.ok(r.stdout.includes(fp), r.stdout);
    assert.match(r.stdout, /CN=pgscope local CA \(/);
    assert.match(r.stdout, new RegExp(`pgscope --client-ca --ca-dir ${caDir}`));
    assert.ok(r.stdout.includes(`sslmode=verify-full sslrootcert=${caFile}`), r.stdout);
  });

  it('a group-readable CA folder is refused with status 1 and the fix', T, async () => {
    const bad = join(dir, 'wide');
    assert.equal((await runPgscope(['ca', '--print-path', '--ca-dir', bad], plainEnv())).code, 0);
    chmodSync(bad, 0o750);
    const r = await runPgscope(['ca', '--print-path', '--ca-dir', bad], plainEnv());
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^pgscope: the CA folder .* chmod 700 /);
  });
});

describe('pgscope --client-ca with real libpq clients and sslmode=verify-full', () => {
  let p: Pgscope;
  before(async () => {
    // --server-sslnegotiation postgres: PostgreSQL 15 knows no direct TLS, and the libpq 18 case uses it on the client leg.
    p = await scopes.start(['--client-ca', '--ca-dir', caDir, '--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslnegotiation', 'postgres']);
  });

  const verifyFull = (root: string): Record<string, string> => ({ sslmode: 'verify-full', sslrootcert: root, channel_binding: 'disable' });

  it('uses the CA that `pgscope ca` made', T, async () => {
    assert.match(p.output(), new RegExp(`using the local CA in ${caDir}`));
  });

  it('psql 15, host=localhost: verified', T, async () => {
    assert.equal(await psqlOk(server, p.port, SSL_IN_USE, { host: 'localhost', params: verifyFull(caFile) }), 't');
  });

  it('psql 15, host=127.0.0.1 (no SNI; libpq wants an IP address SAN): verified', T, async () => {
    assert.equal(await psqlOk(server, p.port, SSL_IN_USE, { host: '127.0.0.1', params: verifyFull(caFile) }), 't');
  });

  it('psql 15, another host name sent as SNI (hostaddr 127.0.0.1): a leaf for that name, verified', T, async () => {
    assert.equal(await psqlOk(server, p.port, SSL_IN_USE, { host: 'db.pgscope-test.example', params: { ...verifyFull(caFile), hostaddr: '127.0.0.1' } }), 't');
  });

  it('psql 15 trusting another root (the server’s own CA): certificate verification fails', T, async () => {
    const r = await psqlVia(server, p.port, 'SELECT 1', { host: 'localhost', params: verifyFull(server.caFile!) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate verify failed/);
  });

  it('libpq 18, sslnegotiation=direct, host=localhost: verified', T, async () => {
    assert.equal(await psqlOk(server, p.port, SSL_IN_USE, { host: 'localhost', params: { ...verifyFull(caFile), sslnegotiation: 'direct' }, env: libpq18Env() }), 't');
    // The log is written in batches (within 50 ms): wait for the line rather than read it at once.
    await p.waitFor(/connection established with client \(direct TLS\)/);
  });
});
