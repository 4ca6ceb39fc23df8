/**
 * The harness itself: each server version starts, answers psql, and stops cleanly; the
 * tap forwards bytes unchanged (1 MB each way through COPY, compared by MD5 with a
 * direct run) and records exactly what it forwarded.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

/** No test or hook may hang the suite: each gets this long. */
const T = { timeout: 120_000 };
import { startPgServer, startPgServers, type PgServer } from '../helpers/pg-server.js';
import { portAnswers } from '../helpers/ports.js';
import { startTap } from '../helpers/tap.js';

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

describe('startPgServer', () => {
  for (const version of [15, 18] as const) {
    it(`PostgreSQL ${version} starts, answers psql over TCP with SCRAM, and stops cleanly`, T, async (t) => {
      const t0 = Date.now();
      const server = await startPgServer({ version });
      const started = Date.now() - t0;
      let stopped = false;
      try {
        // Debian's server is 15 on bookworm; another release may ship another (pre-18) major.
        if (version === 18) assert.equal(server.version, 18);
        else assert.ok(server.version < 18, `Debian's server is ${server.versionString}`);
        assert.equal(server.host, '127.0.0.1');
        assert.match(server.versionString, new RegExp(`^PostgreSQL ${server.version}\\.\\d+$`));
        const row = await server.psql("SELECT current_setting('server_version_num')::int / 10000, current_setting('wal_level'), current_setting('listen_addresses'), current_user");
        assert.equal(row, `${server.version}|logical|127.0.0.1|postgres`);
        const auth = await server.psql('SELECT auth_method FROM pg_hba_file_rules WHERE type = $$host$$ LIMIT 1');
        assert.equal(auth, 'scram-sha-256');
        // The non-superuser logs in with the same password.
        assert.equal(await server.psql('SELECT current_user', [], { user: server.user.name, db: server.user.name }), server.user.name);
        // A wrong password is refused (the server really checks).
        const bad = await server.psqlRun('SELECT 1', [], { password: 'wrong', allowFailure: true });
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /password authentication failed/);
        const t1 = Date.now();
        await server.stop();
        stopped = true;
        const stopMs = Date.now() - t1;
        assert.equal(await portAnswers(server.port), false, 'nothing listens after stop()');
        assert.equal(existsSync(server.baseDir), false, 'the temporary folder is gone');
        t.diagnostic(`${server.versionString}: start ${started} ms, stop ${stopMs} ms`);
      } finally {
        if (!stopped) await server.stop();
      }
    });
  }

  it('md5 and cleartext password authentication, and ssl=on with a certificate for localhost', T, async () => {
    const [md5Server, pwServer, sslServer] = (await startPgServers([
      { version: 15, auth: 'md5' },
      { version: 18, auth: 'password' },
      { version: 18, ssl: true },
    ])) as [PgServer, PgServer, PgServer];
    try {
      assert.match(await md5Server.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'"), /^md5[0-9a-f]{32}$/);
      assert.equal(await pwServer.psql('SELECT 1'), '1');
      assert.ok(sslServer.caFile && sslServer.certFile && sslServer.keyFile);
      const tls = await sslServer.psql('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [], {
        host: 'localhost',
        params: { sslmode: 'verify-full', sslrootcert: sslServer.caFile! },
      });
      assert.equal(tls, 't');
    } finally {
      await Promise.all([md5Server.stop(), pwServer.stop(), sslServer.stop()]);
    }
  });
});

describe('startTap', () => {
  let server: PgServer;
  before(async () => {
    server = await startPgServer({ version: 15 });
    await server.psql('CREATE TABLE bulk (n int, h text)');
  }, T);
  after(async () => {
    await server?.stop();
  }, T);

  // About 1.1 MB of COPY text: 30 000 lines of "n<TAB>md5(n)".
  const COPY_OUT = 'COPY (SELECT g, md5(g::text) FROM generate_series(1, 30000) AS g) TO STDOUT';

  it('forwards 1 MB of COPY TO STDOUT byte for byte and records every byte', T, async () => {
    const direct = await server.psqlRun(COPY_OUT, [], { params: { sslmode: 'disable' } });
    assert.ok(direct.stdoutBytes.length > 1_000_000, `COPY output is ${direct.stdoutBytes.length} bytes`);
    const tap = await startTap({ host: server.host, port: server.port });
    try {
      const via = await server.psqlRun(COPY_OUT, [], { port: tap.port, params: { sslmode: 'disable' } });
      await tap.idle();
      assert.equal(md5(via.stdoutBytes), md5(direct.stdoutBytes));
      const backend = tap.chunks.filter((c) => c.dir === 'backend').reduce((n, c) => n + c.bytes.length, 0);
      // Every line travels in its own CopyData (5 header bytes) besides the text.
      assert.ok(backend > direct.stdoutBytes.length + 30_000 * 5, `recorded ${backend} backend bytes`);
      assert.equal(tap.connections.length, 1);
      assert.ok(tap.chunks.every((c, i) => i === 0 || c.t >= tap.chunks[i - 1]!.t), 'chunks in arrival order');
    } finally {
      await tap.close();
    }
  });

  it('forwards 1 MB of COPY FROM STDIN byte for byte', T, async () => {
    const lines: string[] = [];
    for (let n = 1; n <= 30_000; n++) lines.push(`${n}\t${md5(String(n * 7))}`);
    const input = lines.join('\n') + '\n';
    assert.ok(input.length > 1_000_000);
    const tap = await startTap({ host: server.host, port: server.port });
    try {
      await server.psql('COPY bulk FROM STDIN', [], { port: tap.port, input, params: { sslmode: 'disable' } });
      await tap.idle();
      const frontend = tap.chunks.filter((c) => c.dir === 'frontend').reduce((n, c) => n + c.bytes.length, 0);
      assert.ok(frontend > input.length, `recorded ${frontend} frontend bytes`);
    } finally {
      await tap.close();
    }
    const back = await server.psqlRun('COPY bulk TO STDOUT');
    assert.equal(md5(back.stdoutBytes), md5(input));
  });

  it('close() ends open connections', T, async () => {
    const tap = await startTap({ host: server.host, port: server.port });
    const pending = server.psqlRun('SELECT pg_sleep(30)', [], { port: tap.port, allowFailure: true, params: { sslmode: 'disable' } });
    const until = Date.now() + 10_000;
    while (!(tap.connections.length && tap.connections[0]!.chunks.some((c) => c.dir === 'frontend' && c.bytes.includes('pg_sleep')))) {
      if (Date.now() > until) throw new Error('the query never went through the tap');
      await new Promise((r) => setTimeout(r, 20));
    }
    await tap.close();
    const r = await pending;
    assert.notEqual(r.code, 0, 'psql loses its connection');
    assert.equal(await portAnswers(tap.port), false);
  });
});
