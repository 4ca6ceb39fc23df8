/**
 * The inspector's page (ui/, bundled into dist/ui/) in real Chromium, over the real CLI:
 *
 * 1. live: PostgreSQL 15, `pgscope --ui` in front of it (also writing --jsonl and --pcap),
 *    the page opened before any traffic; then node-postgres and postgres.js clients run
 *    plain and parameterised queries, `select 1/0`, `select pg_sleep(0.3)`, an N+1 loop in
 *    one transaction and a pipeline. The page shows it all without a reload: the connection,
 *    statements (the error in red, pg_sleep first when slowest first, the pipeline marked,
 *    the N+1 hint), messages (filter, search, a connection selected, pause), a statement's
 *    first message with its fields and bytes (a field lights exactly its bytes, a byte
 *    selects the deepest field covering it), and the fault rules (a bad rule's reason, a
 *    rule acting, switched off, removed).
 * 2. `pgscope view` of the pcapng and of the JSON lines written meanwhile: the same.
 * 3. `pgscope report`: one file, opened from file:// with every other request blocked,
 *    shows connections, statements and bytes, and asked for nothing else.
 * 4. 100,000 messages (real lines replicated over ten connections): `pgscope view` and a
 *    report render, scroll to the last message; the times are printed, bounds are generous.
 *
 * Every page must log no error (uncaught exception, console error such as a CSP
 * violation, failed request): checked last. PGSCOPE_UI_SHOTS=DIR saves screenshots.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import type pg from 'pg';
import { launchBrowser, screenshot, waitCount, waitInPage, type OpenedPage, type TestBrowser } from '../helpers/browser.js';
import { endQuietly, pgClient, rejection } from '../helpers/faults-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { fe, RawClient } from '../helpers/raw-client.js';
import { PGSCOPE_BIN, startPgscope, type Pgscope } from '../helpers/pgscope.js';
import { run } from '../helpers/proc.js';

/**
 * Functions run in the page (page.evaluate, waitForFunction) see the DOM; this file is
 * compiled without the DOM library, so what they use is declared here, for this module only.
 */
interface El {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  tagName: string;
  parentElement: El | null;
  classList: { contains(c: string): boolean };
  querySelector(s: string): El | null;
}
declare const document: { querySelector(s: string): El | null; querySelectorAll(s: string): Iterable<El> & { length: number } };
declare function getComputedStyle(e: unknown): { color: string };
declare const window: unknown;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const T = { timeout: 180_000 };
const APP = 'inspector-ui-e2e';
/** The error's colour (--err in ui/src/inspector.css). */
const RED = 'rgb(207, 34, 46)';
const BIG_MESSAGES = 100_000;

let browser: TestBrowser;
let server: PgServer;
let proxy: Pgscope;
let dir: string;
let liveUrl: string;
const files = { jsonl: '', pcap: '', report: '', big: '', bigReport: '' };

// ---------------------------------------------------------------- helpers

/** The bundle is built from ui/src (npm run build does it); built here when missing or older. */
async function ensureUiBuilt(): Promise<void> {
  const js = join(ROOT, 'dist', 'ui', 'inspector.js');
  const newest = Math.max(...readdirSync(join(ROOT, 'ui', 'src')).map((f) => statSync(join(ROOT, 'ui', 'src', f)).mtimeMs));
  if (existsSync(js) && statSync(js).mtimeMs >= newest) return;
  await run(process.execPath, [join(ROOT, 'scripts', 'build-ui.mjs')], { timeoutMs: 120_000 });
}

interface Served {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** `pgscope view FILE` until stopped; resolves once it printed its address. */
async function view(file: string): Promise<Served> {
  const child = spawn(process.execPath, [PGSCOPE_BIN, 'view', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '' } });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pgscope view ${file} printed no address within 120 s:\n${out}`)), 120_000);
    const take = (d: string): void => {
      out += d;
      const m = /inspector: open (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', take);
    child.stderr!.setEncoding('utf8').on('data', take);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`pgscope view ${file} exited:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GET the inspector's API as a script would (the token in its header). */
async function api<T>(pageUrl: string, path: string): Promise<T> {
  const u = new URL(pageUrl);
  const r = await fetch(new URL(path, u.origin), { headers: { 'X-Pgscope-Token': u.searchParams.get('token') ?? '' } });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return (await r.json()) as T;
}

const sel = {
  conn: '[data-testid=connection-row]',
  msg: '[data-testid=message-row]',
  st: '[data-testid=statement-row]',
  field: '[data-testid=field-node]',
  byte: '[data-testid=hex-byte]',
};

/** The connection whose application_name is exactly `app`. */
function connRow(page: Page, app: string): Locator {
  return page.locator(sel.conn).filter({ has: page.locator('[data-testid=connection-app]', { hasText: new RegExp(`^${app}$`) }) });
}

async function tab(page: Page, name: 'messages' | 'statements' | 'charts' | 'faults'): Promise<void> {
  await page.click(`[data-testid=tab-${name}]`);
  await page.locator(`[data-testid=tab-${name}][aria-selected=true]`).waitFor();
}

/** Wait until the first listed statement's SQL matches `re`. */
async function waitFirstStatement(page: Page, re: RegExp): Promise<void> {
  await waitInPage(page, (src) => ((document.querySelector('[data-testid=statement-row]') as El | null)?.dataset['sql'] ?? '').match(new RegExp(src)) !== null, re.source);
}

/**
 * The checks every view of the same traffic passes (live, a capture, a report): the
 * connection, the statements (error in red, slowest first), a statement's first message,
 * a field's bytes and a byte's field.
 */
async function checkTraffic(page: Page, name: string): Promise<void> {
  // The connection, with its application_name.
  await connRow(page, APP).waitFor();
  // Statements: the error stands out in red; slowest first puts pg_sleep on top.
  await tab(page, 'statements');
  const failed = page.locator(`${sel.st}[data-error="22012"]`).first();
  await failed.waitFor();
  assert.equal(await failed.getAttribute('data-sql'), 'select 1/0');
  assert.equal(await failed.locator('[data-testid=statement-result]').evaluate((e) => getComputedStyle(e).color), RED);
  assert.match((await failed.textContent()) ?? '', /22012 division by zero/);
  await page.click('[data-testid=slowest-toggle][aria-pressed=false]');
  await waitFirstStatement(page, /pg_sleep\(0\.3\)/);
  await screenshot(page, `${name}-statements-slowest`);
  await page.click('[data-testid=slowest-toggle][aria-pressed=true]');
  await page.click('[data-testid=errors-toggle][aria-pressed=false]');
  await waitInPage(page, () => {
    const rows = [...document.querySelectorAll('[data-testid=statement-row]')];
    return rows.length >= 1 && rows.every((e) => e.dataset['error'] !== undefined) && rows.some((e) => e.dataset['error'] === '22012');
  }, null);
  await page.click('[data-testid=errors-toggle][aria-pressed=true]');
  await waitCount(page, sel.st, 5);

  // A statement opens its first message: the Query, its SQL a field.
  await page.locator(`${sel.st}[data-error="22012"]`).first().click();
  await page.locator('[data-testid=tab-messages][aria-selected=true]').waitFor();
  await page.locator('[data-testid=pane-title]', { hasText: /^Query$/ }).waitFor();
  const queryField = page.locator(`${sel.field}[data-name=query]`);
  assert.match((await queryField.textContent()) ?? '', /"select 1\/0"/);
  const queryId = Number(await page.getAttribute('[data-testid=message-pane]', 'data-id'));
  await page.locator(`${sel.msg}[data-id="${queryId}"][aria-selected=true]`).waitFor();

  // Its answer, the ErrorResponse: red in the list, its SQLSTATE named.
  const errorRow = page.locator(`${sel.msg}[data-msg=ErrorResponse]`).first();
  await errorRow.click();
  await page.locator('[data-testid=pane-title]', { hasText: 'ErrorResponse' }).waitFor();
  assert.equal(await errorRow.locator('.c-name').evaluate((e) => getComputedStyle(e).color), RED);
  assert.match((await page.textContent('[data-testid=sqlstate]')) ?? '', /22012 division_by_zero: division by zero/);

  // Pointing at a field lights exactly its bytes.
  const code = page.locator(sel.field, { hasText: 'SQLSTATE 22012' }).first();
  const offset = Number(await code.getAttribute('data-offset'));
  const length = Number(await code.getAttribute('data-length'));
  assert.ok(length > 0);
  await code.hover();
  await waitInPage(page, (n) => document.querySelectorAll('[data-testid=hex-byte].lit').length === n, length);
  const lit = await page.$$eval(`${sel.byte}.lit`, (els) => els.map((e) => Number((e as El).dataset['offset'])));
  assert.deepEqual(lit, Array.from({ length }, (_, i) => offset + i));
  await screenshot(page, `${name}-message-highlight`);

  // Clicking a byte selects the deepest field covering it.
  for (const at of [offset + 1, 0, 1]) {
    await page.locator(`${sel.byte}[data-offset="${at}"]`).click();
    const picked = await waitInPage(
      page,
      (at) => {
        const chosen = document.querySelector('[data-testid=field-node][aria-selected=true]') as El | null;
        if (!chosen) return null;
        const covering = [...document.querySelectorAll('[data-testid=field-node]')].filter((e) => {
          const o = Number((e as El).dataset['offset']);
          return at >= o && at < o + Number((e as El).dataset['length']);
        });
        // The deepest: the one with the most list items above it. (No named helper functions
        // in here: the test's compiler would wrap them in a helper the page does not have.)
        let deepest: El | null = null;
        let most = -1;
        for (const e of covering) {
          let d = 0;
          for (let p = e.parentElement; p; p = p.parentElement) if (p.tagName === 'LI') d++;
          if (d > most) {
            most = d;
            deepest = e;
          }
        }
        return deepest === chosen ? { name: chosen.dataset['name'], offset: Number(chosen.dataset['offset']), length: Number(chosen.dataset['length']) } : null;
      },
      at,
    );
    assert.ok(picked && at >= picked.offset && at < picked.offset + picked.length, JSON.stringify(picked));
    if (at === offset + 1) assert.equal(picked.offset, offset);
    if (at === 0) assert.equal(picked.name, 'type');
    if (at === 1) assert.equal(picked.name, 'length');
  }
}

/** A JSON-lines file of `n` messages over ten connections: the e2e connection's lines again and again, times moved on. */
function bigCapture(src: string, dst: string, n: number): void {
  const objects = readFileSync(src, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown> & { type: string; conn: number | null; ts: number; msg?: string });
  const conns = objects.filter((o) => o.type === 'message' && o.msg === 'StartupMessage' && JSON.stringify(o).includes(APP)).map((o) => o.conn);
  const conn = conns[0];
  assert.ok(conn !== undefined && conn !== null, 'the e2e connection in the capture');
  const mine = objects.filter((o) => o.conn === conn);
  const cycle = mine.filter((o) => o.type === 'message' || o.type === 'statement');
  const opened = mine.find((o) => o.type === 'connection' && o['phase'] === 'opened')!;
  const perCycle = cycle.filter((o) => o.type === 'message').length;
  const first = cycle[0]!.ts;
  const span = cycle[cycle.length - 1]!.ts - first + 1000;
  const lines: string[] = [];
  let clock = Date.UTC(2026, 0, 1) * 1000;
  const at = (o: Record<string, unknown>, c: number, shift: number): string => {
    const ts = (o['ts'] as number) + shift;
    const copy: Record<string, unknown> = { ...o, conn: c, ts, time: `${new Date(Math.floor(ts / 1000)).toISOString().slice(0, 19)}.${String(ts % 1_000_000).padStart(6, '0')}Z` };
    if (typeof o['startTs'] === 'number') copy['startTs'] = (o['startTs'] as number) + shift;
    return JSON.stringify(copy);
  };
  const perConn = Math.ceil(n / 10);
  let made = 0;
  for (let c = 1; c <= 10 && made < n; c++) {
    lines.push(at(opened, c, clock - opened.ts));
    let mineMade = 0;
    while (mineMade < perConn && made < n) {
      const shift = clock - first;
      for (const o of cycle) {
        if (o.type === 'message') {
          if (mineMade >= perConn || made >= n) break;
          mineMade++;
          made++;
        }
        lines.push(at(o, c, shift));
      }
      clock += span;
    }
    lines.push(JSON.stringify({ v: 1, type: 'connection', conn: c, time: new Date(clock / 1000).toISOString(), ts: clock, phase: 'closed', reason: 'client hung up', bytesFromClient: 0, bytesFromServer: 0 }));
    clock += 1000;
  }
  assert.ok(perCycle > 10);
  writeFileSync(dst, `${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------- set-up

before(async () => {
  await ensureUiBuilt();
  dir = mkdtempSync(join(tmpdir(), 'pgscope-ui-'));
  files.jsonl = join(dir, 'trace.jsonl');
  files.pcap = join(dir, 'trace.pcapng');
  files.report = join(dir, 'trace.html');
  files.big = join(dir, 'big.jsonl');
  files.bigReport = join(dir, 'big.html');
  const [b, s] = await Promise.all([launchBrowser(), startPgServer({ auth: 'trust' })]);
  browser = b;
  server = s;
  proxy = await startPgscope(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'disable', '--log-forwarded', 'none', '--ui', '--jsonl', files.jsonl, '--pcap', files.pcap]);
  const line = await proxy.waitFor(/inspector: open http:/);
  liveUrl = /(http:\/\/\S+)/.exec(line)![1]!;
}, { timeout: 180_000 });

after(async () => {
  await proxy?.stop();
  await server?.stop();
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- 1. live

describe('pgscope --ui: the live page', () => {
  let live: OpenedPage;
  let client: pg.Client;
  let conn: number;

  before(async () => {
    live = await browser.open(liveUrl);
    await live.page.locator('[data-testid=stream-state]', { hasText: 'live' }).waitFor();
    await live.page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  }, T);

  after(async () => {
    await live?.close();
    await endQuietly(client);
  });

  it('shows a new connection and its messages as they happen, following the newest', T, async () => {
    const page = live.page;
    assert.equal(await page.textContent('[data-testid=mode]'), 'live');
    client = await pgClient(proxy.port, { application_name: APP });
    await client.query('select 1 as one');
    await client.query('select $1::int + 1 as two, $2::text as word, $3::numeric as price', [41, 'teapot', '24.50']);
    const e = await rejection(client.query('select 1/0'));
    assert.equal(e.code, '22012');
    await client.query('select pg_sleep(0.3)');
    // An N+1 loop: one query per row, 25 times in one transaction.
    await client.query('begin');
    for (let i = 1; i <= 25; i++) await client.query('select $1::int as id', [i]);
    await client.query('commit');
    // A pipeline: three statements of the extended protocol sent at once, one Sync.
    const raw = await RawClient.connect(proxy.port);
    try {
      await raw.startup({ user: 'postgres', database: 'postgres', params: { application_name: `${APP}-pipeline` } });
      raw.send(
        ...[['select 1 as a', []], ['select pg_sleep(0.05)', []], ['select $1::int as b', ['2']]].flatMap(([q, v]) => [fe.parse('', q as string), fe.bind('', '', v as string[]), fe.execute('')]),
        fe.sync(),
      );
      const answer = await raw.readUntilReady();
      assert.equal(answer.filter((m) => m.type === 'C').length, 3);
      await raw.terminate();
    } finally {
      raw.destroy();
    }

    const row = connRow(page, APP);
    await row.waitFor();
    conn = Number(await row.getAttribute('data-conn'));
    assert.match((await row.textContent()) ?? '', /127\.0\.0\.1/);
    assert.match((await row.textContent()) ?? '', /plaintext/);
    assert.match((await row.textContent()) ?? '', /22012 division by zero/);
    // Following: the newest messages are in view (the pipeline's last ReadyForQuery arrives last).
    const overview = await api<{ counts: { messages: number } }>(liveUrl, '/api/overview');
    await page.locator('[data-testid=follow-toggle][aria-pressed=true]').waitFor();
    await waitInPage(page, (n) => [...document.querySelectorAll('[data-testid=message-row]')].some((e) => Number((e as El).dataset['id']) >= n), overview.counts.messages);
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    await screenshot(page, 'live-connections-follow');
  });

  it('shows the same traffic as statements and messages: the error in red, slowest first, a field’s bytes, a byte’s field', T, async () => {
    await checkTraffic(live.page, 'live');
  });

  it('marks pipelined statements and hints at the N+1 loop', T, async () => {
    const page = live.page;
    await tab(page, 'statements');
    await page.locator(`${sel.st}.pipelined [data-testid=pipelined]`).first().waitFor();
    const hint = page.locator('[data-testid=fingerprint-row]', { hasText: 'select $1::int as id' }).locator('[data-testid=nplus1-hint]');
    await hint.waitFor();
    assert.match((await hint.textContent()) ?? '', new RegExp(`ran 25 times in one transaction on #${conn} — N\\+1\\?`));
    // Bound parameters as typed values.
    const typed = page.locator(`${sel.st}[data-sql^="select $1::int + 1"] [data-testid=statement-param]`);
    await waitCount(page, `${sel.st}[data-sql^="select $1::int + 1"] [data-testid=statement-param]`, 3);
    assert.match((await typed.nth(1).textContent()) ?? '', /^\$2='teapot'/);
    await page.locator('[data-testid=nplus1-hint]').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'live-fingerprints-nplus1');
    // One lane per connection, and the timeline zoomed: wider than its box, scrolled sideways.
    const waterfall = page.locator('[data-testid=waterfall]');
    const wide = await waterfall.evaluate((e) => (e as unknown as { scrollWidth: number }).scrollWidth);
    await page.click('[data-testid=lanes-toggle]');
    await page.locator('[data-testid=waterfall] .lane-head').nth(1).waitFor();
    await page.click('[data-testid=zoom-in]');
    await page.click('[data-testid=zoom-in]');
    await page.locator('[data-testid=zoom-level]', { hasText: '4×' }).waitFor();
    await waitInPage(page, (w) => (document.querySelector('[data-testid=waterfall]') as unknown as { scrollWidth: number }).scrollWidth > w * 2, wide);
    await page.locator('[data-testid=waterfall] .lane-head').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'live-waterfall-lanes-zoomed');
    await page.click('[data-testid=lanes-toggle]');
    await tab(page, 'charts');
    await page.locator('[data-testid=chart-rate] canvas').waitFor();
    await page.locator('[data-testid=chart-latency] canvas').waitFor();
    await page.locator('[data-testid=chart-histogram] canvas').waitFor();
    await screenshot(page, 'live-charts');
  });

  it('filters messages with the --filter language and a search, narrows to a connection, pauses', T, async () => {
    const page = live.page;
    await tab(page, 'messages');
    // A filter that does not parse says where.
    await page.fill('[data-testid=filter-input]', 'nonsense ((');
    await page.locator('[data-testid=filter-error]', { hasText: 'at character 1' }).waitFor();
    // The help's examples fill the box.
    await page.click('[data-testid=filter-help-toggle]');
    await page.locator('[data-testid=filter-example]', { hasText: /^errors$/ }).click();
    await page.locator('[data-testid=filter-error]').waitFor({ state: 'detached' });
    await waitInPage(page, () => {
      const rows = [...document.querySelectorAll('[data-testid=message-row]')];
      return rows.length >= 1 && rows.every((r) => r.classList.contains('error'));
    }, null);
    await page.fill('[data-testid=filter-input]', `conn=${conn} and sql ~* "pg_sleep"`);
    await page.press('[data-testid=filter-input]', 'Enter');
    await waitInPage(page, () => {
      const rows = [...document.querySelectorAll('[data-testid=message-row]')];
      return rows.length >= 1 && rows.every((r) => (r as El).dataset['msg'] === 'Query');
    }, null);
    await page.fill('[data-testid=filter-input]', '');
    await page.press('[data-testid=filter-input]', 'Enter');
    // Plain-text search over names and summaries.
    await page.fill('[data-testid=search-input]', 'teapot');
    await waitInPage(page, () => {
      const rows = [...document.querySelectorAll('[data-testid=message-row]')];
      return rows.length >= 1 && rows.every((r) => /teapot/i.test(r.textContent ?? ''));
    }, null);
    await page.fill('[data-testid=search-input]', '');
    // A connection selected: only its messages.
    await connRow(page, `${APP}-pipeline`).click();
    const other = Number(await page.locator(`${sel.conn}[aria-selected=true]`).getAttribute('data-conn'));
    assert.notEqual(other, conn);
    await waitInPage(page, (c) => {
      const rows = [...document.querySelectorAll('[data-testid=message-row]')];
      return rows.length >= 1 && rows.every((r) => r.querySelector('.c-conn')?.textContent === `#${c}`);
    }, other);
    // The keyboard moves the selection.
    const firstRow = page.locator(sel.msg).first();
    const firstId = await firstRow.getAttribute('data-id');
    const secondId = await page.locator(sel.msg).nth(1).getAttribute('data-id');
    await firstRow.click();
    await page.locator(`[data-testid=message-pane][data-id="${firstId}"]`).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.locator(`[data-testid=message-pane][data-id="${secondId}"]`).waitFor();
    await page.locator(`${sel.msg}[data-id="${secondId}"][aria-selected=true]`).waitFor();
    await screenshot(page, 'live-connection-selected');
    const count = async (): Promise<number> => Number(((await page.textContent('[data-testid=message-total]')) ?? '').replace(/\D/g, ''));
    const narrowed = await count();
    await page.click('[data-testid=all-connections]');
    await page.locator('[data-testid=scope]').waitFor({ state: 'detached' });
    await waitInPage(page, (n) => Number((document.querySelector('[data-testid=message-total]')?.textContent ?? '').replace(/\D/g, '')) > n, narrowed);

    // Paused: pgscope records, the page waits; resumed, it catches up.
    if ((await page.locator('[data-testid=follow-toggle][aria-pressed=false]').count()) > 0) await page.click('[data-testid=follow-toggle]');
    await page.locator('[data-testid=follow-toggle][aria-pressed=true]').waitFor();
    await page.click('[data-testid=pause-toggle][aria-pressed=false]');
    await page.locator('[data-testid=stream-state]', { hasText: 'paused' }).waitFor();
    await client.query("select 'while paused' as marker");
    const total = async (): Promise<number> => (await api<{ counts: { statements: number } }>(liveUrl, '/api/overview')).counts.statements;
    const before = await total();
    for (let i = 0; i < 200 && (await total()) === before; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await page.locator(sel.msg, { hasText: 'while paused' }).count(), 0);
    await page.click('[data-testid=pause-toggle][aria-pressed=true]');
    await page.locator(sel.msg, { hasText: 'while paused' }).first().waitFor();
  });

  it('lists fault rules: a bad one is refused with its reason; one acts, is switched off, removed', T, async () => {
    const page = live.page;
    await tab(page, 'faults');
    await page.fill('[data-testid=fault-input]', 'error 40001 when nonsense');
    await page.click('[data-testid=fault-add]');
    await page.locator('[data-testid=fault-error]').waitFor();
    assert.match((await page.textContent('[data-testid=fault-error]')) ?? '', /nonsense/);
    await page.fill('[data-testid=fault-input]', 'error 40001 when sql ~ "^select 4000" once');
    await page.click('[data-testid=fault-add]');
    const row = page.locator('[data-testid=fault-row]', { hasText: 'select 4000' });
    await row.waitFor();
    await page.locator('[data-testid=fault-error]').waitFor({ state: 'detached' });
    const e = await rejection(client.query('select 4000 as n'));
    assert.equal(e.code, '40001');
    await row.locator('[data-testid=fault-acted]', { hasText: /^1$/ }).waitFor();
    await screenshot(page, 'live-faults');
    await row.locator('[data-testid=fault-toggle]').click();
    await page.locator('[data-testid=fault-row].off', { hasText: 'select 4000' }).waitFor();
    const rules = await api<{ enabled: boolean }[]>(liveUrl, '/api/faults');
    assert.deepEqual(rules.map((r) => r.enabled), [false]);
    await row.locator('[data-testid=fault-remove]').click();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual(await api<unknown[]>(liveUrl, '/api/faults'), []);
    // What the rule did is among the messages, as pgscope's own.
    await tab(page, 'messages');
    await page.fill('[data-testid=search-input]', 'fault rule');
    await page.locator(`${sel.msg}.kind-action`).first().waitFor();
    await page.fill('[data-testid=search-input]', '');
  });
});

// ---------------------------------------------------------------- 2. view

describe('pgscope view: a saved capture', () => {
  before(async () => {
    // pgscope writes its captures out and exits: the files are complete.
    assert.equal(await proxy.stop(), 0);
  }, T);

  for (const which of ['pcap', 'jsonl'] as const) {
    it(`shows the ${which === 'pcap' ? 'pcapng' : 'JSON lines'} as the live page did`, T, async () => {
      const served = await view(files[which]);
      let opened: OpenedPage | null = null;
      try {
        opened = await browser.open(served.url);
        assert.equal(await opened.page.locator('[data-testid=mode]').textContent(), 'capture');
        await checkTraffic(opened.page, `view-${which}`);
        // No live controls over a capture.
        assert.equal(await opened.page.locator('[data-testid=follow-toggle]').count(), 0);
      } finally {
        await opened?.close();
        await served.stop();
      }
    });
  }
});

// ---------------------------------------------------------------- 3. report

describe('pgscope report: one file, offline', () => {
  it('opens from file:// with every request blocked, shows connections, statements and bytes, and asked for nothing', T, async () => {
    await run(process.execPath, [PGSCOPE_BIN, 'report', files.jsonl, '-o', files.report], { timeoutMs: 120_000 });
    const html = readFileSync(files.report, 'utf8');
    assert.match(html, /connect-src &#39;none&#39;/);
    const url = `file://${files.report}`;
    const opened = await browser.open(url, { offline: true });
    try {
      assert.equal(await opened.page.locator('[data-testid=mode]').textContent(), 'report');
      await checkTraffic(opened.page, 'report');
      await screenshot(opened.page, 'report-messages');
      assert.deepEqual([...new Set(opened.requests)], [url]);
    } finally {
      await opened.close();
    }
  });
});

// ---------------------------------------------------------------- 4. 100,000 messages

describe('100,000 messages', () => {
  before(() => bigCapture(files.jsonl, files.big, BIG_MESSAGES), T);

  /** First rows drawn, then the list scrolled to its end until the last message shows; prints the times. */
  async function renderAndScroll(opened: OpenedPage, started: number, what: string): Promise<void> {
    const page = opened.page;
    await page.locator(sel.msg).first().waitFor();
    const firstRender = Date.now() - started;
    const total = Number(((await page.textContent('[data-testid=message-total]')) ?? '').replace(/\D/g, ''));
    assert.equal(total, BIG_MESSAGES);
    // Only what is in view is in the DOM.
    assert.ok((await page.locator(sel.msg).count()) < 200);
    const t0 = Date.now();
    const list = page.locator('[data-testid=message-list]');
    await list.hover();
    for (let i = 0; i < 20; i++) await page.mouse.wheel(0, 4000);
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator(`${sel.msg}[data-id="${BIG_MESSAGES}"]`).waitFor();
    const toEnd = Date.now() - t0;
    // And back to the middle, by the scroll bar's position.
    const t1 = Date.now();
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await waitInPage(page, (n) => [...document.querySelectorAll('[data-testid=message-row]')].some((e) => Math.abs(Number((e as El).dataset['id']) - n / 2) < 100), BIG_MESSAGES);
    const toMiddle = Date.now() - t1;
    console.log(`# ${what}: ${BIG_MESSAGES} messages: first rows after ${firstRender} ms, scrolled to the last in ${toEnd} ms, to the middle in ${toMiddle} ms`);
    await screenshot(page, `big-${what.replace(/\W+/g, '-')}`);
    assert.ok(firstRender < 60_000 && toEnd < 30_000 && toMiddle < 30_000, `${firstRender} ${toEnd} ${toMiddle}`);
  }

  it('pgscope view renders them and scrolls to the last', T, async () => {
    const t = Date.now();
    const served = await view(files.big);
    console.log(`# pgscope view: read the capture of ${BIG_MESSAGES} messages and served it after ${Date.now() - t} ms`);
    let opened: OpenedPage | null = null;
    try {
      const started = Date.now();
      opened = await browser.open(served.url);
      await renderAndScroll(opened, started, 'pgscope view');
    } finally {
      await opened?.close();
      await served.stop();
    }
  });

  it('a report of them renders and scrolls to the last', T, async () => {
    const t = Date.now();
    await run(process.execPath, [PGSCOPE_BIN, 'report', files.big, '-o', files.bigReport], { timeoutMs: 170_000 });
    console.log(`# pgscope report: wrote the page of ${BIG_MESSAGES} messages in ${Date.now() - t} ms`);
    const started = Date.now();
    const opened = await browser.open(`file://${files.bigReport}`, { offline: true });
    try {
      await renderAndScroll(opened, started, `report (${(statSync(files.bigReport).size / 1024 / 1024).toFixed(0)} MiB)`);
    } finally {
      await opened.close();
    }
  });
});

// ---------------------------------------------------------------- last

describe('every page', () => {
  it('logged no error: no uncaught exception, no console error (a CSP violation is one), no failed request', () => {
    assert.deepEqual(browser.problems(), []);
  });
});
