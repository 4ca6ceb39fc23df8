/**
 * The inspector's page kept open during a benchmark, as a user would: real Chromium
 * (Debian's, driven by playwright-core) in follow mode. Without Chromium, a client that asks
 * what the page asks (the update stream, and on every update the overview and the newest
 * messages) stands in, and the report says which it was.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

function get(url: URL, path: string, onData?: (s: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { 'X-Pgscope-Token': url.searchParams.get('token') ?? '' } }, (res) => {
      res.setEncoding('utf8').on('data', (d: string) => onData?.(d));
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

export async function openInspectorPage(url: string): Promise<{ how: string; close: () => Promise<void> }> {
  if (existsSync(CHROMIUM)) {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    await page.goto(url);
    return { how: 'Chromium', close: () => browser.close() };
  }
  const u = new URL(url);
  let stopped = false;
  let busy = false;
  const token = u.searchParams.get('token') ?? '';
  const stream = request({ host: u.hostname, port: u.port, path: `/api/updates?token=${token}` }, (res) => {
    res.setEncoding('utf8').on('data', () => {
      if (stopped || busy) return;
      busy = true;
      void Promise.all([get(u, '/api/overview'), get(u, '/api/messages?offset=0&limit=200')]).finally(() => (busy = false));
    });
  });
  stream.on('error', () => undefined);
  stream.end();
  return {
    how: 'no Chromium: an HTTP client asking what the page asks',
    close: async () => {
      stopped = true;
      stream.destroy();
    },
  };
}
