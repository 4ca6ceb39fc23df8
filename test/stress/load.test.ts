/**
 * Stress: STRESS_CLIENTS (default 200) concurrent clients for STRESS_SECONDS (default 60)
 * through one pgscope logging every message annotated to a file, in front of a real
 * PostgreSQL 15 server (SCRAM). Half the clients use TLS, half plaintext; half the simple
 * protocol, half the extended one. Each inserts rows tagged with its own id in a loop and,
 * every tenth row, counts its rows through pgscope (it must see exactly what it inserted).
 *
 * Asserted: no client error at all; the rows counted through pgscope equal the rows
 * counted directly on the server and the number of INSERTs the clients completed; the log
 * has one "INSERT 0 1" CommandComplete per row (nothing lost from the log either), one
 * "connection end" per client and no decoding problem; pgscope runs at the end with its
 * descriptors back to the baseline. Throughput and pgscope's memory are printed.
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { alive, fdCount, rssMiB } from '../helpers/hardening.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { logProblems, peakRssMiB, startPgscopeLogfile, waitUntil, type FileLoggedPgscope } from '../helpers/traffic-util.js';

const CLIENTS = Number(process.env['STRESS_CLIENTS'] ?? 200);
const SECONDS = Number(process.env['STRESS_SECONDS'] ?? 60);
const T = { timeout: SECONDS * 1000 + 600_000 };

/** Scan a big log line by line (it can be hundreds of MB): counts of what we check. */
async function scanLog(path: string): Promise<{ inserts: number; ends: number; problems: string[]; lines: number }> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let inserts = 0;
  let ends = 0;
  let lines = 0;
  const problems: string[] = [];
  for await (const l of rl) {
    lines++;
    if (l.includes('"INSERT 0 1\\x00"')) inserts++;
    else if (/^#\d+ {2}connection end$/.test(l)) ends++;
    else if (problems.length < 20 && (l.includes('!!') || l.includes('UNPARSED') || l.includes('not decoded') || l.includes('internal error'))) problems.push(...logProblems(l));
  }
  return { inserts, ends, problems, lines };
}

describe(`${CLIENTS} concurrent clients for ${SECONDS} s through pgscope with annotated logging`, () => {
  let server: PgServer;
  let proxy: FileLoggedPgscope;
  let dir: string;
  let logPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgscope-load-'));
    logPath = join(dir, 'pgscope.log');
    server = await startPgServer({ version: 15, auth: 'scram-sha-256', ssl: true, settings: { max_connections: String(CLIENTS + 30) } });
    await server.psql('CREATE TABLE load_rows (client int NOT NULL, seq int NOT NULL, payload text, PRIMARY KEY (client, seq))');
    proxy = await startPgscopeLogfile(['--server-host', server.host, '--server-connect-port', String(server.port)], logPath);
  }, T);

  after(async () => {
    await proxy?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, T);

  it('no client error, nothing lost: rows through pgscope = rows on the server = INSERTs done = INSERTs in the log', T, async (t) => {
    const baseFds = fdCount(proxy.pid);
    const errors: string[] = [];
    const inserted = new Array<number>(CLIENTS).fill(0);
    let checks = 0;
    const deadline = Date.now() + SECONDS * 1000;

    const one = async (id: number): Promise<void> => {
      const tls = id % 2 === 0;
      const extended = id % 4 < 2;
      const c = new pg.Client({
        host: '127.0.0.1',
        port: proxy.port,
        user: 'postgres',
        password: server.password,
        database: 'postgres',
        application_name: `load-${id}`,
        ssl: tls ? { rejectUnauthorized: false } : false,
        connectionTimeoutMillis: 120_000,
      });
      c.on('error', (e) => errors.push(`client ${id}: ${e.message}`));
      await c.connect();
      try {
        while (Date.now() < deadline) {
          const seq = inserted[id]! + 1;
          const payload = `client ${id} row ${seq} ${'x'.repeat(seq % 50)}`;
          const r = extended
            ? await c.query('INSERT INTO load_rows (client, seq, payload) VALUES ($1, $2, $3)', [id, seq, payload])
            : await c.query(`INSERT INTO load_rows (client, seq, payload) VALUES (${id}, ${seq}, '${payload}')`);
          assert.equal(r.rowCount, 1);
          inserted[id] = seq;
          if (seq % 10 === 0) {
            const n = extended ? await c.query('SELECT count(*)::int AS n, max(seq) AS m FROM load_rows WHERE client = $1', [id]) : await c.query(`SELECT count(*)::int AS n, max(seq) AS m FROM load_rows WHERE client = ${id}`);
            assert.deepEqual(n.rows[0], { n: seq, m: seq }, `client ${id} sees its own rows`);
            checks++;
          }
        }
      } finally {
        await c.end();
      }
    };

    const t0 = Date.now();
    // Connect in waves of 20 (200 SCRAM handshakes at once would only measure the CPU).
    const runs: Promise<void>[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      runs.push(one(i).catch((e: unknown) => void errors.push(`client ${i}: ${e instanceof Error ? e.message : String(e)}`)));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 100));
    }
    const rssSamples: number[] = [];
    const sampler = setInterval(() => {
      try {
        rssSamples.push(rssMiB(proxy.pid));
      } catch {
        /* gone: asserted below */
      }
    }, 5000);
    await Promise.all(runs);
    clearInterval(sampler);
    const ms = Date.now() - t0;
    const total = inserted.reduce((a, b) => a + b, 0);
    t.diagnostic(`${CLIENTS} clients, ${(ms / 1000).toFixed(1)} s: ${total} INSERTs (${(total / (ms / 1000)).toFixed(0)}/s), ${checks} count checks; min/max per client ${Math.min(...inserted)}/${Math.max(...inserted)}`);
    t.diagnostic(`pgscope RSS samples (MiB): ${rssSamples.map((x) => x.toFixed(0)).join(', ')}; peak ${peakRssMiB(proxy.pid).toFixed(0)} MiB`);
    assert.deepEqual(errors.slice(0, 20), [], `${errors.length} client error(s)`);
    assert.ok(alive(proxy.pid), 'pgscope still runs');
    assert.ok(inserted.every((n) => n > 0), 'every client got work done');

    const direct = Number(await server.psql('SELECT count(*) FROM load_rows'));
    const through = Number(await server.psql('SELECT count(*) FROM load_rows', [], { port: proxy.port, params: { sslmode: 'require', channel_binding: 'disable' }, env: { PGCONNECT_TIMEOUT: '60' } }));
    assert.equal(through, direct, 'the count through pgscope equals the count on the server');
    assert.equal(direct, total, 'the server has every row the clients inserted');

    await waitUntil(() => fdCount(proxy.pid) <= baseFds, 60_000, `pgscope's descriptors back to ${baseFds} (now ${fdCount(proxy.pid)})`);
    // The log is written as traffic flows; once every connection has ended it is complete.
    let scan = await scanLog(logPath);
    await waitUntil(
      async () => (scan = await scanLog(logPath)).ends >= CLIENTS + 1,
      60_000,
      'a "connection end" line for every client',
    ).catch(() => {});
    t.diagnostic(`log: ${(statSync(logPath).size / 1e6).toFixed(0)} MB, ${scan.lines} lines, ${scan.inserts} INSERT CommandCompletes, ${scan.ends} connection ends`);
    assert.equal(scan.ends, CLIENTS + 1, 'one "connection end" per client (and the count through pgscope)');
    assert.equal(scan.inserts, total, 'one "INSERT 0 1" in the log per row inserted');
    assert.deepEqual(scan.problems, [], 'the log decodes cleanly');
  });
});
