/**
 * pgbench -S (read-only, one SELECT per transaction) directly, through the simplest
 * possible Node.js proxy (two sockets piped together: the floor for any proxy written in
 * Node on this machine) and through pgscope, side by side in one run, over plaintext and over TLS on both legs: transactions per second and
 * the ratio to direct. pgscope runs with logging off and with every message annotated to a
 * file. Also pgbench -C (a new connection per transaction), which the Ruby peer served at
 * 7 tps against 123 directly because it made a key per connection.
 *
 *   npx tsx bench/pgbench.ts              (SECONDS=10 for longer runs)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientBin, cleanEnv, startPgServer, type PgServer } from '../test/helpers/pg-server.js';
import { run } from '../test/helpers/proc.js';
import { startPgscopeLogfile } from '../test/helpers/traffic-util.js';

const SECONDS = Number(process.env['SECONDS'] ?? 5);

async function pgbench(server: PgServer, port: number, sslmode: string, extra: string[]): Promise<number> {
  const r = await run(clientBin('pgbench'), ['-n', '-S', '-T', String(SECONDS), '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...extra, 'postgres'], {
    env: cleanEnv({ ...server.clientEnv, PGSSLMODE: sslmode }),
    timeoutMs: (SECONDS + 60) * 1000,
  });
  const m = /tps = ([\d.]+)/.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`pgbench failed (${r.code}): ${r.stderr}\n${r.stdout}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pgscope-bench-'));
  const server = await startPgServer({ version: 15, auth: 'md5', ssl: true });
  const stops: (() => Promise<unknown>)[] = [];
  try {
    await run(clientBin('pgbench'), ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', 'postgres'], { env: cleanEnv(server.clientEnv) });
    // The floor: a plaintext pipe in this process (it does not terminate TLS, so it is
    // only compared on the plaintext rows).
    const pipe = net.createServer((c) => {
      const up = net.connect(server.port, '127.0.0.1');
      c.setNoDelay(true);
      up.setNoDelay(true);
      c.pipe(up).on('error', () => c.destroy());
      up.pipe(c).on('error', () => up.destroy());
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => pipe.listen(0, '127.0.0.1', () => r()));
    stops.push(() => new Promise((r) => pipe.close(r)));
    const pipePort = (pipe.address() as net.AddressInfo).port;
    const target = ['--server-host', '127.0.0.1', '--server-connect-port', String(server.port)];
    const quiet = await startPgscopeLogfile([...target, '--log-forwarded', 'none'], join(dir, 'none.log'));
    const loud = await startPgscopeLogfile([...target], join(dir, 'annotated.log'));
    stops.push(quiet.stop, loud.stop);
    process.stdout.write(`${server.versionString}, pgbench -S, ${SECONDS} s per run\n\n`);
    process.stdout.write(`${'run'.padEnd(44)} ${'tps'.padStart(9)}  ratio\n`);
    for (const [label, extra] of [
      ['4 clients', ['-c', '4', '-j', '2']],
      ['1 client, new connection per transaction (-C)', ['-c', '1', '-C']],
    ] as const) {
      for (const sslmode of ['disable', 'require']) {
        const direct = await pgbench(server, server.port, sslmode, [...extra]);
        const floor = sslmode === 'disable' ? await pgbench(server, pipePort, sslmode, [...extra]) : null;
        const none = await pgbench(server, quiet.port, sslmode, [...extra]);
        const annotated = await pgbench(server, loud.port, sslmode, [...extra]);
        const row = (name: string, tps: number): string => `${name.padEnd(44)} ${tps.toFixed(0).padStart(9)}  ${(tps / direct).toFixed(2)}`;
        process.stdout.write(`${label}, sslmode=${sslmode}\n`);
        process.stdout.write(row('  direct', direct) + '\n');
        if (floor !== null) process.stdout.write(row('  a bare Node.js pipe proxy (the floor)', floor) + '\n');
        process.stdout.write(row('  pgscope, --log-forwarded none', none) + '\n');
        process.stdout.write(row('  pgscope, annotated log to a file', annotated) + '\n');
      }
    }
  } finally {
    for (const s of stops) await s().catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
