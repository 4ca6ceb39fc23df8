// Development aid: open an inspector page (URL or file) in Chromium, report console errors,
// and take screenshots of the main views into /tmp/pgscope-shots/dev-*.png.
//   node ui/dev/shot.mjs "http://127.0.0.1:PORT/?token=…"   or   node ui/dev/shot.mjs /tmp/report.html
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const target = process.argv[2];
const url = /^https?:|^file:/.test(target) ? target : `file://${target}`;
const dir = '/tmp/pgscope-shots';
mkdirSync(dir, { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && console.log(`console ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.locator('[data-testid=message-row]').first().waitFor();
  const rows = page.locator('[data-testid=message-row]');
  await page.fill('[data-testid=filter-input]', 'errors');
  await page.press('[data-testid=filter-input]', 'Enter');
  await rows.filter({ hasText: 'ErrorResponse' }).first().click();
  await page.fill('[data-testid=filter-input]', '');
  await page.press('[data-testid=filter-input]', 'Enter');
  await page.locator('[data-testid=field-node]').first().waitFor();
  await page.locator('[data-testid=field-node][data-name=value]').nth(2).hover();
  await page.screenshot({ path: `${dir}/dev-messages.png` });
  await page.click('[data-testid=tab-statements]');
  await page.locator('[data-testid=statement-row]').first().waitFor();
  await page.screenshot({ path: `${dir}/dev-statements.png` });
  await page.click('[data-testid=tab-charts]');
  await page.locator('[data-testid=chart-rate] canvas').waitFor();
  await page.screenshot({ path: `${dir}/dev-charts.png` });
  console.log('ok');
} finally {
  await browser.close();
}
