#!/usr/bin/env node
// Runs node:test over the test files under the given folders.
// Node 20's `node --test` does not expand globs, so the files are listed here.
//
//   node scripts/run-tests.mjs                 # the whole suite (what `npm test` and CI run)
//   node scripts/run-tests.mjs test/unit ...   # only these folders or files
//
// The whole suite has three lanes, so that it fits well under 15 minutes on 2 cores:
//   1. the soak (test/stress/soak.test.ts: 10 minutes of rate-limited pgbench) starts first,
//      in the background, alone in its own `node --test`;
//   2. meanwhile unit, fuzz and end-to-end tests run (two files at a time);
//   3. then the load test (test/stress/load.test.ts: 200 clients at full speed) runs, after
//      the end-to-end tests so that their timing is not disturbed by it.
// The soak's report is held back and printed when it ends, so that the two reports do not
// interleave. The exit code is non-zero if any lane failed.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const roots = argv.filter((a) => !a.startsWith('-'));
const extra = argv.filter((a) => a.startsWith('-'));
const concurrency = process.env.PGSCOPE_TEST_CONCURRENCY ?? '2';

function walk(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (/\.test\.ts$/.test(e)) out.push(p);
  }
  return out;
}

const listed = (dirs) => dirs.flatMap((d) => (d.endsWith('.ts') ? [d] : walk(d)));

/** One `node --test` over `files`; resolves to its exit code. Output inherited or to `logFile`. */
function nodeTest(files, { jobs = concurrency, logFile } = {}) {
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${jobs}`, ...extra, ...files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: logFile ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    if (logFile) {
      const out = createWriteStream(logFile);
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
      child.on('close', (code, signal) => out.end(() => resolve(code ?? (signal ? 1 : 1))));
    } else child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 1)));
    const stop = () => child.kill('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function none(files) {
  console.error('no test files found under', roots.join(', ') || 'test/');
  process.exit(1);
}

if (roots.length) {
  const files = listed(roots);
  if (files.length === 0) none();
  process.exit(await nodeTest(files));
}

// The whole suite, in its three lanes.
const main = listed(['test/unit', 'test/fuzz', 'test/e2e']);
const soak = listed(['test/stress/soak.test.ts']);
const load = listed(['test/stress/load.test.ts']);
const otherStress = listed(['test/stress']).filter((f) => !soak.includes(f) && !load.includes(f));
if (main.length === 0) none();

const dir = mkdtempSync(join(tmpdir(), 'pgscope-tests-'));
const soakLog = join(dir, 'soak.tap');
const t0 = Date.now();
console.log(`# lane 1 (background): ${soak.join(' ')}, report printed when it ends`);
const soakDone = soak.length ? nodeTest(soak, { jobs: 1, logFile: soakLog }) : Promise.resolve(0);
console.log(`# lane 2: ${main.length} files, ${concurrency} at a time`);
const mainCode = await nodeTest(main);
console.log(`# lane 3 after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${[...load, ...otherStress].join(' ')}`);
const loadCode = load.length + otherStress.length ? await nodeTest([...load, ...otherStress], { jobs: 1 }) : 0;
console.log(`# waiting for the soak (lane 1) after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
const soakCode = await soakDone;
console.log(`# lane 1 report (${soak.join(' ')}):`);
process.stdout.write(readFileSync(soakLog, 'utf8'));
rmSync(dir, { recursive: true, force: true });
const codes = { 'unit, fuzz, e2e': mainCode, load: loadCode, soak: soakCode };
console.log(`# whole suite: ${((Date.now() - t0) / 1000).toFixed(0)} s; exit codes ${JSON.stringify(codes)}`);
process.exit(Object.values(codes).some((c) => c !== 0) ? 1 : 0);
