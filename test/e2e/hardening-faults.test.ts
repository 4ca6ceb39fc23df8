/**
 * Hardening: faults around a running pgscope (the real process, annotated logging to a
 * file, a real PostgreSQL 15 server):
 *
 * - the server restarted (`pg_ctl restart -m fast`) under pgbench and psql traffic: the
 *   clients get errors, pgscope serves new connections once the server is back;
 * - a client SIGKILLed in the middle of COPY FROM STDIN, and in the middle of COPY TO
 *   STDOUT: pgscope closes the server leg (the backend leaves pg_stat_activity) and serves on;
 * - a client that stops reading a large result: the server ends up blocked writing
 *   (wait_event ClientWrite) while pgscope's resident memory stays under 200 MiB: it
 *   applies back-pressure instead of buffering the result;
 * - a log file that cannot be opened (`--logfile /nonexistent/dir/x.log`): exit status 2
 *   and one clear line; a log file that cannot be written (`-l /dev/full`, open succeeds
 *   and every write fails with ENOSPC) and one that fails later (a 256 KiB file size limit,
 *   EFBIG once the log reaches it): one warning on stderr, and forwarding goes on;
 * - a log file truncated from outside while pgscope runs (logrotate's copytruncate), with
 *   and without -c: pgscope must go on writing at the start of the file, not at its old
 *   offset behind a hole of NUL bytes.
 *
 * After all of it pgscope's descriptors are back to where they were and its memory is
 * bounded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alive, fdCount, otherBackends, rssMiB } from '../helpers/hardening.js';
import { clientBin, psqlBin, startPgServer, type PgServer } from '../helpers/pg-server.js';
import { PGSCOPE_BIN } from '../helpers/pgscope.js';
import { freePort, portAnswers } from '../helpers/ports.js';
import { run } from '../helpers/proc.js';
import { fe } from '../helpers/raw-client.js';
import { background, clientEnv, conninfo, startPgscopeLogfile, waitActive, waitUntil, type Background, type FileLoggedPgscope } from '../helpers/traffic-util.js';
import { pgCtl } from '../helpers/traffic-servers.js';

const T = { timeout: 120_000 };
const MAX_RSS_MIB = 200;

describe('faults around a running pgscope', () => {
  let server: PgServer;
  let proxy: FileLoggedPgscope;
  let dir: string;
  let baseFds = 0;

  const viaProxy = (sql: string, app: string): Promise<string> =>
    server.psql(sql, [], { port: proxy.port, params: { sslmode: 'disable', application_name: app }, env: { PGCONNECT_TIMEOUT: '60' }, timeoutMs: 60_000 });
  const backendsOf = (app: string): Promise<number> => otherBackends(server, `application_name = '${app}'`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgscope-faults-'));
    server = await startPgServer({ version: 15, auth: 'trust', settings: { max_connections: '60' } });
    await server.psql('CREATE TABLE sink (id int, pad text)', [], { db: 'postgres' });
    proxy = await startPgscopeLogfile(['--server-host', server.host, '--server-connect-port', String(server.port), '--server-sslmode', 'disable'], join(dir, 'pgscope.log'));
    assert.equal(await viaProxy('SELECT 1', 'warm-up'), '1');
    await waitUntil(() => /^#1 {2}connection end$/m.test(proxy.log()), 20_000, 'the warm-up session to end');
    baseFds = fdCount(proxy.pid);
  }, T);

  after(async () => {
    await proxy?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, T);

  it('the server restarted under pgbench and psql: clients get errors, pgscope serves new connections after', T, async (t) => {
    const init = await run(clientBin('pgbench'), ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', 'postgres'], { env: clientEnv(server), timeoutMs: 60_000 });
    assert.equal(init.code, 0);
    const env = clientEnv(server, { PGSSLMODE: 'disable', PGAPPNAME: 'bench' });
    const bench = background(clientBin('pgbench'), ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-c', '4', '-T', '30', '-S', 'postgres'], env, { discardStdout: true });
    const loop = background(psqlBin(), ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', conninfo({ host: '127.0.0.1', port: proxy.port, user: 'postgres', dbname: 'postgres', sslmode: 'disable', application_name: 'looper' }), '-c', 'SELECT pg_sleep(30)'], env);
    await waitActive(server, 'looper');
    await waitUntil(async () => (await backendsOf('bench')) === 4, 30_000, 'four pgbench backends');
    await pgCtl(server, 'restart', '-m', 'fast');

    const kill = setTimeout(() => (bench.kill(), loop.kill()), 60_000);
    const [benchCode, loopCode] = await Promise.all([bench.exited, loop.exited]);
    clearTimeout(kill);
    t.diagnostic(`pgbench exit ${benchCode}: ${bench.output().split('\n').filter((l) => /error|abort|FATAL/i.test(l)).slice(0, 3).join(' | ')}`);
    assert.notEqual(benchCode, 0, 'pgbench noticed the restart');
    assert.match(bench.output(), /57P01|terminating connection due to administrator command|08006|server closed the connection/);
    assert.notEqual(loopCode, 0);
    assert.match(loop.output(), /57P01|terminating connection due to administrator command|08006|server closed the connection/, loop.output());

    // Served again, plaintext and TLS; nothing of the old sessions left anywhere.
    assert.equal(await viaProxy("SELECT 'after restart'", 'after-restart'), 'after restart');
    const tls = await server.psql('SELECT 2', [], { port: proxy.port, params: { sslmode: 'require' }, env: { PGCONNECT_TIMEOUT: '60' } });
    assert.equal(tls, '2');
    assert.ok(alive(proxy.pid));
    await waitUntil(() => fdCount(proxy.pid) <= baseFds, 20_000, `pgscope's descriptors back to ${baseFds} (now ${fdCount(proxy.pid)})`);
  });

  /** Start psql in the background through pgscope with this stdin (a pipe we control). */
  function psqlWithStdin(sql: string, app: string): { bg: Background; stdin: NodeJS.WritableStream } {
    const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo({ host: '127.0.0.1', port: proxy.port, user: 'postgres', dbname: 'postgres', sslmode: 'disable', application_name: app }), '-c', sql];
    const child = spawn(psqlBin(), args, { env: clientEnv(server), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', () => {});
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stdin.on('error', () => {});
    const exited = new Promise<number | string>((r) => child.once('close', (code, sig) => r(code ?? sig ?? 'unknown')));
    const bg: Background = { child, output: () => out, exited, interrupt: async () => (child.kill('SIGINT'), exited), kill: () => child.kill('SIGKILL') };
    return { bg, stdin: child.stdin };
  }

  it('a client SIGKILLed mid-COPY FROM STDIN: the server leg is closed, pgscope serves on', T, async () => {
    const { bg, stdin } = psqlWithStdin('COPY sink FROM STDIN', 'copy-in-killed');
    // Rows keep coming, then stop without the end-of-data marker: the COPY is in progress.
    for (let i = 0; i < 2000; i++) stdin.write(`${i}\t${'p'.repeat(200)}\n`);
    await waitActive(server, 'copy-in-killed', 30_000, 'COPY%');
    await waitUntil(() => /copy-in-killed[\s\S]*"d" = CopyData/.test(proxy.log()), 30_000, 'CopyData in the log');
    bg.kill();
    await bg.exited;
    await waitUntil(async () => (await backendsOf('copy-in-killed')) === 0, 20_000, 'the COPY FROM backend to leave pg_stat_activity');
    assert.equal(await server.psql("SELECT count(*) FROM sink WHERE pad LIKE 'p%'"), '0', 'the interrupted COPY committed nothing');
    assert.equal(await viaProxy("SELECT 'after copy in'", 'after-copy-in'), 'after copy in');
    assert.ok(alive(proxy.pid));
  });

  it('a client SIGKILLed mid-COPY TO STDOUT: the server leg is closed, pgscope serves on', T, async () => {
    const { bg } = psqlWithStdin("COPY (SELECT g, repeat('o', 500) FROM generate_series(1, 50000000) g) TO STDOUT", 'copy-out-killed');
    await waitActive(server, 'copy-out-killed', 30_000, 'COPY%');
    await waitUntil(() => (proxy.log().match(/"d" = CopyData/g) ?? []).length > 1000, 30_000, 'CopyData flowing through pgscope');
    bg.kill();
    await bg.exited;
    await waitUntil(async () => (await backendsOf('copy-out-killed')) === 0, 20_000, 'the COPY TO backend to leave pg_stat_activity');
    assert.equal(await viaProxy("SELECT 'after copy out'", 'after-copy-out'), 'after copy out');
    assert.ok(alive(proxy.pid));
  });

  it(`a client that stops reading a large result: the server blocks, pgscope stays under ${MAX_RSS_MIB} MiB`, T, async (t) => {
    const s = new Socket();
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(proxy.port, '127.0.0.1', () => resolve());
    });
    s.on('error', () => {});
    // 4 GB of result; the client reads nothing at all.
    s.pause();
    s.write(Buffer.concat([fe.startup({ user: 'postgres', database: 'postgres', application_name: 'stalled-reader' }), fe.query("SELECT g, repeat('r', 2000) FROM generate_series(1, 2000000) g")]));
    try {
      await waitActive(server, 'stalled-reader', 30_000, 'SELECT g%');
      // Back-pressure reaches the server: its backend waits to write to its client (pgscope).
      await waitUntil(
        async () => (await server.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stalled-reader' AND wait_event = 'ClientWrite'")) === '1',
        60_000,
        'the stalled reader\'s backend to block in ClientWrite',
      );
      const samples: number[] = [];
      for (let i = 0; i < 10; i++) {
        samples.push(rssMiB(proxy.pid));
        await new Promise((r) => setTimeout(r, 300));
      }
      const still = await server.psql("SELECT wait_event FROM pg_stat_activity WHERE application_name = 'stalled-reader'");
      t.diagnostic(`pgscope RSS while the reader is stalled: ${samples.map((x) => x.toFixed(0)).join(', ')} MiB; backend wait_event ${still}`);
      assert.equal(still, 'ClientWrite', 'the server is still blocked: pgscope did not read the result on into memory');
      assert.ok(Math.max(...samples) < MAX_RSS_MIB, `pgscope's RSS reached ${Math.max(...samples).toFixed(0)} MiB`);
    } finally {
      s.destroy();
    }
    await waitUntil(async () => (await backendsOf('stalled-reader')) === 0, 30_000, 'the stalled reader\'s backend to go');
    assert.equal(await viaProxy("SELECT 'after stall'", 'after-stall'), 'after stall');
  });

  it('after all that: descriptors back to the baseline, memory bounded, pgscope running', T, async (t) => {
    let fds = 0;
    await waitUntil(() => (fds = fdCount(proxy.pid)) <= baseFds, 20_000, `pgscope's descriptors back to ${baseFds}`).catch(() => {
      assert.fail(`pgscope has ${fds} descriptors open, ${baseFds} at the start`);
    });
    const rss = rssMiB(proxy.pid);
    t.diagnostic(`pgscope RSS ${rss.toFixed(0)} MiB, ${fds} descriptors`);
    assert.ok(rss < MAX_RSS_MIB, `RSS ${rss.toFixed(0)} MiB`);
    assert.ok(alive(proxy.pid));
    assert.doesNotMatch(proxy.log(), /internal error/);
  });
});

describe('a log file that cannot be written', () => {
  let server: PgServer;
  before(async () => {
    server = await startPgServer({ version: 15, auth: 'trust' });
  }, T);
  after(async () => {
    await server?.stop();
  }, T);

  it('--logfile in a folder that does not exist: exit status 2, one clear line', T, async () => {
    const r = await run(process.execPath, [PGSCOPE_BIN, '-p', '0', '--server-host', '127.0.0.1', '--logfile', '/nonexistent/dir/x.log'], { allowFailure: true, timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trim(), /^pgscope: .*--logfile.*"\/nonexistent\/dir\/x\.log".*ENOENT|no such file/i);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  /** pgscope on a fixed port (its "listening on" line goes to the broken log), through `sh -c` for limits. */
  async function brokenLog(logArgs: string[], shellPrefix = ''): Promise<{ port: number; stderr: () => string; pid: () => number; stop: () => Promise<void> }> {
    const port = await freePort();
    const cmd = `${shellPrefix}exec "$0" "$@"`;
    const child = spawn('sh', ['-c', cmd, process.execPath, PGSCOPE_BIN, '-p', String(port), '--bw', '--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'disable', ...logArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const k = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(k);
      }
    };
    try {
      await waitUntil(async () => child.exitCode !== null || (await portAnswers(port)), 90_000, `pgscope listening on ${port}`);
      assert.equal(child.exitCode, null, `pgscope exited: ${err}`);
    } catch (e) {
      await stop();
      throw e;
    }
    return { port, stderr: () => err, pid: () => child.pid!, stop };
  }

  const query = (port: number, sql: string): Promise<string> => server.psql(sql, [], { port, params: { sslmode: 'disable' }, env: { PGCONNECT_TIMEOUT: '60' } });

  it('-l /dev/full: a warning on stderr, forwarding goes on', T, async () => {
    const p = await brokenLog(['-l', '/dev/full']);
    try {
      assert.equal(await query(p.port, "SELECT 'through a full disk'"), 'through a full disk');
      assert.equal(await query(p.port, 'SELECT 2'), '2');
      await waitUntil(() => /the text log \(--logfile \/dev\/full\): cannot write any more.*ENOSPC/.test(p.stderr()), 10_000, 'the warning');
      assert.equal(p.stderr().match(/cannot write any more/g)?.length, 1, `one warning:\n${p.stderr()}`);
    } finally {
      await p.stop();
    }
  });

  // logrotate's copytruncate (and `> pgscope.log` in a shell) truncate a log in place. A
  // writer that appends goes on at the new end; one that writes at its own offset leaves
  // a hole of NUL bytes as long as everything written before.
  for (const clear of [false, true]) {
    it(`a log file truncated from outside (logrotate copytruncate), -l${clear ? ' -c' : ''}: pgscope writes on at its start, no hole of NUL bytes`, T, async () => {
      const d = mkdtempSync(join(tmpdir(), 'pgscope-trunc-'));
      const file = join(d, 'log');
      const p = await brokenLog(['-l', file, ...(clear ? ['-c'] : [])]);
      try {
        assert.equal(await query(p.port, "SELECT 'before the rotation'"), 'before the rotation');
        // Every connection so far (the port probe, the query) ended in the log: nothing trails.
        await waitUntil(() => statSync(file).size > 0 && (readFileSync(file, 'utf8').match(/^#\d+ {2}connection end$/gm) ?? []).length >= 2, 10_000, 'the first query in the log');
        truncateSync(file, 0);
        assert.equal(await query(p.port, "SELECT 'after the rotation'"), 'after the rotation');
        await waitUntil(() => /connection end/.test(readFileSync(file, 'latin1')), 10_000, 'the second connection in the log');
        const text = readFileSync(file, 'latin1');
        const nuls = text.length - text.replace(/\0/g, '').length;
        assert.equal(nuls, 0, `the truncated log starts with ${nuls} NUL bytes (${text.length} bytes in all): pgscope wrote at its old offset instead of appending`);
        assert.match(text, /^#\d+ {2}connected from/, 'the log goes on at the start of the file, with the new connection');
      } finally {
        await p.stop();
        rmSync(d, { recursive: true, force: true });
      }
    });
  }

  it('a log that fails later (file size limit reached, EFBIG): one warning, forwarding goes on', T, async () => {
    const d = mkdtempSync(join(tmpdir(), 'pgscope-efbig-'));
    const p = await brokenLog(['-l', join(d, 'log')], 'ulimit -f 256; ');
    try {
      assert.equal(await query(p.port, 'SELECT 1'), '1');
      assert.doesNotMatch(p.stderr(), /cannot write/, 'no warning while the log fits');
      // About 1 MB of annotated log: past the 256 KiB limit.
      const big = await query(p.port, "SELECT count(*) FROM (SELECT repeat('b', 100) FROM generate_series(1, 3000)) x");
      assert.equal(big, '3000');
      const rows = await query(p.port, "SELECT string_agg(g::text, ',') FROM (SELECT g FROM generate_series(1, 3000) g) x");
      assert.ok(rows.startsWith('1,2,3'));
      const bulk = await query(p.port, "SELECT sum(length(t)) FROM (SELECT repeat('z', 300) t FROM generate_series(1, 3000)) x");
      assert.equal(bulk, '900000');
      await query(p.port, "SELECT g, repeat('q', 200) FROM generate_series(1, 5000) g");
      await waitUntil(() => /the text log \(--logfile [^)]*\): cannot write any more.*(EFBIG|too large)/i.test(p.stderr()), 10_000, `the EFBIG warning (stderr: ${p.stderr()})`);
      assert.equal(await query(p.port, "SELECT 'still forwarding'"), 'still forwarding');
      assert.equal(p.stderr().match(/cannot write any more/g)?.length, 1, `one warning:\n${p.stderr()}`);
    } finally {
      await p.stop();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
