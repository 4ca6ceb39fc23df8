// Bundles the inspector's page (ui/src, with pgscope's own src/inspector and src/filter)
// into dist/ui/inspector.js and dist/ui/inspector.css, which src/web/page.ts inlines into
// the live page and into reports. No network at run time: everything is in the bundle.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(root, 'ui', 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // The codec and the filter use Node's Buffer: the `buffer` package stands in for it.
  inject: [join(root, 'ui', 'buffer-shim.js')],
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  charset: 'utf8',
  outfile: join(out, 'inspector.js'),
  logLevel: 'warning',
});

const css = [readFileSync(join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8'), readFileSync(join(root, 'ui', 'src', 'inspector.css'), 'utf8')].join('\n');
writeFileSync(join(out, 'inspector.css'), css);

// The bundle is inlined into a <script> element: nothing in it may end that element early.
const js = readFileSync(join(out, 'inspector.js'), 'utf8');
if (/<\/script/i.test(js) || js.includes('<!--')) throw new Error('dist/ui/inspector.js contains "</script" or "<!--"');
