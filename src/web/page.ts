import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ReportData } from '../inspector/types.js';

/** The front end, built by scripts/build-ui.mjs next to this module's folder (dist/ui/). */
const UI_DIR = new URL('../ui/', import.meta.url);

export class UiMissingError extends Error {
  constructor(what: string) {
    super(`the inspector's page is not built (${what} is missing): run npm run build`);
    this.name = 'UiMissingError';
  }
}

interface UiAssets {
  js: string;
  css: string;
}

let cached: UiAssets | null = null;

/**
 * The bundle and its styles, read once. Under tsx (tests run src/ directly), `../ui/` is
 * src/ui/, which does not exist: the built copy in dist/ui/ is used then.
 */
function assets(): UiAssets {
  if (cached) return cached;
  const dirs = [UI_DIR, new URL('../../dist/ui/', import.meta.url)];
  for (const dir of dirs) {
    try {
      cached = { js: readFileSync(new URL('inspector.js', dir), 'utf8'), css: readFileSync(new URL('inspector.css', dir), 'utf8') };
      return cached;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new UiMissingError(new URL('inspector.js', UI_DIR).pathname);
}

/** A nonce for one page's inline script and style (CSP 'nonce-…'). */
export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

/** Text safe inside an HTML element or a double-quoted attribute. */
function html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Inline code must not close its element early: `</script`, `</style` and `<!--` cannot
 * appear in it (esbuild already escapes them in string literals; this makes sure).
 */
function inline(code: string, tag: 'script' | 'style'): string {
  return code.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON inside `<script type="application/json">`: no `<` at all, so nothing can end the element. */
function jsonInScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The Content-Security-Policy of a page: only its own inline script and style (by nonce),
 * no other origin; the live page may call its own server, a report nothing at all.
 */
export function contentSecurityPolicy(nonce: string, live: boolean, header = true): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `connect-src ${live ? "'self'" : "'none'"}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    // Only a header can forbid framing (in a <meta> policy, browsers ignore it and complain).
    ...(live && header ? ["frame-ancestors 'none'"] : []),
  ].join('; ');
}

/**
 * The inspector's page: the bundle and styles inline, and for a report its data. The live
 * page gets its CSP as a header too (frame-ancestors only works there).
 */
export function pageHtml(opts: { title: string; nonce: string; report: ReportData | null }): string {
  const { js, css } = assets();
  const csp = contentSecurityPolicy(opts.nonce, opts.report === null, false);
  const data = opts.report ? `<script type="application/json" id="pgscope-data">${jsonInScript(opts.report)}</script>\n` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${html(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>pgscope — ${html(opts.title)}</title>
<style nonce="${opts.nonce}">${inline(css, 'style')}</style>
</head><body><div id="app"></div>
${data}<script nonce="${opts.nonce}">${inline(js, 'script')}</script>
</body></html>
`;
}
