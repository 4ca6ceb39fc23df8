/**
 * Bulk transfers through the real pgscope process, where Elephantshark crawls (it buffers
 * whole messages; a 210 MB COPY did not finish in a minute through it):
 *
 * - a 200 MB COPY … TO STDOUT directly, through pgscope with --log-forwarded none, and
 *   through pgscope logging every message annotated to a file: the same sha256 each time;
 * - a 200 MB COPY … FROM STDIN through pgscope: the server has every row (count and sums);
 * - pgscope's peak memory (VmHWM) stays under 300 MiB. That is a structural bound, not a
 *   timing one: pgscope keeps at most 1 MiB of a message for decoding and stops reading one
 *   leg while the other cannot take more, so memory does not grow with the transfer.
 *
 * Each 200 MB transfer runs once; wall times are reported as diagnostics, not asserted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { psqlBin, startPgServer, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { assertCleanLog, clientEnv, conninfo, feedStdin, hashStdout, peakRssMiB, pgscopeFor, startPgscopeLogfile, type StreamResult } from '../helpers/traffic-util.js';

const T = { timeout: 240_000 };
const MAX_PEAK_MIB = 300;
const ROWS = 200_000;
const COPY_OUT = `COPY (SELECT repeat('x', 1000) || g FROM generate_series(1, ${ROWS}) g) TO STDOUT`;

const mb = (bytes: number, ms: number): string => `${(bytes / 1e6).toFixed(0)} MB in ${(ms / 1000).toFixed(1)} s (${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s)`;

describe('200 MB COPY through pgscope', () => {
  let server: PgServer;
  let quiet: Pgscope;
  let dir: string;
  let direct: StreamResult;

  const copyOut = (port: number): Promise<StreamResult> =>
    hashStdout(psqlBin(), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo({ host: '127.0.0.1', port, user: 'postgres', dbname: 'postgres', sslmode: 'disable' }), '-c', COPY_OUT], clientEnv(server));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgscope-bulk-'));
    server = await startPgServer({ version: 15, auth: 'trust' });
    quiet = await pgscopeFor(server, ['--log-forwarded', 'none']);
    direct = await copyOut(server.port);
    assert.equal(direct.code, 0, direct.stderr);
    assert.ok(direct.bytes > 200_000_000, `the direct COPY produced ${direct.bytes} bytes`);
  }, T);

  after(async () => {
    await quiet?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, T);

  it('COPY TO STDOUT with --log-forwarded none: same sha256 as directly, bounded memory', T, async (t) => {
    const r = await copyOut(quiet.port);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.bytes, direct.bytes);
    assert.equal(r.sha256, direct.sha256);
    const peak = peakRssMiB(quiet.child.pid!);
    t.diagnostic(`direct: ${mb(direct.bytes, direct.ms)}; through pgscope (log none): ${mb(r.bytes, r.ms)}, pgscope peak RSS ${peak.toFixed(0)} MiB`);
    assert.ok(peak < MAX_PEAK_MIB, `pgscope's peak RSS ${peak.toFixed(0)} MiB < ${MAX_PEAK_MIB} MiB`);
    assert.match(quiet.output(), /#1 {2}connecting to server 127\.0\.0\.1:\d+/);
    assert.doesNotMatch(quiet.output(), /CopyData/, '--log-forwarded none logs no forwarded messages');
  });

  it('COPY FROM STDIN of 200 MB: every row reaches the server, bounded memory', T, async (t) => {
    await server.psql('CREATE TABLE bulk_in (id int, payload text)');
    const pad = 'y'.repeat(1000);
    function* rows(): Generator<Buffer> {
      const per = 1000;
      for (let start = 1; start <= ROWS; start += per) {
        let s = '';
        for (let i = start; i < start + per; i++) s += `${i}\t${pad}${i}\n`;
        yield Buffer.from(s, 'utf8');
      }
    }
    const r = await feedStdin(psqlBin(), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo({ host: '127.0.0.1', port: quiet.port, user: 'postgres', dbname: 'postgres', sslmode: 'disable' }), '-c', 'COPY bulk_in FROM STDIN'], clientEnv(server), rows());
    assert.equal(r.code, 0, r.stderr);
    const check = await server.psql("SELECT count(*), sum(id), sum(length(payload)), count(*) FILTER (WHERE payload = repeat('y', 1000) || id) FROM bulk_in");
    const expectedLen = ROWS * 1000 + [...Array(6).keys()].reduce((acc, d) => acc + Math.max(0, Math.min(ROWS, 10 ** (d + 1) - 1) - 10 ** d + 1) * (d + 1), 0);
    assert.equal(check, `${ROWS}|${(ROWS * (ROWS + 1)) / 2}|${expectedLen}|${ROWS}`);
    const peak = peakRssMiB(quiet.child.pid!);
    t.diagnostic(`COPY FROM STDIN through pgscope (log none): ${(r.ms / 1000).toFixed(1)} s; pgscope peak RSS so far ${peak.toFixed(0)} MiB`);
    assert.ok(peak < MAX_PEAK_MIB, `pgscope's peak RSS ${peak.toFixed(0)} MiB < ${MAX_PEAK_MIB} MiB`);
  });

  it('COPY TO STDOUT with every message logged annotated to a file: same sha256, bounded memory', T, async (t) => {
    const logFile = join(dir, 'annotated.log');
    const p = await startPgscopeLogfile(['--server-host', server.host, '--server-connect-port', String(server.port)], logFile);
    try {
      const r = await copyOut(p.port);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.bytes, direct.bytes);
      assert.equal(r.sha256, direct.sha256);
      const peak = peakRssMiB(p.pid);
      await p.stop();
      const size = statSync(logFile).size;
      t.diagnostic(`through pgscope (annotated log, ${(size / 1e6).toFixed(0)} MB of it): ${mb(r.bytes, r.ms)}, pgscope peak RSS ${peak.toFixed(0)} MiB`);
      assert.ok(peak < MAX_PEAK_MIB, `pgscope's peak RSS ${peak.toFixed(0)} MiB < ${MAX_PEAK_MIB} MiB`);
      const log = p.log();
      // Every CopyData is logged (cut to --max-value-bytes), and the end of the COPY.
      const copyData = log.match(/server -> client: "d" = CopyData/g)?.length ?? 0;
      assert.equal(copyData, ROWS, 'one CopyData line per row');
      assert.match(log, /"COPY 200000\\x00" = COPY 200000: 200000 rows copied/);
      assert.match(log, /…\(7\d\d more bytes\) = COPY data/, 'long values are cut');
      assertCleanLog(log);
    } finally {
      await p.stop();
    }
  });
});
