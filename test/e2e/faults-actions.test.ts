/**
 * Every fault action end to end, against a real PostgreSQL 15 server, with pgscope as a
 * library (startProxy) and its rules added and removed at run time (addFault, removeFault,
 * setFaultEnabled, clearFaults): reset, close, fatal, stall, delay (order kept), chunk,
 * bandwidth, notice, refuse, an error on the StartupMessage, the limits (times, after,
 * every, once, probability) counted through faults(), and rules changed while a
 * connection is open. What the server did is read over a connection straight to it.
 * Also: server messages longer than 1 MiB (decided from their header) still match rules
 * by name, and pgscope's own answers to the client (notice, fatal) come at message
 * boundaries even while a large result streams through.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type pg from 'pg';
import { backendsNamed, endQuietly, faultProxy, names, parseBackend, pipelineWhileStreaming, PLAIN, pgClient, rejection, ruleLines, waitNoBackend, type FaultProxy } from '../helpers/faults-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { errorFields, fe, PgError, RawClient } from '../helpers/raw-client.js';

const T = { timeout: 60_000 };
/** What node-postgres says when the connection goes away under it. */
const CONNECTION_GONE = /ECONNRESET|Connection terminated unexpectedly|read ECONNRESET|socket hang up|EPIPE/i;

let server: PgServer;
let fp: FaultProxy;
let direct: pg.Client;

before(async () => {
  server = await startPgServer({ auth: 'trust' });
  fp = await faultProxy(server);
  direct = await pgClient(server.port);
  await direct.query('create table act_t (id int primary key, note text)');
}, { timeout: 120_000 });

after(async () => {
  await endQuietly(direct);
  await fp?.proxy.close();
  await server?.stop();
});

// Each test adds its own rules; none outlives it.
afterEach(() => fp.proxy.clearFaults());

const ids = async (): Promise<number[]> => (await direct.query<{ id: number }>('select id from act_t order by id')).rows.map((r) => r.id);
const psql = (commands: string[], extra: { input?: string } = {}) =>
  server.psqlRun(commands[0]!, ['-v', 'ON_ERROR_STOP=0', ...commands.slice(1).flatMap((c) => ['-c', c])], { port: fp.proxy.port, params: PLAIN, allowFailure: true, timeoutMs: 60_000, ...extra });

describe('reset, close, fatal: the connection ends on both legs and the server rolls back', () => {
  for (const action of ['reset', 'close', 'fatal 40P01'] as const) {
    it(`${action}: node-postgres in a transaction sees the connection end; the server's backend is gone and nothing is committed`, T, async () => {
      const marker = `${action.split(' ')[0]}-marker`;
      const base = action === 'reset' ? 100 : action === 'close' ? 200 : 300;
      const app = `faults-${action.split(' ')[0]}`;
      const id = fp.proxy.addFault(`${action} when sql contains "${marker}"`);
      const c = await pgClient(fp.proxy.port, { application_name: app });
      try {
        await c.query('begin');
        await c.query('insert into act_t values ($1, $2)', [base, 'in tx']);
        assert.equal((await backendsNamed(direct, app)).length, 1);
        const e = await rejection(c.query(`insert into act_t values ($1, '${marker}')`, [base + 1]));
        if (action === 'fatal 40P01') {
          assert.equal(e.code, '40P01', String(e));
          assert.equal(e.severity, 'FATAL');
          assert.equal(e.message, 'deadlock detected');
          assert.equal(e.detail, `Injected by pgscope: fault rule ${id} (fatal 40P01 when sql contains "${marker}").`);
        } else {
          assert.match(String(e), CONNECTION_GONE);
        }
        await waitNoBackend(direct, app);
        assert.deepEqual((await ids()).filter((i) => i >= base && i < base + 100), []);
        assert.equal(fp.proxy.faults().find((f) => f.id === id)!.hits, 1);
        assert.ok(ruleLines(fp.statuses, id).length >= 1, fp.statuses.slice(-20).join('\n'));
      } finally {
        await endQuietly(c);
      }
      // Other connections are not affected.
      const other = await pgClient(fp.proxy.port);
      assert.deepEqual((await other.query('select $1::int as v', [5])).rows, [{ v: 5 }]);
      await endQuietly(other);
    });
  }

  it('reset and close: psql reports the lost connection', T, async () => {
    fp.proxy.addFault('reset when sql contains "psql-reset-marker"');
    fp.proxy.addFault('close when sql contains "psql-close-marker"');
    for (const m of ['psql-reset-marker', 'psql-close-marker']) {
      const r = await psql([`select '${m}'`]);
      assert.equal(r.code, 2, `${m}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /server closed the connection unexpectedly|connection to server was lost|Connection reset by peer|could not receive data from server/, r.stderr);
      assert.equal(r.stdout, '');
    }
  });
});

describe('stall', () => {
  it('the client sees no answer (its own timeout fires); the server never got the query; other connections work', T, async () => {
    const id = fp.proxy.addFault('stall when sql contains "stall-marker"');
    const c = await pgClient(fp.proxy.port, { application_name: 'faults-stall', query_timeout: 1000 });
    try {
      const t0 = Date.now();
      const e = await rejection(c.query("select 'stall-marker'"));
      assert.match(e.message, /Query read timeout/);
      assert.ok(Date.now() - t0 >= 950, `timed out after ${Date.now() - t0} ms`);
      // The server still waits for it: its backend is idle, the query never arrived.
      const b = await backendsNamed(direct, 'faults-stall');
      assert.equal(b.length, 1);
      assert.equal(b[0]!.state, 'idle');
      assert.doesNotMatch(b[0]!.query, /stall-marker/);
      // Another connection through pgscope is not held.
      const other = await pgClient(fp.proxy.port);
      assert.deepEqual((await other.query('select 2 as v')).rows, [{ v: 2 }]);
      await endQuietly(other);
      assert.equal(fp.proxy.faults().find((f) => f.id === id)!.hits, 1);
    } finally {
      await endQuietly(c);
    }
    // When the client goes, pgscope ends the server's leg too.
    await waitNoBackend(direct, 'faults-stall');
  });

  it('a raw client with a read timeout: nothing comes back after the stalled message, not even for later ones', T, async () => {
    fp.proxy.addFault('stall when sql contains "raw-stall-marker"');
    const c = await RawClient.connect(fp.proxy.port);
    try {
      await c.startup({ user: 'postgres', database: 'postgres' });
      c.send(fe.query("select 'raw-stall-marker'"), fe.query('select 1'));
      await assert.rejects(c.readMessage(1500), /nothing after 1500 ms/);
    } finally {
      c.destroy();
    }
  });
});

describe('delay', () => {
  it('holds the matching message and everything after it in that direction; order never changes', T, async () => {
    const id = fp.proxy.addFault('delay 300ms when sql contains "delay-order-marker"');
    const c = await RawClient.connect(fp.proxy.port);
    try {
      await c.startup({ user: 'postgres', database: 'postgres' });
      const t0 = Date.now();
      c.send(fe.query("select 'delay-order-marker' as a"), fe.query("select 'second' as b"));
      const first = await c.readUntilReady();
      const t1 = Date.now() - t0;
      const second = await c.readUntilReady();
      const t2 = Date.now() - t0;
      assert.deepEqual(names(first), ['RowDescription', 'DataRow', 'CommandComplete', 'ReadyForQuery(I)']);
      assert.deepEqual(names(second), ['RowDescription', 'DataRow', 'CommandComplete', 'ReadyForQuery(I)']);
      assert.match(first[1]!.body.toString('latin1'), /delay-order-marker/);
      assert.match(second[1]!.body.toString('latin1'), /second/);
      assert.ok(t1 >= 280 && t2 >= 280, `answers after ${t1} ms and ${t2} ms`);
      assert.ok(ruleLines(fp.statuses, id).some((l) => /Query held 300 ms/.test(l)), ruleLines(fp.statuses, id).join('\n'));
      // The server's direction: a delay on its CommandComplete holds the ReadyForQuery behind it.
      fp.proxy.addFault('delay 300ms when server and CommandComplete');
      const t3 = Date.now();
      assert.deepEqual(names(await c.roundTrip(fe.query('select 3'))), ['RowDescription', 'DataRow', 'CommandComplete', 'ReadyForQuery(I)']);
      assert.ok(Date.now() - t3 >= 280, `answered after ${Date.now() - t3} ms`);
    } finally {
      await c.terminate();
    }
  });
});

describe('chunk and bandwidth', () => {
  it('chunk 1 on server DataRows and client Queries: results are exactly those read directly', T, async () => {
    const rows = fp.proxy.addFault('chunk 1 when server and DataRow');
    const queries = fp.proxy.addFault('chunk 1 when client and Query');
    const sql = "select i, md5(i::text) as h, repeat('é', i % 7) as u from generate_series(1, 300) i";
    const c = await pgClient(fp.proxy.port);
    try {
      const want = (await direct.query(sql)).rows;
      assert.deepEqual((await c.query(sql)).rows, want);
      // A parameterised query too (Parse/Bind/Execute pass whole; DataRows in one-byte writes).
      assert.deepEqual((await c.query(`${sql} where i > $1`, [250])).rows, want.slice(250));
    } finally {
      await endQuietly(c);
    }
    const r = await psql(['select sum(i), string_agg(md5(i::text), \'\') from generate_series(1, 200) i']);
    const d = await server.psqlRun('select sum(i), string_agg(md5(i::text), \'\') from generate_series(1, 200) i', [], { params: PLAIN });
    assert.equal(r.stdout, d.stdout, r.stderr);
    const info = fp.proxy.faults();
    assert.ok(info.find((f) => f.id === rows)!.hits >= 351, JSON.stringify(info));
    assert.ok(info.find((f) => f.id === queries)!.hits >= 2, JSON.stringify(info));
  });

  it('bandwidth 100KB/s: a 200 KB result takes at least ~1.5 s, in one row or in many', T, async () => {
    fp.proxy.addFault('bandwidth 100KB/s when server and DataRow');
    const c = await pgClient(fp.proxy.port);
    try {
      let t0 = Date.now();
      const one = await c.query("select repeat('x', 200 * 1024) as v");
      const oneMs = Date.now() - t0;
      assert.equal((one.rows[0] as { v: string }).v.length, 200 * 1024);
      assert.ok(oneMs >= 1500, `one 200 KB row took ${oneMs} ms`);
      t0 = Date.now();
      const many = await c.query("select i, repeat('y', 1000) as v from generate_series(1, 200) i");
      const manyMs = Date.now() - t0;
      assert.equal(many.rows.length, 200);
      assert.ok(manyMs >= 1500, `200 rows of 1 KB took ${manyMs} ms`);
    } finally {
      await endQuietly(c);
    }
  });
});

describe('server messages longer than 1 MiB (pgscope decides from their header and streams them)', () => {
  const BIG_ROW = "select repeat('x', 3 * 1024 * 1024) as v";

  it('reset when server and DataRow: a 3 MB DataRow matches and the connection is reset', T, async () => {
    const id = fp.proxy.addFault('reset when server and DataRow');
    const c = await pgClient(fp.proxy.port);
    let outcome: string;
    try {
      outcome = await c.query(BIG_ROW).then(
        (r) => `answered (${(r.rows[0] as { v: string }).v.length} bytes)`,
        (e: Error) => `failed: ${e.message}`,
      );
    } finally {
      await endQuietly(c);
    }
    const info = fp.proxy.faults().find((f) => f.id === id)!;
    assert.match(outcome, CONNECTION_GONE, `the query ${outcome}; faults(): ${JSON.stringify(info)}`);
    assert.deepEqual({ matches: info.matches, hits: info.hits }, { matches: 1, hits: 1 });
  });

  it('bandwidth 1MB/s when server and DataRow: a 3 MB DataRow takes at least ~2.5 s', T, async () => {
    const id = fp.proxy.addFault('bandwidth 1MB/s when server and DataRow');
    const c = await pgClient(fp.proxy.port);
    try {
      const t0 = Date.now();
      const r = await c.query(BIG_ROW);
      const ms = Date.now() - t0;
      assert.equal((r.rows[0] as { v: string }).v.length, 3 * 1024 * 1024);
      const info = fp.proxy.faults().find((f) => f.id === id)!;
      assert.ok(ms >= 2500, `a 3 MB row at 1MB/s took ${ms} ms; faults(): ${JSON.stringify(info)}`);
    } finally {
      await endQuietly(c);
    }
  });
});

describe('notice', () => {
  it('the client gets the notice text before the server\'s answer: node-postgres, psql, a raw client', T, async () => {
    const id = fp.proxy.addFault('notice "hello from pgscope" when sql contains "notice-marker"');
    const c = await pgClient(fp.proxy.port);
    const notices: { message: string; detail?: string | undefined }[] = [];
    c.on('notice', (n) => notices.push({ message: n.message ?? '', detail: n.detail }));
    try {
      assert.deepEqual((await c.query("select 'notice-marker' as v")).rows, [{ v: 'notice-marker' }]);
      assert.deepEqual((await c.query("select $1::text || ' notice-marker' as v", ['x'])).rows, [{ v: 'x notice-marker' }]);
    } finally {
      await endQuietly(c);
    }
    assert.ok(notices.length >= 2, JSON.stringify(notices));
    for (const n of notices) assert.deepEqual(n, { message: 'hello from pgscope', detail: `Injected by pgscope: fault rule ${id} (notice "hello from pgscope" when sql contains "notice-marker").` });

    const r = await psql(["select 'notice-marker'"]);
    assert.equal(r.stdout, 'notice-marker\n');
    assert.match(r.stderr, /^NOTICE: {2}hello from pgscope$/m);

    const raw = await RawClient.connect(fp.proxy.port);
    try {
      await raw.startup({ user: 'postgres', database: 'postgres' });
      const got = await raw.roundTrip(fe.query("select 'notice-marker'"));
      assert.deepEqual(names(got), ['NoticeResponse', 'RowDescription', 'DataRow', 'CommandComplete', 'ReadyForQuery(I)']);
      const f = errorFields(got[0]!.body);
      assert.equal(f['S'], 'NOTICE');
      assert.equal(f['M'], 'hello from pgscope');
    } finally {
      await raw.terminate();
    }
  });
});

describe("pgscope's own answers to the client come at message boundaries", () => {
  // A 30 MB DataRow still streaming through pgscope (the client reads nothing for a
  // while) when the client pipelines a second query that a rule answers itself.
  const BIG = "select repeat('x', 30000000)";
  const BIG_BYTES = 30_000_000;

  it('notice for a pipelined query while an earlier result streams: the stream stays whole messages, the notice once, in between', T, async () => {
    fp.proxy.addFault('notice "hello mid-stream" when sql contains "notice-stream-marker"');
    const { bytes } = await pipelineWhileStreaming(fp.proxy.port, BIG, "select 'notice-stream-marker'", BIG_BYTES + 200);
    const p = parseBackend(bytes);
    const at = bytes.indexOf('hello mid-stream');
    const row = p.messages.find((m) => m.type === 'D');
    assert.ok(row === undefined || !row.body.includes('hello mid-stream'), `the NoticeResponse was written inside the server's 30 MB DataRow (its text at byte ${at} of ${bytes.length}; the DataRow's bytes are 33..${33 + 5 + 6 + BIG_BYTES})`);
    assert.equal(p.garbageAt, null, `bytes that are not a message at offset ${p.garbageAt} (of ${bytes.length}): ${JSON.stringify(bytes.subarray(p.garbageAt ?? 0, (p.garbageAt ?? 0) + 24).toString('latin1'))}`);
    assert.equal(p.rest, 0, `${p.rest} bytes of a cut message at the end`);
    const types = p.messages.map((m) => m.type);
    assert.deepEqual(types.filter((t) => t !== 'N'), ['T', 'D', 'C', 'Z', 'T', 'D', 'C', 'Z']);
    assert.equal(types.filter((t) => t === 'N').length, 1);
    assert.ok(types.indexOf('N') < types.lastIndexOf('T'), types.join(' '));
    assert.equal(errorFields(p.messages[types.indexOf('N')]!.body)['M'], 'hello mid-stream');
    const big = p.messages[1]!.body;
    assert.equal(big.length, 2 + 4 + BIG_BYTES);
    assert.equal(big.subarray(6).toString('latin1').replace(/x/g, ''), '', 'the DataRow holds only x');
  });

  it('fatal for a pipelined query while an earlier result streams: the client reads whole messages, the last one the FATAL', T, async () => {
    fp.proxy.addFault('fatal 57P01 when sql contains "fatal-stream-marker"');
    const { bytes, closed } = await pipelineWhileStreaming(fp.proxy.port, BIG, "select 'fatal-stream-marker'", BIG_BYTES + 200);
    assert.ok(closed, 'the connection ends');
    const p = parseBackend(bytes);
    assert.equal(p.garbageAt, null, `bytes that are not a message at offset ${p.garbageAt} (of ${bytes.length})`);
    assert.equal(p.rest, 0, `the stream ends with ${p.rest} bytes of a cut message (${bytes.length} bytes in all; whole messages: ${p.messages.map((m) => `${m.type}(${m.body.length})`).join(' ')}; the FATAL's text at byte ${bytes.indexOf('terminating connection')}): the FATAL was written inside the server's DataRow`);
    const last = p.messages.at(-1)!;
    assert.equal(last.type, 'E');
    assert.equal(errorFields(last.body)['C'], '57P01');
    assert.equal(errorFields(last.body)['S'], 'FATAL');
  });
});

describe('refuse, and an error on the StartupMessage', () => {
  it('refuse once: the first connection is reset at once, the next one works', T, async () => {
    const id = fp.proxy.addFault('refuse once');
    const e = await rejection(pgClient(fp.proxy.port));
    assert.match(String(e), CONNECTION_GONE);
    const c = await pgClient(fp.proxy.port);
    assert.deepEqual((await c.query('select 1 as v')).rows, [{ v: 1 }]);
    await endQuietly(c);
    assert.deepEqual(
      fp.proxy.faults().map((f) => ({ id: f.id, matches: f.matches, hits: f.hits })),
      [{ id, matches: 2, hits: 1 }],
    );
  });

  it('refuse (no limit) refuses every new connection while it holds, not those already open; refuse when conn=N only that one', T, async () => {
    const open = await pgClient(fp.proxy.port);
    try {
      const id = fp.proxy.addFault('refuse');
      for (let i = 0; i < 3; i++) assert.match(String(await rejection(pgClient(fp.proxy.port))), CONNECTION_GONE);
      // The connection opened before the rule still works.
      assert.deepEqual((await open.query('select 1 as v')).rows, [{ v: 1 }]);
      fp.proxy.removeFault(id);
      const after = await pgClient(fp.proxy.port);
      await endQuietly(after);
      // The next connection's number: one more than the last opened.
      const next = Math.max(...fp.phases.filter((p) => p.phase === 'opened').map((p) => p.conn ?? 0)) + 1;
      fp.proxy.addFault(`refuse when conn=${next}`);
      assert.match(String(await rejection(pgClient(fp.proxy.port))), CONNECTION_GONE);
      const c = await pgClient(fp.proxy.port);
      assert.deepEqual((await c.query('select 2 as v')).rows, [{ v: 2 }]);
      await endQuietly(c);
    } finally {
      await endQuietly(open);
    }
  });

  it('error on the StartupMessage: FATAL with the rule\'s code and message, and the server is never contacted', T, async () => {
    fp.proxy.addFault('error 28000 "no entry for you" when StartupMessage once');
    const serverConnected = (): number => fp.phases.filter((p) => p.phase === 'server-connected').length;
    const before = serverConnected();
    const raw = await RawClient.connect(fp.proxy.port);
    try {
      const e = await rejection(raw.startup({ user: 'postgres', database: 'postgres' }));
      assert.ok(e instanceof PgError, String(e));
      assert.equal(e.fields['S'], 'FATAL');
      assert.equal(e.fields['C'], '28000');
      assert.equal(e.fields['M'], 'no entry for you');
      await raw.waitClosed();
    } finally {
      raw.destroy();
    }
    assert.equal(serverConnected(), before);
    // The next connection goes through (once).
    const c = await pgClient(fp.proxy.port);
    assert.deepEqual((await c.query('select 1 as v')).rows, [{ v: 1 }]);
    await endQuietly(c);
  });
});

describe('limits', () => {
  it('times, after, every, after+once, probability 0 and 1: which matches act, counted by faults()', T, async () => {
    const rules = {
      times: fp.proxy.addFault('notice "times" when sql contains "lim-times" times 2'),
      after: fp.proxy.addFault('notice "after" when sql contains "lim-after" after 2'),
      every: fp.proxy.addFault('notice "every" when sql contains "lim-every" every 3'),
      skipOnce: fp.proxy.addFault('notice "skip-once" when sql contains "lim-skiponce" after 2 once'),
      never: fp.proxy.addFault('notice "never" when sql contains "lim-prob" probability 0'),
      always: fp.proxy.addFault('notice "always" when sql contains "lim-prob" probability 1'),
    };
    const c = await pgClient(fp.proxy.port);
    let notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    const acted: Record<string, number[]> = {};
    try {
      for (const marker of ['lim-times', 'lim-after', 'lim-every', 'lim-skiponce', 'lim-prob']) {
        acted[marker] = [];
        for (let i = 1; i <= 6; i++) {
          notices = [];
          // A simple Query: one message, one match.
          await c.query(`select '${marker}', ${i}`);
          if (notices.length > 0) acted[marker]!.push(i);
          if (marker === 'lim-prob') assert.deepEqual(notices, ['always']);
        }
      }
    } finally {
      await endQuietly(c);
    }
    assert.deepEqual(acted, { 'lim-times': [1, 2], 'lim-after': [3, 4, 5, 6], 'lim-every': [3, 6], 'lim-skiponce': [3], 'lim-prob': [1, 2, 3, 4, 5, 6] });
    const counts = Object.fromEntries(fp.proxy.faults().map((f) => [f.id, { matches: f.matches, hits: f.hits }]));
    assert.deepEqual(counts, {
      [rules.times]: { matches: 6, hits: 2 },
      [rules.after]: { matches: 6, hits: 4 },
      [rules.every]: { matches: 6, hits: 2 },
      [rules.skipOnce]: { matches: 6, hits: 1 },
      [rules.never]: { matches: 6, hits: 0 },
      [rules.always]: { matches: 6, hits: 6 },
    });
  });
});

describe('run-time control', () => {
  it('addFault acts on a connection already open; setFaultEnabled(false) and removeFault stop it; clearFaults empties the list', T, async () => {
    const c = await pgClient(fp.proxy.port);
    const q = (): Promise<unknown> => c.query("select 'rt-marker' as v");
    try {
      assert.deepEqual(((await q()) as pg.QueryResult).rows, [{ v: 'rt-marker' }]);
      const id = fp.proxy.addFault('error 40001 when sql ~ "rt-marker"');
      assert.equal((await rejection(q())).code, '40001');
      assert.equal(fp.proxy.setFaultEnabled(id, false), true);
      assert.deepEqual(fp.proxy.faults().map((f) => ({ id: f.id, rule: f.rule, canonical: f.canonical, enabled: f.enabled, matches: f.matches, hits: f.hits })), [
        { id, rule: 'error 40001 when sql ~ "rt-marker"', canonical: 'error 40001 when sql ~ "rt-marker"', enabled: false, matches: 1, hits: 1 },
      ]);
      assert.deepEqual(((await q()) as pg.QueryResult).rows, [{ v: 'rt-marker' }]);
      assert.equal(fp.proxy.setFaultEnabled(id, true), true);
      assert.equal((await rejection(q())).code, '40001');
      assert.equal(fp.proxy.removeFault(id), true);
      assert.equal(fp.proxy.removeFault(id), false);
      assert.equal(fp.proxy.setFaultEnabled(id, true), false);
      assert.deepEqual(((await q()) as pg.QueryResult).rows, [{ v: 'rt-marker' }]);
      // A bad rule: a TypeError naming the position; nothing is added.
      assert.throws(() => fp.proxy.addFault('error 4001 when Query'), (e: Error) => e instanceof TypeError && /at character 7/.test(e.message));
      assert.deepEqual(fp.proxy.faults(), []);
      // Several rules, then none.
      fp.proxy.addFault('error 40001 when sql contains "rt-marker"');
      fp.proxy.addFault('delay 1s when sql contains "rt-marker"');
      assert.equal(fp.proxy.faults().length, 2);
      fp.proxy.clearFaults();
      assert.deepEqual(fp.proxy.faults(), []);
      assert.deepEqual(((await q()) as pg.QueryResult).rows, [{ v: 'rt-marker' }]);
    } finally {
      await endQuietly(c);
    }
  });
});
