/**
 * Captures survive pgscope (issue: "What attacks … found", item 4): the pcapng, JSON lines
 * and the query log are written as traffic happens (within a second), so tshark reads the
 * capture while pgscope runs, and after SIGKILL everything up to about a second before is
 * there; SIGHUP (the terminal closed) stops pgscope as SIGTERM does, outputs closed.
 * Real psql and a real PostgreSQL 15 server. Before the fix the pcapng stayed a 368-byte
 * header until a clean exit, and was lost to SIGKILL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { startPgscope } from '../helpers/pgscope.js';
import { waitUntil } from '../helpers/outputs-util.js';
import { tsharkFields } from '../unit/pcapng/tshark.js';

const T = { timeout: 120_000 };
let server: PgServer;
const dir = mkdtempSync(join(tmpdir(), 'pgscope-durable-'));

before(async () => {
  server = await startPgServer({ auth: 'trust' });
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The SQL of every Query tshark finds in the capture. */
function queries(pcap: string): string[] {
  return tsharkFields(pcap, 'pgsql.query', ['pgsql.query']).flatMap((f) => f['pgsql.query'] ?? []);
}

const psqlThrough = (port: number, sql: string): Promise<string> => server.psql(sql, [], { port, params: { sslmode: 'disable' } });

describe('outputs are on disk while pgscope runs', () => {
  it('tshark reads the pcapng while pgscope runs and after SIGKILL; JSON lines and the query log too', T, async () => {
    const f = { pcap: join(dir, 'a.pcapng'), jsonl: join(dir, 'a.jsonl'), queryLog: join(dir, 'a.log') };
    const p = await startPgscope(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'disable', '--log-forwarded', 'none', '--pcap', f.pcap, '--jsonl', f.jsonl, '--query-log', f.queryLog]);
    assert.equal(await psqlThrough(p.port, "select 'first-marker'"), 'first-marker');
    // While pgscope runs: within about a second, each output holds the statement.
    await waitUntil(() => queries(f.pcap).includes("select 'first-marker'"), 10_000, 'tshark to see the first query while pgscope runs');
    await waitUntil(() => readFileSync(f.jsonl, 'utf8').includes('first-marker') && readFileSync(f.queryLog, 'utf8').includes('first-marker'), 10_000, 'JSON lines and the query log');

    assert.equal(await psqlThrough(p.port, "select 'second-marker'"), 'second-marker');
    await new Promise((r) => setTimeout(r, 1500));
    p.child.kill('SIGKILL');
    await p.exited;
    // Everything up to a second before the kill, in a file tshark reads without complaint.
    assert.deepEqual(queries(f.pcap).filter((q) => q.includes('marker')), ["select 'first-marker'", "select 'second-marker'"]);
    assert.ok(statSync(f.pcap).size > 1000);
    assert.match(readFileSync(f.jsonl, 'utf8'), /second-marker/);
    assert.match(readFileSync(f.queryLog, 'utf8'), /second-marker/);
  });

  it('SIGHUP stops pgscope as SIGTERM does: status 0, outputs complete', T, async () => {
    const pcap = join(dir, 'hup.pcapng');
    const p = await startPgscope(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'disable', '--pcap', pcap]);
    assert.equal(await psqlThrough(p.port, "select 'hup-marker'"), 'hup-marker');
    await p.waitFor(/connection end/);
    p.child.kill('SIGHUP');
    assert.equal(await p.exited, 0);
    assert.match(p.output(), /received SIGHUP/);
    assert.ok(queries(pcap).includes("select 'hup-marker'"));
  });
});
