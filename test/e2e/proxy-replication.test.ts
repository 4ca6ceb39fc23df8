/**
 * Replication through the real pgscope process, in front of a PostgreSQL 15 publisher
 * (SCRAM; wal_sender_timeout 5 s so that idle streams carry primary keepalives):
 *
 * - pg_receivewal streams WAL while the test writes some: XLogData with LSNs as X/X,
 *   primary keepalives and standby status updates decoded;
 * - pg_recvlogical with pgoutput (proto_version 1): Begin, Relation, Insert, Update,
 *   Delete and Commit decoded;
 * - a PostgreSQL 18 server subscribes through pgscope (CREATE SUBSCRIPTION … CONNECTION
 *   to pgscope's port): the table copy and later rows reach the subscriber, and the pgoutput
 *   stream is decoded in the log;
 * - pg_basebackup -X stream: a base backup (CopyOut of tar archives) plus a parallel WAL
 *   stream, checked afterwards with pg_verifybackup.
 *
 * Nothing in the log may be flagged UNPARSED or fail to decode.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientBin, startPgServers, type PgServer } from '../helpers/pg-server.js';
import type { Pgscope } from '../helpers/pgscope.js';
import { run } from '../helpers/proc.js';
import { assertCleanLog, background, clientEnv, conninfo, connLines, connsMatching, pgscopeFor, waitConnEnd, waitUntil } from '../helpers/traffic-util.js';

const T = { timeout: 180_000 };
const LSN = '[0-9A-F]+/[0-9A-F]+';

describe('replication through pgscope (publisher PostgreSQL 15, SCRAM)', () => {
  let pub: PgServer;
  let sub: PgServer;
  let proxy: Pgscope;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let conn: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgscope-repl-'));
    [pub, sub] = (await startPgServers([
      { version: 15, auth: 'scram-sha-256', settings: { wal_sender_timeout: "'5s'" } },
      { version: 18, auth: 'trust' },
    ])) as [PgServer, PgServer];
    proxy = await pgscopeFor(pub);
    env = clientEnv(pub);
    conn = conninfo({ host: '127.0.0.1', port: proxy.port, user: 'postgres', dbname: 'postgres', sslmode: 'disable' });
    await pub.psql('CREATE TABLE items (id int PRIMARY KEY, name text, qty int)');
    await pub.psql("INSERT INTO items VALUES (1, 'initial', 10)");
    await pub.psql('CREATE PUBLICATION p FOR TABLE items');
  }, T);

  after(async () => {
    await proxy?.stop();
    await Promise.all([pub?.stop(), sub?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, T);

  /** The lines of the connection whose log matches re, once it has ended. */
  const linesOf = async (re: RegExp): Promise<string> => {
    const c = await waitConnEnd(proxy.output, re);
    return connLines(proxy.output(), c).join('\n');
  };

  it('pg_receivewal: XLogData (LSNs as X/X), primary keepalive and standby status update decoded', T, async () => {
    const walDir = join(dir, 'wal');
    mkdirSync(walDir);
    // Status updates every 10 s: the server's keepalive (after wal_sender_timeout / 2 without
    // a reply) comes first, asks for a reply, and pg_receivewal answers with a status update.
    const bg = background(clientBin('pg_receivewal'), ['-d', conn, '-D', walDir, '--no-loop', '-s', '10', '-v'], env);
    try {
      await proxy.waitFor(/"w" = XLogData/, 30_000);
      await pub.psql("CREATE TABLE wal_filler AS SELECT g, md5(g::text) FROM generate_series(1, 20000) g; SELECT pg_switch_wal()");
      await proxy.waitFor(/"k" = primary keepalive/, 30_000);
      await proxy.waitFor(/= reply requested: the client should reply as soon as possible/, 30_000);
      await proxy.waitFor(/"r" = standby status update/, 30_000);
      // The switched segment is complete on the receiver's side.
      await waitUntil(() => readdirSync(walDir).some((f) => /^[0-9A-F]{24}$/.test(f)), 30_000, 'a complete WAL segment from pg_receivewal');
    } finally {
      const code = await bg.interrupt();
      assert.equal(code, 0, `pg_receivewal exit:\n${bg.output()}`);
    }
    const lines = await linesOf(/"START_REPLICATION \d+\/[0-9A-F]+ TIMELINE 1\\x00"/);
    for (const re of [
      /server -> client: "W" = CopyBothResponse/,
      /server -> client: "d" = CopyData/,
      new RegExp(`= start of WAL data: ${LSN}`),
      new RegExp(`= current end of WAL on the server: ${LSN}`),
      /= server clock at transmission: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/,
      /"k" = primary keepalive/,
      /"r" = standby status update/,
      new RegExp(`= written to disk up to: ${LSN}`),
    ]) {
      assert.match(lines, re);
    }
    // WAL bytes are shown by size and a bounded prefix, not dumped whole.
    const longest = Math.max(...lines.split('\n').map((l) => l.length));
    assert.ok(longest < 2000, `the longest log line is ${longest} characters`);
    assertCleanLog(proxy.output());
  });

  it('pg_recvlogical with pgoutput: Begin, Relation, Insert, Update, Delete, Commit decoded', T, async () => {
    const created = await run(clientBin('pg_recvlogical'), ['-d', conn, '-S', 'recv_slot', '--create-slot', '-P', 'pgoutput'], { env });
    assert.equal(created.code, 0);
    const bg = background(clientBin('pg_recvlogical'), ['-d', conn, '-S', 'recv_slot', '--start', '-f', '-', '-o', 'proto_version=1', '-o', 'publication_names=p', '-s', '1', '--no-loop'], env, { discardStdout: true });
    try {
      const streaming = (): boolean => {
        const log = proxy.output();
        return connsMatching(log, /"START_REPLICATION SLOT \\"recv_slot\\"/).some((c) => connLines(log, c).some((l) => /"W" = CopyBothResponse/.test(l)));
      };
      await waitUntil(streaming, 30_000, 'the logical stream to start');
      await pub.psql("BEGIN; INSERT INTO items VALUES (2, 'two', 20), (3, 'three', 30); UPDATE items SET qty = qty + 1 WHERE id = 1; DELETE FROM items WHERE id = 3; COMMIT");
      await waitUntil(() => connsMatching(proxy.output(), /pgoutput message: "C" = Commit/).length > 0, 30_000, 'the pgoutput Commit in the log');
    } finally {
      await bg.interrupt();
      await pub.psql("SELECT pg_drop_replication_slot('recv_slot') FROM pg_replication_slots WHERE slot_name = 'recv_slot' AND NOT active");
    }
    const lines = await linesOf(/"START_REPLICATION SLOT \\"recv_slot\\" LOGICAL/);
    for (const re of [
      new RegExp(`pgoutput message: "B" = Begin .*= final LSN of the transaction: ${LSN}`),
      /pgoutput message: "R" = Relation .*"public\\x00" = namespace "items\\x00" = relation name/,
      /pgoutput message: "I" = Insert/,
      /"two" = text value/,
      /pgoutput message: "U" = Update/,
      /pgoutput message: "D" = Delete/,
      new RegExp(`pgoutput message: "C" = Commit .*= LSN of the commit: ${LSN}`),
      /"r" = standby status update/,
    ]) {
      assert.match(lines, re);
    }
    assertCleanLog(proxy.output());
  });

  it('a PostgreSQL 18 subscription through pgscope: initial copy and new rows arrive, pgoutput decoded', T, async () => {
    await sub.psql('CREATE TABLE items (id int PRIMARY KEY, name text, qty int)');
    const expected = await pub.psql('SELECT count(*) FROM items');
    await sub.psql(`CREATE SUBSCRIPTION s18 CONNECTION 'host=127.0.0.1 port=${proxy.port} user=postgres password=${pub.password} dbname=postgres sslmode=disable application_name=s18' PUBLICATION p`);
    try {
      await waitUntil(async () => (await sub.psql('SELECT count(*) FROM items')) === expected, 60_000, 'the initial table copy on the subscriber');
      await pub.psql("INSERT INTO items SELECT g, 'sub ' || g, g FROM generate_series(100, 149) g");
      await pub.psql("UPDATE items SET name = 'changed' WHERE id = 100");
      await waitUntil(async () => (await sub.psql("SELECT count(*) FILTER (WHERE id BETWEEN 100 AND 149), count(*) FILTER (WHERE name = 'changed') FROM items")) === '50|1', 60_000, 'the new rows on the subscriber');
      assert.equal(await sub.psql('SELECT sum(qty) FROM items WHERE id >= 100'), String((100 + 149) * 25));
    } finally {
      await sub.psql('DROP SUBSCRIPTION s18');
    }
    const stream = await linesOf(/"START_REPLICATION SLOT \\"s18\\" LOGICAL/);
    assert.match(stream, /proto_version '\d'/);
    assert.match(stream, /pgoutput message: "I" = Insert/);
    assert.match(stream, /"sub 149" = text value/);
    assert.match(stream, /pgoutput message: "U" = Update/);
    assert.match(stream, /pgoutput message: "C" = Commit/);
    // The table synchronisation: a COPY over its own replication connection.
    const sync = await linesOf(/COPY public\.items .*TO STDOUT|COPY public\.items TO STDOUT/);
    assert.match(sync, /server -> client: "H" = CopyOutResponse/);
    assertCleanLog(proxy.output());
  });

  it('pg_basebackup -X stream through pgscope completes and verifies', T, async () => {
    const target = join(dir, 'basebackup');
    const r = await run(clientBin('pg_basebackup'), ['-d', conn, '-D', target, '-X', 'stream', '-c', 'fast', '-v'], { env, timeoutMs: 150_000, allowFailure: true });
    assert.equal(r.code, 0, `pg_basebackup:\n${r.stderr}`);
    assert.match(r.stderr, /base backup completed/);
    assert.ok(existsSync(join(target, 'PG_VERSION')) && existsSync(join(target, 'backup_manifest')));
    const v = await run(clientBin('pg_verifybackup'), [target], { env, timeoutMs: 120_000, allowFailure: true });
    assert.equal(v.code, 0, `pg_verifybackup:\n${v.stdout}${v.stderr}`);
    const backup = await linesOf(/"BASE_BACKUP \(/);
    assert.match(backup, /server -> client: "H" = CopyOutResponse/);
    assert.match(backup, /"nbase\.tar\\x00\\x00" = COPY data/);
    assert.match(backup, /server -> client: "C" = CommandComplete/);
    const wal = await linesOf(/"START_REPLICATION SLOT \\"pg_basebackup_\d+\\" \d+\/[0-9A-F]+ TIMELINE 1\\x00"/);
    assert.match(wal, /"w" = XLogData/);
    assertCleanLog(proxy.output());
  });
});
