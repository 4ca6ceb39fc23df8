/**
 * src/demo/leftovers.ts: what a `pgscope --demo` that died leaves behind (its server and its
 * folder) is cleaned by its watchdog at once, or by the next demo's sweep; and nothing that is
 * not surely a dead demo's is touched: folders of a live pgscope, of another user, writable by
 * others, symlinks, and processes that are not the recorded server (a reused pid).
 *
 * A child process plays pgscope: it makes a demo folder, starts a stand-in server (`sleep`,
 * as the server's user when we are root) and records it, then kills itself with SIGKILL.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { cleanDemoFolder, makeDemoFolder, processStart, removeDemoFolder, sweepDemoLeftovers, type FolderUser } from '../../../src/demo/leftovers.js';

const isRoot = process.getuid?.() === 0;
const MODULE = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'demo', 'leftovers.ts')).href;

function idsOf(name: string): FolderUser {
  return { uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' })) };
}
/** The server's user: postgres when we are root, else ourselves. */
const USER: FolderUser | null = isRoot ? idsOf('postgres') : null;

const made: string[] = [];
const strays: number[] = [];
after(() => {
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A root of its own for each test (as os.tmpdir(): everyone may enter, sticky). */
function root(): string {
  const d = mkdtempSync(join(tmpdir(), 'pgscope-leftovers-test-'));
  chmodSync(d, 0o1777);
  made.push(d);
  return d;
}

const gone = (pid: number): boolean => processStart(pid) === null;

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Dead {
  dir: string;
  server: number;
  watchdog: number | null;
}

/** A pgscope stand-in: makes a demo folder in `at`, a server in it, then dies by SIGKILL. */
function demoThatDies(at: string, watchdog: boolean): Promise<Dead> {
  const code = `
    const m = await import(${JSON.stringify(MODULE)});
    const { spawn, spawnSync } = await import('node:child_process');
    const user = ${JSON.stringify(USER)};
    const as = user ? { uid: user.uid, gid: user.gid } : {};
    const f = m.makeDemoFolder(user, ${JSON.stringify(at)});
    const wd = ${watchdog} ? m.startWatchdog(f.dir) : null;
    // What the server's user makes in its folder.
    spawnSync('/bin/sh', ['-c', 'mkdir -p "$1/data/base" && echo x > "$1/data/base/file"', 'sh', f.pgDir], { ...as, cwd: '/', stdio: 'inherit' });
    const s = spawn('sleep', ['300'], { ...as, detached: true, stdio: 'ignore', cwd: '/' });
    f.recordServer(s.pid);
    console.log(JSON.stringify({ dir: f.dir, server: s.pid, watchdog: wd ? wd.pid : null }));
    process.kill(process.pid, 'SIGKILL');`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.on('error', reject);
    c.on('close', (status, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`the stand-in ended with ${status ?? signal}: ${out}`));
      const d = JSON.parse(out) as Dead;
      strays.push(d.server);
      if (d.watchdog) strays.push(d.watchdog);
      resolve(d);
    });
  });
}

describe('leftovers of a demo that died', () => {
  it('makes its folder: ours, (0711 when the server is another user\'s, else 0700), owner.json 0600, pg/ the server user\'s 0700', () => {
    const f = makeDemoFolder(USER, root());
    try {
      const st = lstatSync(f.dir);
      assert.equal(st.uid, process.getuid!());
      assert.equal(st.mode & 0o777, USER ? 0o711 : 0o700);
      assert.equal(lstatSync(join(f.dir, 'owner.json')).mode & 0o777, 0o600);
      const pg = lstatSync(f.pgDir);
      assert.equal(pg.uid, USER?.uid ?? process.getuid!());
      assert.equal(pg.mode & 0o777, 0o700);
      const rec = JSON.parse(readFileSync(join(f.dir, 'owner.json'), 'utf8')) as { owner: { pid: number } };
      assert.equal(rec.owner.pid, process.pid);
    } finally {
      assert.equal(removeDemoFolder(f.dir, USER), true);
    }
    assert.equal(existsSync(f.dir), false);
  });

  it('its watchdog stops the server and removes the folder as soon as pgscope is killed', async () => {
    const at = root();
    const d = await demoThatDies(at, true);
    assert.ok(d.watchdog, 'a watchdog was started');
    await until('the server is stopped', () => gone(d.server));
    await until('the folder is removed', () => !existsSync(d.dir));
    await until('the watchdog is done', () => gone(d.watchdog!));
    assert.deepEqual(readdirSync(at), []);
  });

  it('without a watchdog, the next sweep stops the server and removes the folder', async () => {
    const at = root();
    const d = await demoThatDies(at, false);
    assert.equal(gone(d.server), false, 'the server outlives pgscope');
    assert.equal(existsSync(d.dir), true);
    assert.deepEqual(sweepDemoLeftovers(at), [d.dir]);
    assert.equal(existsSync(d.dir), false);
    await until('the server is stopped', () => gone(d.server));
    assert.deepEqual(sweepDemoLeftovers(at), [], 'nothing more to do');
  });

  it('leaves alone the folder of a pgscope that still runs', () => {
    const at = root();
    const f = makeDemoFolder(USER, at);
    assert.deepEqual(sweepDemoLeftovers(at), []);
    assert.equal(cleanDemoFolder(f.dir), 'in use');
    assert.equal(existsSync(join(f.dir, 'owner.json')), true);
    assert.equal(removeDemoFolder(f.dir, USER), true);
  });

  it('never stops a process that is not the recorded server (its pid reused)', async () => {
    const at = root();
    const d = await demoThatDies(at, false);
    const ownerFile = join(d.dir, 'owner.json');
    const rec = JSON.parse(readFileSync(ownerFile, 'utf8')) as { server: { start: string } };
    rec.server.start = '1'; // another process than the one recorded, with the same pid
    writeFileSync(ownerFile, JSON.stringify(rec));
    assert.deepEqual(sweepDemoLeftovers(at), [d.dir]);
    assert.equal(existsSync(d.dir), false);
    assert.equal(gone(d.server), false, 'still running');
  });

  it("leaves alone what is not surely a dead demo's: writable by others, a symlink, another user's", async () => {
    const at = root();
    const d = await demoThatDies(at, false);
    chmodSync(d.dir, 0o777);
    const target = mkdtempSync(join(tmpdir(), 'pgscope-leftovers-test-target-'));
    made.push(target);
    writeFileSync(join(target, 'keep'), '');
    symlinkSync(target, join(at, 'pgscope-demo-Sym123'));
    const others = join(at, 'pgscope-demo-Other1');
    if (isRoot) {
      mkdirSync(others);
      const n = idsOf('nobody');
      execFileSync('chown', [`${n.uid}:${n.gid}`, others]);
    }
    assert.deepEqual(sweepDemoLeftovers(at), []);
    assert.equal(existsSync(d.dir), true);
    assert.equal(gone(d.server), false);
    assert.deepEqual(readdirSync(target), ['keep']);
    if (isRoot) assert.equal(existsSync(others), true);
    // Once it is ours again, the sweep does its job.
    chmodSync(d.dir, USER ? 0o711 : 0o700);
    assert.deepEqual(sweepDemoLeftovers(at), [d.dir]);
    await until('the server is stopped', () => gone(d.server));
  });
});
