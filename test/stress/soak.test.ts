/**
 * Soak: SOAK_SECONDS (default 600) of pgbench through one pgscope logging every message
 * annotated to a file, in front of a real PostgreSQL 15 server (SCRAM, TLS on both legs).
 * Two pgbench runs side by side: 4 clients with prepared statements over long-lived
 * connections, and 2 clients opening a new connection for every transaction (-C), so
 * both per-message and per-connection state get exercised.
 *
 * Both are rate-limited (pgbench -R: SOAK_TPS, default 150 transactions/s, and
 * SOAK_CONNECT_TPS, default 5 connections/s; 0 = as fast as possible) because the whole
 * suite runs the soak alongside the other tests (scripts/run-tests.mjs): at full speed it
 * would take both cores from them (at these rates pgscope uses about a third of a core).
 * pgbench's default transaction has 7 statements, so 10 minutes are 90,000 transactions,
 * about 3 million messages, and 3,000 connections: a leak of a few bytes per message or
 * of ten kilobytes per connection shows as growth above the 10% allowed.
 *
 * pgscope's resident memory (VmRSS) is sampled every 10 s; the value after the first
 * SOAK_WARMUP_SECONDS (default 60) is the reference (during which a third pgbench opens
 * connections at full speed, so that the heap reaches its working size: SOAK_WARM_BURST=0
 * turns it off), and at the end it must be within 10%
 * of it (a leak per message or per connection would grow it steadily). The log file is
 * truncated every 10 s to keep the disk usage bounded (the bytes it held are added up and
 * reported). pgbench must finish without a failed
 * transaction, and pgscope must run at the end with its descriptors back to the baseline.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alive, cpuSeconds, fdCount, rssMiB } from '../helpers/hardening.js';
import { clientBin, startPgServer, type PgServer } from '../helpers/pg-server.js';
import { run } from '../helpers/proc.js';
import { background, clientEnv, startPgscopeLogfile, waitUntil, type FileLoggedPgscope } from '../helpers/traffic-util.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 600);
const WARMUP = Number(process.env['SOAK_WARMUP_SECONDS'] ?? Math.min(60, Math.floor(SECONDS / 5)));
const TPS = Number(process.env['SOAK_TPS'] ?? 150);
const CONNECT_TPS = Number(process.env['SOAK_CONNECT_TPS'] ?? 5);
const rate = (n: number): string[] => (n > 0 ? ['-R', String(n)] : []);
/** SOAK_WARM_BURST=0: no full-speed pgbench -C during the warm-up. */
const WARM_BURST = process.env['SOAK_WARM_BURST'] !== '0';
const T = { timeout: SECONDS * 1000 + 150_000 };

describe(`soak: ${SECONDS} s of pgbench through pgscope with annotated logging`, () => {
  let server: PgServer;
  let proxy: FileLoggedPgscope;
  let dir: string;
  let logPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgscope-soak-'));
    logPath = join(dir, 'pgscope.log');
    server = await startPgServer({ version: 15, auth: 'scram-sha-256', ssl: true, settings: { max_connections: '50' } });
    const init = await run(clientBin('pgbench'), ['-i', '-q', '-s', '2', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', 'postgres'], { env: clientEnv(server), timeoutMs: 120_000 });
    assert.equal(init.code, 0, init.stderr);
    proxy = await startPgscopeLogfile(['--server-host', server.host, '--server-connect-port', String(server.port)], logPath);
  }, T);

  after(async () => {
    await proxy?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, T);

  it(`resident memory at the end within 10% of the value after ${WARMUP} s`, T, async (t) => {
    const baseFds = fdCount(proxy.pid);
    const common = ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-T', String(SECONDS), '-P', '60', '--no-vacuum'];
    const steady = background(clientBin('pgbench'), [...common, ...rate(TPS), '-c', '4', '-j', '1', '-M', 'prepared', 'postgres'], clientEnv(server, { PGSSLMODE: 'require', PGCHANNELBINDING: 'disable', PGAPPNAME: 'soak-prepared' }));
    // -C over TLS too: a plaintext libpq client refuses the SCRAM-SHA-256-PLUS that the
    // server offers over pgscope's TLS server leg (pgscope passes authentication through).
    const churn = background(clientBin('pgbench'), [...common, ...rate(CONNECT_TPS), '-c', '2', '-j', '1', '-C', 'postgres'], clientEnv(server, { PGSSLMODE: 'require', PGCHANNELBINDING: 'disable', PGAPPNAME: 'soak-connect' }));

    // During the warm-up a third pgbench opens connections as fast as it can (as the soak
    // did before it was rate-limited). At 5 connections/s alone, pgscope's heap grows for
    // about 100 s until its first full collection, whatever the transaction rate: the value
    // after the first minute was taken mid-ramp, and the end sat within 2 points of the
    // limit with no leak at all.
    const warm = CONNECT_TPS > 0 && WARM_BURST ? background(clientBin('pgbench'), ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-T', String(WARMUP), '--no-vacuum', '-c', '2', '-j', '1', '-C', 'postgres'], clientEnv(server, { PGSSLMODE: 'require', PGCHANNELBINDING: 'disable', PGAPPNAME: 'soak-warm-up' })) : null;

    const t0 = Date.now();
    const cpu0 = cpuSeconds(proxy.pid);
    const samples: { s: number; rss: number; cpu: number }[] = [];
    let logBytes = 0;
    let reference: number | null = null;
    let finished = false;
    void Promise.all([steady.exited, churn.exited]).then(() => (finished = true));
    while (!finished) {
      await new Promise((r) => setTimeout(r, 10_000));
      if (!alive(proxy.pid)) break;
      const s = Math.round((Date.now() - t0) / 1000);
      const rss = rssMiB(proxy.pid);
      samples.push({ s, rss, cpu: cpuSeconds(proxy.pid) });
      if (reference === null && s >= WARMUP) reference = rss;
      try {
        // Bytes on disk, not the size: with -c pgscope does not append, so after a
        // truncation its next writes leave a hole (see hardening-faults.test.ts).
        logBytes += statSync(logPath).blocks * 512;
        truncateSync(logPath, 0);
      } catch {
        /* reported by the size check */
      }
    }
    const [steadyCode, churnCode, warmCode] = await Promise.all([steady.exited, churn.exited, warm ? warm.exited : 0]);
    const end = rssMiB(proxy.pid);
    logBytes += statSync(logPath).blocks * 512;
    const tps = (out: string): string => /tps = ([\d.]+)/.exec(out)?.[1] ?? '?';
    const failed = (out: string): number => Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
    t.diagnostic(`pgbench -M prepared: exit ${steadyCode}, ${tps(steady.output())} tps; -C: exit ${churnCode}, ${tps(churn.output())} tps${warm ? `; warm-up burst (${WARMUP} s): exit ${warmCode}, ${tps(warm.output())} tps` : ''}`);
    t.diagnostic(`pgscope VmRSS (MiB) every 10 s: ${samples.map((x) => `${x.s}s=${x.rss.toFixed(0)}`).join(' ')}`);
    t.diagnostic(`pgscope CPU (% of one core) every 10 s: ${samples.map((x, i) => `${x.s}s=${(((x.cpu - (samples[i - 1]?.cpu ?? cpu0)) / (x.s - (samples[i - 1]?.s ?? 0))) * 100).toFixed(0)}`).join(' ')}`);
    t.diagnostic(`reference after ${WARMUP} s: ${reference?.toFixed(1)} MiB; end: ${end.toFixed(1)} MiB (${reference ? ((end / reference - 1) * 100).toFixed(1) : '?'}%); log written: ${(logBytes / 1e9).toFixed(2)} GB`);

    assert.ok(alive(proxy.pid), 'pgscope still runs');
    assert.equal(steadyCode, 0, steady.output().slice(-2000));
    assert.equal(churnCode, 0, churn.output().slice(-2000));
    if (warm) assert.equal(warmCode, 0, warm.output().slice(-2000));
    assert.equal(failed(steady.output()) + failed(churn.output()) + (warm ? failed(warm.output()) : 0), 0, 'no failed transaction');
    const processed = (out: string): number => Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? 0);
    // pgbench -R schedules transactions at random (Poisson) times: the count varies by about
    // its square root, so short runs get a wider margin than 10%.
    const kept = (rate: number): number => {
      const expected = rate * SECONDS;
      return Math.min(expected * 0.9, expected - 4 * Math.sqrt(expected));
    };
    if (TPS > 0) assert.ok(processed(steady.output()) >= kept(TPS), `pgbench -M prepared kept its rate of ${TPS}/s (${processed(steady.output())} transactions in ${SECONDS} s)`);
    if (CONNECT_TPS > 0) assert.ok(processed(churn.output()) >= kept(CONNECT_TPS), `pgbench -C kept its rate of ${CONNECT_TPS}/s (${processed(churn.output())} connections in ${SECONDS} s)`);
    assert.ok(logBytes > 1e6, `the log was written (${logBytes} bytes)`);
    assert.ok(reference !== null, 'a reference sample after the warm-up');
    assert.ok(end <= reference * 1.1, `VmRSS grew from ${reference.toFixed(1)} MiB after ${WARMUP} s to ${end.toFixed(1)} MiB at the end (more than 10%)`);
    await waitUntil(() => fdCount(proxy.pid) <= baseFds, 60_000, `pgscope's descriptors back to ${baseFds} (now ${fdCount(proxy.pid)})`);
  });
});
