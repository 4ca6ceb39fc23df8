// Bundles the inspector's page (ui/src, with pgscope's own src/inspector, src/filter and
// the codec modules they use) into dist/ui/inspector.js and dist/ui/inspector.css, which
// src/web/page.ts inlines into the live page and into reports. No network at run time:
// everything the page needs is in these two files.
//
//   node scripts/build-ui.mjs
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'ui', 'src');
const out = join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(src, 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // The codec and the filter use Node's Buffer: the `buffer` package stands in for it.
  inject: [join(root, 'ui', 'buffer-shim.js')],
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  // Non-ASCII characters as \u escapes: the page's encoding can never garble the bundle.
  charset: 'ascii',
  write: false,
  logLevel: 'warning',
});
const js = result.outputFiles[0].text;

const styles = readdirSync(src)
  .filter((f) => f.endsWith('.css'))
  .sort()
  .map((f) => readFileSync(join(src, f), 'utf8'));
const css = [readFileSync(join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8'), ...styles].join('\n');

// Both are inlined into the page: nothing in them may end their element early or open an
// HTML comment (esbuild escapes "</script" in string literals; this makes sure of the rest).
for (const [name, text, tag] of [
  ['inspector.js', js, 'script'],
  ['inspector.css', css, 'style'],
]) {
  if (new RegExp(`</${tag}`, 'i').test(text) || text.includes('<!--')) throw new Error(`dist/ui/${name} contains "</${tag}" or "<!--": it cannot be inlined`);
}
// The page runs under a Content-Security-Policy without 'unsafe-eval'.
if (/\beval\(|new Function\(/.test(js)) throw new Error('dist/ui/inspector.js calls eval or new Function, which the page does not allow');

writeFileSync(join(out, 'inspector.js'), js);
writeFileSync(join(out, 'inspector.css'), css);
console.log(`dist/ui: inspector.js ${(js.length / 1024).toFixed(0)} KiB, inspector.css ${(css.length / 1024).toFixed(0)} KiB`);
