/**
 * --fault through the real CLI (bin/pgscope.js, the compiled build: run `npx tsc -p
 * tsconfig.build.json` first) with psql, against a real PostgreSQL 15 server, using the
 * six rules of the issue verbatim:
 *
 *   --fault 'error 40001 when sql ~ "^\s*update" once'
 *   --fault 'delay 300ms when sql contains "delay-marker"'
 *   --fault 'fatal 57P01 when sql contains "boom-marker"'
 *   --fault 'error 53300 "sorry, too many clients already" when StartupMessage probability 0.5'
 *   --fault 'reset when server and DataRow after 1000'
 *   --fault 'delay 50ms..200ms when client'
 *
 * Rules whose effects would mix (the startup refusals, the DataRow count, the delay on
 * every client message) each get a pgscope of their own. Every injected fault is logged as
 * `fault rule N (canonical rule)`, and at stop each rule's counts. A rule that is not one
 * makes pgscope exit with status 2 and a one-line error naming the character position.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { endQuietly, PLAIN, pgClient, waitNoBackend } from '../helpers/faults-util.js';
import { startPgServer, type PgServer, type PsqlOptions } from '../helpers/pg-server.js';
import { PGSCOPE_BIN, type Pgscope } from '../helpers/pgscope.js';
import { run } from '../helpers/proc.js';
import { pgscopeFor } from '../helpers/traffic-util.js';

const T = { timeout: 90_000 };

const R = {
  update: 'error 40001 when sql ~ "^\\s*update" once',
  delayMarker: 'delay 300ms when sql contains "delay-marker"',
  boom: 'fatal 57P01 when sql contains "boom-marker"',
  startup: 'error 53300 "sorry, too many clients already" when StartupMessage probability 0.5',
  reset: 'reset when server and DataRow after 1000',
  delayClient: 'delay 50ms..200ms when client',
};
const ALL = [R.update, R.delayMarker, R.boom, R.startup, R.reset, R.delayClient];

let server: PgServer;
let direct: pg.Client;
/** Rules 1-3 (they touch only statements carrying their markers). */
let markers: Pgscope;
let startup: Pgscope;
let reset: Pgscope;
let delayClient: Pgscope;

const faultArgs = (rules: string[]): string[] => ['--server-sslmode', 'disable', ...rules.flatMap((r) => ['--fault', r])];

before(async () => {
  server = await startPgServer({ auth: 'trust' });
  direct = await pgClient(server.port);
  await direct.query('create table cli_t (id int primary key, v int)');
  [markers, startup, reset, delayClient] = await Promise.all([
    pgscopeFor(server, faultArgs([R.update, R.delayMarker, R.boom])),
    pgscopeFor(server, [...faultArgs([R.startup]), '--log-forwarded', 'none']),
    pgscopeFor(server, [...faultArgs([R.reset]), '--log-forwarded', 'none']),
    pgscopeFor(server, [...faultArgs([R.delayClient]), '--log-forwarded', 'none']),
  ]);
}, { timeout: 120_000 });

after(async () => {
  await Promise.all([markers, startup, reset, delayClient].map((p) => p?.stop()));
  await endQuietly(direct);
  await server?.stop();
});

/** psql through one pgscope: every -c its own Query, going on after errors. */
function psql(p: Pgscope, commands: string[], o: PsqlOptions = {}) {
  return server.psqlRun(commands[0]!, ['-v', 'ON_ERROR_STOP=0', ...commands.slice(1).flatMap((c) => ['-c', c])], { port: p.port, allowFailure: true, timeoutMs: 60_000, env: { PGCONNECT_TIMEOUT: '60' }, ...o, params: { ...PLAIN, ...(o.params ?? {}) } });
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The counts pgscope logs for rule N at stop: [hits, matches]. */
function stopCounts(out: string, n: number, rule: string): [number, number] {
  const line = out.split('\n').find((l) => l.startsWith(`fault rule ${n} (${rule}): acted `));
  assert.ok(line, `no count line for rule ${n} in:\n${out.split('\n').filter((l) => /fault rule/.test(l)).slice(-20).join('\n')}`);
  const m = /acted (\d+) time\(s\) on (\d+) match\(es\)$/.exec(line);
  assert.ok(m, line);
  return [Number(m[1]), Number(m[2])];
}

describe('the six rules of the issue, verbatim, through the CLI', () => {
  it('all six are accepted and listed at start-up in canonical form (here: as written); counts at stop', T, async () => {
    const p = await pgscopeFor(server, faultArgs(ALL));
    const code = await p.stop();
    assert.equal(code, 0, p.stderr());
    const out = p.output();
    ALL.forEach((r, i) => {
      assert.ok(out.split('\n').includes(`--fault: rule ${i + 1}: ${r}`), `rule ${i + 1} not listed:\n${out}`);
      assert.deepEqual(stopCounts(out, i + 1, r), [0, 0]);
    });
  });

  it(`${R.update}: the first update (leading white space) gets 40001, the next one runs; the server agrees`, T, async () => {
    const r = await psql(markers, ['insert into cli_t values (1, 1)', '\n   update cli_t set v = 2 where id = 1', 'update cli_t set v = 3 where id = 1', 'select v from cli_t where id = 1']);
    assert.equal(r.stdout, '3\n', r.stderr);
    assert.equal(r.stderr, `ERROR:  could not serialize access due to concurrent update\nDETAIL:  Injected by pgscope: fault rule 1 (${R.update}).\n`);
    assert.deepEqual((await direct.query('select v from cli_t where id = 1')).rows, [{ v: 3 }]);
    await markers.waitFor(new RegExp(`^#\\d+  fault rule 1 \\(${escape(R.update)}\\): Query`));
  });

  it(`${R.delayMarker}: the statement is answered after >= 300 ms, correctly`, T, async () => {
    const t0 = Date.now();
    const r = await psql(markers, ["select 'delay-marker'"]);
    const ms = Date.now() - t0;
    assert.equal(r.stdout, 'delay-marker\n', r.stderr);
    assert.ok(ms >= 280, `answered after ${ms} ms`);
    await markers.waitFor(/^#\d+  fault rule 2 \(delay 300ms when sql contains "delay-marker"\): Query held 300 ms/);
  });

  it(`${R.boom}: psql gets FATAL 57P01 and loses the connection; the server rolled back and ended the backend`, T, async () => {
    const r = await psql(markers, ['begin', 'insert into cli_t values (99, 0)', "select 'boom-marker'", 'commit'], { params: { application_name: 'cli-boom' } });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^FATAL: {2}terminating connection due to administrator command\nDETAIL: {2}Injected by pgscope: fault rule 3 \(fatal 57P01 when sql contains "boom-marker"\)\.\n/);
    assert.match(r.stderr, /server closed the connection unexpectedly|connection to server was lost/);
    await waitNoBackend(direct, 'cli-boom');
    assert.deepEqual((await direct.query('select id from cli_t where id = 99')).rows, []);
    await markers.waitFor(/^#\d+  fault rule 3 \(fatal 57P01 when sql contains "boom-marker"\): Query not forwarded/);
  });

  it(`${R.startup}: of 40 psql connections, between 5 and 35 are refused with FATAL 53300, the others work`, T, async () => {
    const results: { ok: boolean; refused: boolean; text: string }[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const rs = await Promise.all(Array.from({ length: 4 }, () => psql(startup, ['select 1'])));
      for (const r of rs) {
        const ok = r.code === 0 && r.stdout === '1\n';
        const refused = r.code === 2 && /FATAL: {2}sorry, too many clients already/.test(r.stderr) && /fault rule 1 \(error 53300/.test(r.stderr);
        results.push({ ok, refused, text: `${r.code}: ${r.stdout}${r.stderr}` });
      }
    }
    const odd = results.filter((r) => !r.ok && !r.refused);
    assert.deepEqual(odd, [], 'every connection either works or is refused');
    const refused = results.filter((r) => r.refused).length;
    assert.ok(refused >= 5 && refused <= 35, `${refused} of 40 refused`);
    await startup.stop();
    assert.deepEqual(stopCounts(startup.output(), 1, R.startup), [refused, 40]);
    assert.equal(startup.output().split('\n').filter((l) => /^#\d+  fault rule 1 \(error 53300 "sorry, too many clients already" when StartupMessage probability 0\.5\): StartupMessage/.test(l)).length, refused);
  });

  it(`${R.reset}: 500 rows pass, then a 5000-row result fails with a closed connection`, T, async () => {
    const ok = await psql(reset, ['select generate_series(1, 500)']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.split('\n').filter(Boolean).length, 500);
    const bad = await psql(reset, ['select generate_series(1, 5000)']);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /server closed the connection unexpectedly|connection to server was lost|Connection reset by peer|could not receive data from server/, bad.stderr);
    await reset.waitFor(/^#\d+  fault rule 1 \(reset when server and DataRow after 1000\): DataRow not forwarded, connection reset/);
    await reset.stop();
    // The 1001st DataRow of this pgscope's life: 500 from the first result, 501 from the second.
    assert.deepEqual(stopCounts(reset.output(), 1, R.reset), [1, 1001]);
  });

  it(`${R.delayClient}: a psql session still works, gives what it gives directly, and takes longer`, T, async () => {
    const commands = ['select 1', "select 'two'", 'select 3 + 3', 'select count(*) from generate_series(1, 100)', "select string_agg(i::text, ',') from generate_series(1, 5) i"];
    const want = await server.psqlRun(commands[0]!, commands.slice(1).flatMap((c) => ['-c', c]), { params: PLAIN });
    const t0 = Date.now();
    const r = await psql(delayClient, commands);
    const ms = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, want.stdout);
    // Five Queries (the StartupMessage is acted on only by rules that name it), then
    // Terminate: at least 5 × 50 ms before the last answer.
    assert.ok(ms >= 240, `took ${ms} ms`);
    await delayClient.stop();
    const held = delayClient
      .output()
      .split('\n')
      .flatMap((l) => {
        const m = /^#\d+  fault rule 1 \(delay 50ms\.\.200ms when client\): \w+ held (\d+) ms/.exec(l);
        return m ? [Number(m[1])] : [];
      });
    assert.ok(held.length >= 6, `held lines: ${held.join(', ')}`);
    for (const h of held) assert.ok(h >= 50 && h <= 200, `held ${h} ms`);
    const [hits, matches] = stopCounts(delayClient.output(), 1, R.delayClient);
    assert.equal(hits, matches);
    assert.equal(hits, held.length);
  });
});

describe('a rule that is not one', () => {
  const CASES: { rule: string; at: number; problem: RegExp }[] = [
    { rule: 'error 4001 when Query', at: 7, problem: /SQLSTATE/ },
    { rule: 'delay 300ms when sql contians "x"', at: 22, problem: /contains/ },
    { rule: 'delay 300 when client', at: 7, problem: /duration/ },
    { rule: 'error 40001 when sql ~ "^\\s*update" twice', at: 'error 40001 when sql ~ "^\\s*update" '.length + 1, problem: /"once", "times", "after", "every", "probability"/ },
    { rule: 'refuse when Query', at: 8, problem: /conn=/ },
    { rule: 'notice "unterminated', at: 8, problem: /closing double quote/ },
    { rule: 'explode', at: 1, problem: /action/ },
  ];
  for (const c of CASES) {
    it(`--fault '${c.rule}': exit status 2, one line naming character ${c.at}`, T, async () => {
      const r = await run(process.execPath, [PGSCOPE_BIN, '--server-host', '127.0.0.1', '-p', '0', '--fault', 'delay 1ms when client', '--fault', c.rule], { allowFailure: true, timeoutMs: 60_000 });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.startsWith(`pgscope: --fault ${JSON.stringify(c.rule)}: at character ${c.at}: `), lines[0]);
      assert.match(lines[0]!, c.problem);
    });
  }
});

describe('--help', () => {
  it("shows the issue's example rules verbatim (a user can paste them)", T, async () => {
    const r = await run(process.execPath, [PGSCOPE_BIN, '--help'], { timeoutMs: 60_000 });
    for (const rule of [R.update, R.boom, R.startup, R.reset, R.delayClient]) assert.ok(r.stdout.includes(`--fault '${rule}'`), `--help lacks --fault '${rule}':\n${r.stdout.split('\n').filter((l) => l.includes('--fault')).join('\n')}`);
  });
});
