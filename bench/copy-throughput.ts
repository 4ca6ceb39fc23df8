/**
 * A 200 MB `COPY … TO STDOUT` (200 000 rows of ~1 kB) from a PostgreSQL 15 server, read
 * by psql: directly, through pgscope with --log-forwarded none, and through pgscope
 * logging every message annotated to a file. Prints wall time, MB/s, pgscope's peak RSS
 * (VmHWM) and the ratio to the direct run; checks that every run got the same bytes.
 *
 *   npx tsx bench/copy-throughput.ts            (RUNS=3 for the median of three)
 *
 * For scale: Elephantshark needed 5.2 s for a 21 MB COPY with logging off (0.23 s
 * directly) and did not finish a 210 MB one in a minute (../shared/reference/peers.md).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { psqlBin, startPgServer, type PgServer } from '../test/helpers/pg-server.js';
import { clientEnv, conninfo, hashStdout, peakRssMiB, startPgscopeLogfile, startProxy, type StreamResult } from '../test/helpers/traffic-util.js';

const ROWS = 200_000;
const SQL = `COPY (SELECT repeat('x', 1000) || g FROM generate_series(1, ${ROWS}) g) TO STDOUT`;
const RUNS = Math.max(1, Number(process.env['RUNS'] ?? 1));

interface Row {
  name: string;
  ms: number;
  bytes: number;
  rssMiB: number | null;
  note?: string;
}

function copy(server: PgServer, port: number): Promise<StreamResult> {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo({ host: '127.0.0.1', port, user: 'postgres', dbname: 'postgres', sslmode: 'disable' }), '-c', SQL];
  return hashStdout(psqlBin(), args, clientEnv(server), 600_000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(name: string, server: PgServer, port: number, expectSha: string | null, rss: () => number | null): Promise<Row & { sha: string }> {
  const times: number[] = [];
  let last: StreamResult | undefined;
  for (let i = 0; i < RUNS; i++) {
    const r = await copy(server, port);
    if (r.code !== 0) throw new Error(`${name}: psql exited ${r.code}: ${r.stderr}`);
    if (expectSha && r.sha256 !== expectSha) throw new Error(`${name}: the data differs from the direct run (sha256 ${r.sha256} vs ${expectSha})`);
    times.push(r.ms);
    last = r;
  }
  return { name, ms: median(times), bytes: last!.bytes, rssMiB: rss(), sha: last!.sha256 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pgscope-bench-'));
  const server = await startPgServer({ version: 15, auth: 'trust' });
  const rows: Row[] = [];
  try {
    process.stdout.write(`${server.versionString}, ${ROWS} rows, ${RUNS} run(s) each (median)\n`);
    await copy(server, server.port); // warm the server's caches
    const direct = await measure('direct', server, server.port, null, () => null);
    rows.push(direct);

    const quiet = await startProxy(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--log-forwarded', 'none']);
    try {
      rows.push(await measure('pgscope --log-forwarded none', server, quiet.port, direct.sha, () => peakRssMiB(quiet.child.pid!)));
    } finally {
      await quiet.stop();
    }

    const logFile = join(dir, 'annotated.log');
    const loud = await startPgscopeLogfile(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port)], logFile);
    try {
      const row = await measure('pgscope annotated, -l file', server, loud.port, direct.sha, () => peakRssMiB(loud.pid));
      row.note = `log ${(statSync(logFile).size / RUNS / 1e6).toFixed(0)} MB per run`;
      rows.push(row);
    } finally {
      await loud.stop();
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const base = rows[0]!.ms;
  process.stdout.write('\n');
  const pad = (s: string, n: number): string => s.padEnd(n);
  const lines = [
    `${pad('', 30)}${pad('wall time', 11)}${pad('MB/s', 8)}${pad('peak RSS', 12)}${pad('vs direct', 11)}`,
    ...rows.map(
      (r) =>
        `${pad(r.name, 30)}${pad(`${(r.ms / 1000).toFixed(2)} s`, 11)}${pad((r.bytes / 1e6 / (r.ms / 1000)).toFixed(0), 8)}${pad(r.rssMiB === null ? '-' : `${r.rssMiB.toFixed(0)} MiB`, 12)}${pad(`${(r.ms / base).toFixed(2)}x`, 11)}${r.note ?? ''}`,
    ),
    '',
    `(${(rows[0]!.bytes / 1e6).toFixed(1)} MB per COPY; the same sha256 through pgscope as directly)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
