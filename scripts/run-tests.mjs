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
// The soak's report is held back and printed when it ends (or when the run is
// interrupted), so that the two reports do not interleave. The exit code is non-zero if
// any lane failed; 128 + the signal's number if the run was interrupted. Every failed test
// (its `not ok` line and the YAML block after it: location, error, stack) is repeated at the
// very end, so that the tail of a long CI log says what failed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
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

const listed = (dirs) => dirs.flatMap((d) => (d.endsWith('.ts') ? (existsSync(d) ? [d] : []) : walk(d)));

// ---------------------------------------------------------------- children and signals

const children = new Set();
let interrupted = null;
/** Run when interrupted, before exiting: print what is held back, remove temporary files. */
let onInterrupt = () => {};

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    console.log(`# ${sig}: stopping every lane`);
    // Each lane is its own process group: the test files' servers and proxies go too.
    for (const c of children) {
      try {
        process.kill(-c.pid, 'SIGTERM');
      } catch {
        c.kill('SIGTERM');
      }
    }
    // The lanes' close handlers finish the job; exit anyway if a child does not stop.
    setTimeout(() => finish(), 30_000).unref();
  });
}

function finish(code) {
  try {
    onInterrupt();
  } catch {
    /* best effort */
  }
  printFailures();
  process.exit(interrupted ? 128 + constants.signals[interrupted] : code);
}

// ---------------------------------------------------------------- failures, repeated at the end

/** Each failed test's `not ok` line and its YAML block, in the order they were reported. */
const failures = [];
const MAX_FAILURES = 30;
const MAX_BLOCK_LINES = 60;

/** Follows TAP text line by line and keeps the blocks of failed tests (not of suites that only failed through them). */
function failureCollector() {
  let pending = '';
  let block = null; // { lines, indent } while inside a failed test's block
  const names = []; // names[depth]: the subtest being run at that depth (4 spaces per level)
  const line = (l) => {
    if (block) {
      if (block.lines.length < MAX_BLOCK_LINES) block.lines.push(l);
      // The YAML block ends with `...` at the test's indentation plus two.
      if (l.trimEnd() === `${' '.repeat(block.indent + 2)}...`) {
        const text = block.lines.join('\n');
        if (!/failureType: 'subtestsFailed'/.test(text) && failures.length < MAX_FAILURES) failures.push(text);
        block = null;
      }
      return;
    }
    const sub = /^(\s*)# Subtest: (.*)$/.exec(l);
    if (sub) {
      const depth = sub[1].length / 4;
      names.length = depth;
      names[depth] = sub[2];
      return;
    }
    const m = /^(\s*)not ok \d+/.exec(l);
    if (m) {
      const path = names.slice(0, m[1].length / 4 + 1).join(' > ');
      block = { lines: [`# ${path}`, l], indent: m[1].length };
    }
  };
  return {
    write(chunk) {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const l of lines) line(l);
    },
    end() {
      if (pending) line(pending);
      pending = '';
    },
  };
}

function printFailures() {
  if (failures.length === 0) return;
  console.log(`# failed tests (${failures.length}${failures.length === MAX_FAILURES ? ' or more' : ''}), repeated from above:`);
  for (const f of failures) console.log(f);
}

/** One `node --test` over `files`; resolves to its exit code. Output to stdout, or to the file `logFd`. */
function nodeTest(files, { jobs = concurrency, logFd } = {}) {
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${jobs}`, ...extra, ...files];
  return new Promise((resolve) => {
    // detached: a process group of its own, stopped as a whole when the run is interrupted.
    const stdio = logFd === undefined ? ['inherit', 'pipe', 'inherit'] : ['ignore', logFd, logFd];
    const child = spawn(process.execPath, args, { detached: true, stdio });
    if (child.stdout) {
      const collect = failureCollector();
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (s) => {
        process.stdout.write(s);
        collect.write(s);
      });
      child.stdout.on('end', () => collect.end());
    }
    children.add(child);
    child.on('error', (e) => {
      console.log(`# could not run node --test: ${e.message}`);
      children.delete(child);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      if (signal) console.log(`# node --test ended by ${signal}`);
      resolve(code ?? 1);
    });
  });
}

if (roots.length) {
  const files = listed(roots);
  if (files.length === 0) {
    console.error('no test files found under', roots.join(', '));
    process.exit(1);
  }
  finish(await nodeTest(files));
}

// ---------------------------------------------------------------- the whole suite, in three lanes

const main = listed(['test/unit', 'test/fuzz', 'test/e2e']);
const soak = listed(['test/stress/soak.test.ts']);
const load = listed(['test/stress/load.test.ts']);
const otherStress = listed(['test/stress']).filter((f) => !soak.includes(f) && !load.includes(f));
if (main.length === 0) {
  console.error('no test files found under test/');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'pgscope-tests-'));
const soakLog = join(dir, 'soak.tap');
let soakPrinted = false;
const printSoak = () => {
  if (soakPrinted || soak.length === 0) return;
  soakPrinted = true;
  console.log(`# lane 1 report (${soak.join(' ')}):`);
  try {
    const text = readFileSync(soakLog, 'utf8');
    process.stdout.write(text);
    const collect = failureCollector();
    collect.write(text);
    collect.end();
  } catch (e) {
    console.log(`# (no report: ${e.message})`);
  }
};
onInterrupt = () => {
  printSoak();
  rmSync(dir, { recursive: true, force: true });
};

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
let soakDone = Promise.resolve(0);
if (soak.length) {
  console.log(`# lane 1 (background): ${soak.join(' ')}, report printed when it ends`);
  const fd = openSync(soakLog, 'w');
  soakDone = nodeTest(soak, { jobs: 1, logFd: fd }).finally(() => closeSync(fd));
}
console.log(`# lane 2: ${main.length} files, ${concurrency} at a time`);
const mainCode = await nodeTest(main);
let loadCode = 0;
const third = [...load, ...otherStress];
if (third.length && !interrupted) {
  console.log(`# lane 3 after ${elapsed()}: ${third.join(' ')}`);
  loadCode = await nodeTest(third, { jobs: 1 });
}
if (soak.length && !interrupted) console.log(`# waiting for the soak (lane 1) after ${elapsed()}`);
const soakCode = await soakDone;
printSoak();
const codes = { 'unit, fuzz, e2e': mainCode, load: loadCode, soak: soakCode };
console.log(`# whole suite: ${elapsed()}; exit codes ${JSON.stringify(codes)}`);
rmSync(dir, { recursive: true, force: true });
finish(Object.values(codes).some((c) => c !== 0) ? 1 : 0);
