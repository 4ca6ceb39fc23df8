/**
 * Fault rules that match nothing change nothing: with rules configured that ask about
 * every client request, every client CopyData, every server DataRow / CopyData (so
 * that those messages take the decoding path rather than the plain forwarding one),
 * a large COPY TO STDOUT through pgscope is byte-identical to the same COPY straight from
 * the server, and a COPY FROM STDIN of the same data through pgscope gives the same table
 * (checksum) as one straight to the server. No rule ever matches.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { endQuietly, faultProxy, PLAIN, pgClient, type FaultProxy } from '../helpers/faults-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';

const T = { timeout: 120_000 };
const ROWS = 200_000;
const COPY_OUT = `COPY (select i, md5(i::text) from generate_series(1, ${ROWS}) i) TO STDOUT`;

const RULES = [
  'error 40001 when sql contains "never-matches-xyz"',
  'delay 1s when server and NotificationResponse',
  // Asked about every server DataRow / CopyData and every client CopyData; never true.
  'chunk 1 when server and (DataRow or CopyData) and conn=999999',
  'error 40001 when client and CopyData and conn=999999',
];

let server: PgServer;
let fp: FaultProxy;
let direct: pg.Client;
let directOut: Buffer;

before(async () => {
  server = await startPgServer({ auth: 'trust' });
  fp = await faultProxy(server, RULES);
  direct = await pgClient(server.port);
  await direct.query('create table via_proxy (i int, h text); create table via_server (i int, h text)');
}, { timeout: 120_000 });

after(async () => {
  await endQuietly(direct);
  await fp?.proxy.close();
  await server?.stop();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('rules that match nothing', () => {
  it(`COPY TO STDOUT of ${ROWS} rows: byte-identical through pgscope and directly`, T, async () => {
    const [viaProxy, viaServer] = await Promise.all([
      server.psqlRun(COPY_OUT, [], { port: fp.proxy.port, params: PLAIN, timeoutMs: 110_000 }),
      server.psqlRun(COPY_OUT, [], { params: PLAIN, timeoutMs: 110_000 }),
    ]);
    directOut = viaServer.stdoutBytes;
    assert.ok(directOut.length > 7_000_000, `direct output is ${directOut.length} bytes`);
    assert.equal(viaProxy.stdoutBytes.length, directOut.length);
    assert.equal(sha(viaProxy.stdoutBytes), sha(directOut));
    assert.ok(viaProxy.stdoutBytes.equals(directOut));
  });

  it('COPY FROM STDIN of the same data: the same table checksum through pgscope and directly', T, async () => {
    assert.ok(directOut, 'needs the COPY TO STDOUT test first');
    await Promise.all([
      server.psqlRun('COPY via_proxy FROM STDIN', [], { port: fp.proxy.port, params: PLAIN, input: directOut, timeoutMs: 110_000 }),
      server.psqlRun('COPY via_server FROM STDIN', [], { params: PLAIN, input: directOut, timeoutMs: 110_000 }),
    ]);
    const sum = async (table: string): Promise<{ n: number; sum: string }> =>
      (await direct.query<{ n: number; sum: string }>(`select count(*)::int as n, md5(string_agg(i::text || ':' || h, ',' order by i)) as sum from ${table}`)).rows[0]!;
    const [p, s] = await Promise.all([sum('via_proxy'), sum('via_server')]);
    assert.equal(s.n, ROWS);
    assert.deepEqual(p, s);
    // And the table's own text: what COPY TO gives for it equals what went in.
    const back = await server.psqlRun('COPY (select * from via_proxy order by i) TO STDOUT', [], { params: PLAIN, timeoutMs: 110_000 });
    assert.equal(sha(back.stdoutBytes), sha(directOut));
  });

  it('no rule matched or acted', T, () => {
    const counts = fp.proxy.faults().map((f) => ({ rule: f.rule, matches: f.matches, hits: f.hits }));
    assert.deepEqual(
      counts,
      RULES.map((rule) => ({ rule, matches: 0, hits: 0 })),
    );
    assert.deepEqual(fp.statuses.filter((s) => /fault rule \d+ \(/.test(s)), []);
  });
});
