/**
 * docs/architecture.md's promise about imports, checked: every import between src/'s
 * layers runs downward (the table below is the document's), and no files import each
 * other in a circle, type-only imports included.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

/** What each layer may import (besides itself). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  'index.ts': ['app', 'faults', 'session', 'output', 'protocol'],
  app: ['web', 'capture', 'inspector', 'net', 'faults', 'output', 'session', 'analysis', 'filter', 'protocol', 'tls', 'demo'],
  web: ['inspector', 'faults'],
  capture: ['output', 'session', 'protocol'],
  inspector: ['output', 'session', 'analysis', 'filter', 'protocol'],
  net: ['session', 'protocol', 'tls'],
  faults: ['session', 'analysis', 'filter', 'protocol'],
  output: ['session', 'analysis', 'filter', 'protocol'],
  session: ['analysis', 'protocol', 'tls'],
  analysis: ['protocol'],
  filter: ['protocol'],
  demo: ['protocol', 'tls'],
  protocol: [],
  tls: [],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative specifiers of a file's static imports and re-exports, and of type-position import('…'). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)) found.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+'(\.{1,2}\/[^']+)'/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) found.push(m[1]!);
  return found.map((spec) => relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
}

const layerOf = (rel: string): string => (rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : rel);

const files = sourceFiles(SRC).map((f) => relative(SRC, f));
const graph = new Map(files.map((f) => [f, importsOf(join(SRC, f))]));

describe('imports in src/', () => {
  it('finds the files and their imports (the check is not vacuous)', () => {
    assert.ok(files.length > 150, `${files.length} files`);
    assert.ok(graph.get('session/core.ts')!.includes('protocol/types.ts'), 'session/core.ts imports protocol/types.ts');
    assert.ok(graph.get('protocol/types.ts')!.includes('protocol/errors.ts'), 'type-only imports are seen');
  });

  it('name files that exist', () => {
    const missing = [...graph].flatMap(([f, to]) => to.filter((t) => !graph.has(t)).map((t) => `${f} -> ${t}`));
    assert.deepEqual(missing, []);
  });

  it('run downward between layers', () => {
    const layers = new Set(files.map(layerOf));
    assert.deepEqual([...layers].filter((l) => !(l in MAY_IMPORT)), [], 'every layer is in the table');
    const uphill = [...graph].flatMap(([f, to]) =>
      to.filter((t) => layerOf(t) !== layerOf(f) && !MAY_IMPORT[layerOf(f)]!.includes(layerOf(t))).map((t) => `${f} -> ${t}`),
    );
    assert.deepEqual(uphill, []);
  });

  it('make no circle', () => {
    // Tarjan's strongly connected components: any component of more than one file is a circle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const circles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
      }
    };
    for (const f of files) if (!idx.has(f)) visit(f);
    assert.deepEqual(circles, []);
  });
});
