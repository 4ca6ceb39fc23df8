/**
 * Real Chromium (Debian's, driven by playwright-core) for the inspector's page.
 *
 * `launchBrowser()` starts one headless Chromium with a fresh profile (no extensions, no
 * background networking); `open()` gives each page a fresh context and records everything
 * that went wrong in it: uncaught exceptions, console errors (a Content-Security-Policy
 * violation is one), failed requests. `offline: true` blocks every request but the file
 * itself (a report must need nothing else) and lists what was attempted. Tests wait for
 * conditions (locators, `page.waitForFunction`), never for time.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['PGSCOPE_CHROMIUM'] ?? '/usr/bin/chromium';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Generous: a loaded 2-core machine runs Chromium, PostgreSQL and pgscope at once. */
const WAIT_MS = 60_000;

export interface OpenedPage {
  page: Page;
  context: BrowserContext;
  /** Every request the page attempted (offline pages: including those blocked). */
  requests: string[];
  /** Uncaught exceptions, console errors and failed requests, in order. */
  problems: string[];
  close(): Promise<void>;
}

export interface TestBrowser {
  browser: Browser;
  open(url: string, opts?: { offline?: boolean; width?: number; height?: number }): Promise<OpenedPage>;
  /** Problems of every page opened so far, each prefixed with its address. */
  problems(): string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: WAIT_MS });
  const all: string[] = [];
  const pages: OpenedPage[] = [];
  return {
    browser,
    problems: () => [...all],
    async open(url, opts = {}) {
      const context = await browser.newContext({ viewport: { width: opts.width ?? 1500, height: opts.height ?? 950 }, serviceWorkers: 'block' });
      const requests: string[] = [];
      const problems: string[] = [];
      const note = (p: string): void => {
        problems.push(p);
        all.push(`${url.replace(/token=[^&]+/, 'token=…')}: ${p}`);
      };
      if (opts.offline) {
        await context.route('**', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
      }
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => note(`uncaught ${e.name}: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') note(`console error: ${m.text()}`);
      });
      page.on('requestfailed', (r) => {
        // Blocked on purpose (offline): counted in `requests`, which the test checks.
        if (!opts.offline) note(`request failed: ${r.url().replace(/token=[^&]+/, 'token=…')} (${r.failure()?.errorText ?? '?'})`);
      });
      await page.goto(url);
      const opened: OpenedPage = { page, context, requests, problems, close: () => context.close() };
      pages.push(opened);
      return opened;
    },
    async close() {
      for (const p of pages) await p.close().catch(() => undefined);
      await browser.close();
    },
  };
}

/** A screenshot into $PGSCOPE_UI_SHOTS (when set): the views as a person sees them. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env['PGSCOPE_UI_SHOTS'];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}

/** The page's document, as the functions run in it use it (this file is compiled without the DOM library). */
declare const document: { querySelectorAll(s: string): { length: number } };

/** Wait until `selector` matches at least `n` elements. */
export async function waitCount(page: Page, selector: string, n: number): Promise<void> {
  await page.waitForFunction(({ selector, n }: { selector: string; n: number }) => document.querySelectorAll(selector).length >= n, { selector, n }, { timeout: WAIT_MS, polling: 50 });
}

/** Wait until `fn`, run in the page, returns something truthy; resolves with it. */
export async function waitInPage<T, A>(page: Page, fn: (arg: A) => T, arg: A): Promise<T> {
  const h = await page.waitForFunction(fn as (arg: unknown) => T, arg as unknown, { timeout: WAIT_MS, polling: 50 });
  return (await h.jsonValue()) as T;
}
