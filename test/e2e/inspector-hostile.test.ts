/**
 * Wire text is shown as text, never as markup: a report (written by the real CLI) of a
 * capture whose SQL, application_name, error message and file name are HTML and script
 * opens in real Chromium with no script of theirs run, no page error and no request made.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { PGSCOPE_BIN } from '../helpers/pgscope.js';
import { run } from '../helpers/proc.js';

const EVIL = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2"><!--';

let dir: string;
let browser: TestBrowser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-hostile-'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function head(type: string, ts: number): Record<string, unknown> {
  return { v: 1, type, conn: 1, time: new Date(ts / 1000).toISOString(), ts };
}

describe('a report of hostile wire text', () => {
  it('shows it as text, runs none of it, and asks for nothing', async () => {
    const t = 1_800_000_000_000_000;
    const side = (from: string, to: string, dir: string) => ({ label: `${from} -> ${to}`, from, to, dir });
    const query = Buffer.concat([Buffer.from('Q'), Buffer.alloc(4), Buffer.from(`${EVIL}\0`)]);
    query.writeInt32BE(query.length - 1, 1);
    const objects = [
      { ...head('connection', t), phase: 'opened', client: { address: '127.0.0.1', port: 40000 }, local: { address: '127.0.0.1', port: 5432 } },
      {
        ...head('message', t + 1), ...side('client', 'server', 'frontend'), kind: 'startup', offset: 0, msg: 'StartupMessage', sub: [], typeByte: null, length: 40, size: 40,
        fields: [{ name: 'parameters', offset: 8, length: 31, children: [{ name: 'parameter', offset: 8, length: 30, children: [{ name: 'name', offset: 8, length: 17, value: 'application_name' }, { name: 'value', offset: 25, length: 13, value: EVIL }] }] }],
      },
      {
        ...head('message', t + 2), ...side('client', 'server', 'frontend'), kind: 'message', offset: 40, msg: 'Query', sub: [], typeByte: 'Q', length: query.length - 1, size: query.length,
        fields: [{ name: 'type', offset: 0, length: 1, value: 'Q' }, { name: 'length', offset: 1, length: 4, value: query.length - 1 }, { name: 'query', offset: 5, length: query.length - 5, value: EVIL }],
        raw: query.toString('hex'),
      },
      {
        ...head('statement', t + 3), start: new Date(t / 1000).toISOString(), startTs: t + 2, duration: 1, untilReady: 1.1, protocol: 'simple', sql: EVIL, statement: null, portal: null, params: [],
        rows: null, tag: null, affected: null, error: { severity: 'ERROR', code: '42601', message: EVIL },
      },
    ];
    const file = join(dir, 'evil<img src=x onerror=window.pwned=3>.jsonl');
    writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const html = join(dir, 'evil.html');
    const r = await run(process.execPath, [PGSCOPE_BIN, 'report', file, '-o', html], { timeoutMs: 60_000 });
    assert.match(r.stdout, /wrote/);
    const opened = await browser.open(`file://${html}`, { offline: true });
    const page = opened.page;
    await page.locator('[data-testid=message-row]', { hasText: 'window.pwned=1' }).first().waitFor();
    await page.locator('[data-testid=connection-row]', { hasText: 'window.pwned=1' }).first().waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), undefined);
    assert.match(await page.title(), /evil<img src=x onerror=window\.pwned=3>\.jsonl/);
    assert.deepEqual(opened.requests, [`file://${html}`]);
    assert.deepEqual(opened.problems, []);
  });
});
