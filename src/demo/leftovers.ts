/**
 * The folder of a `pgscope --demo` run, and what a run that did not end cleanly (SIGKILL, a
 * crash, a power cut) leaves behind: its PostgreSQL server and that folder.
 *
 * A demo folder, <os.tmpdir()>/pgscope-demo-XXXXXX, is made by pgscope and owned by it (0700,
 * or 0711 when the server runs as another user, who must pass through it). It holds
 *   owner.json  whose it is: pgscope's pid and start time, the boot it ran in, the server's
 *               user (uid, gid) and, once started, the postmaster's pid and start time;
 *   pg/         the server's own folder, its user's (0700): cluster, socket, certificate;
 *   embedded/   rarely, a private copy of the binaries (see embedded-cache.ts).
 *
 * A folder is touched only if it is a real folder owned by us and writable by no one else (so
 * that we made it and its owner.json), and its owner process is gone (not running, or another
 * process since: the start time and boot differ). Its server is stopped only if a process with
 * the recorded pid, start time and uid still runs. pg/ is removed as the server's user (root
 * never walks into a folder another user can write to), the rest as ourselves.
 *
 * A watchdog does this as soon as pgscope dies, however it dies: a small shell in its own
 * session (so a terminal's Ctrl-C or hang-up does not reach it) reads a pipe whose other end
 * only pgscope holds; when pgscope's process ends, the pipe ends, and the shell runs this file
 * (`node leftovers.js clean DIR`). A clean stop removes the folder and ends the watchdog first.
 * The next `--demo` also sweeps every folder whose owner is gone, for when the watchdog was
 * killed too.
 *
 * Only Node's built-in modules here: the watchdog runs this file on its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FolderUser {
  uid: number;
  gid: number;
}

interface Identity {
  pid: number;
  /** Start time in clock ticks after boot (/proc/PID/stat, field 22). */
  start: string;
}

export interface OwnerRecord {
  v: 1;
  /** pgscope. */
  owner: Identity;
  /** /proc/sys/kernel/random/boot_id when it ran. */
  boot: string;
  /** The server's user, when not ourselves. */
  user: FolderUser | null;
  /** The postmaster, once started. */
  server: (Identity & { uid: number }) | null;
}

const OWNER = 'owner.json';
const PREFIX = 'pgscope-demo-';
const NAME = /^pgscope-demo-[A-Za-z0-9]{6}$/;
/** A folder with no owner.json yet (pgscope died right after making it) is removed once this old. */
const ORPHAN_MS = 10 * 60_000;

const euid = (): number => (typeof process.geteuid === 'function' ? process.geteuid() : 0);

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** The fields of /proc/PID/stat after the command name: [0] is field 3 (state). */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** A running process's start time; null when there is none (or only a zombie). */
export function processStart(pid: number): string | null {
  const f = statFields(pid);
  if (!f || f[0] === 'Z' || f[0] === 'X') return null;
  return f[19] ?? null;
}

function processUid(pid: number): number | null {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function identity(pid: number): Identity {
  return { pid, start: processStart(pid) ?? '' };
}

function isAlive(who: Identity, boot: string): boolean {
  return boot === bootId() && who.start !== '' && processStart(who.pid) === who.start;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function writeRecord(dir: string, rec: OwnerRecord): void {
  const tmp = join(dir, `.${OWNER}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(rec) + '\n', { mode: 0o600 });
  renameSync(tmp, join(dir, OWNER));
}

/** Our folder, writable by no one else (so that only we could have made what is in it). */
function ownFolder(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === euid() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function readRecord(dir: string): OwnerRecord | null {
  const p = join(dir, OWNER);
  try {
    const st = lstatSync(p);
    if (!st.isFile() || st.uid !== euid()) return null;
    const rec = JSON.parse(readFileSync(p, 'utf8')) as OwnerRecord;
    return rec && rec.v === 1 && rec.owner && typeof rec.owner.pid === 'number' ? rec : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Making the folder

export interface DemoFolder {
  /** The folder (what the banner shows). */
  dir: string;
  /** The server's own folder inside it. */
  pgDir: string;
  user: FolderUser | null;
  /** Record the postmaster, so that a watchdog or a later demo can stop it. */
  recordServer(pid: number): void;
}

/** A new demo folder with its owner.json and the server's folder (given to `user`). */
export function makeDemoFolder(user: FolderUser | null, root = tmpdir()): DemoFolder {
  const dir = mkdtempSync(join(root, PREFIX));
  chmodSync(dir, user ? 0o711 : 0o700);
  const rec: OwnerRecord = { v: 1, owner: identity(process.pid), boot: bootId(), user, server: null };
  writeRecord(dir, rec);
  const pgDir = join(dir, 'pg');
  mkdirSync(pgDir, { mode: 0o700 });
  chmodSync(pgDir, 0o700);
  if (user) chownSync(pgDir, user.uid, user.gid);
  return {
    dir,
    pgDir,
    user,
    recordServer: (pid) => {
      rec.server = { ...identity(pid), uid: user?.uid ?? euid() };
      writeRecord(dir, rec);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Removing it

/**
 * Remove a demo folder: pg/ as the server's user, then the rest as ourselves. False when
 * something stayed (left for a later sweep).
 */
export function removeDemoFolder(dir: string, user: FolderUser | null): boolean {
  const pgDir = join(dir, 'pg');
  if (user && user.uid !== euid()) {
    for (let attempt = 0; attempt < 3 && exists(pgDir); attempt++) {
      if (attempt > 0) sleepSync(200);
      // Empties pg/ (its user cannot remove pg/ itself from our folder: rmdir below).
      spawnSync('rm', ['-rf', '--', pgDir], { uid: user.uid, gid: user.gid, cwd: '/', stdio: 'ignore', env: { PATH: '/usr/bin:/bin' }, timeout: 60_000 });
      try {
        rmdirSync(pgDir);
      } catch {
        /* not empty yet, or gone */
      }
    }
    if (exists(pgDir)) return false;
  }
  rmSync(dir, { recursive: true, force: true });
  return !exists(dir);
}

/** Stop the recorded postmaster if it still runs: immediate shutdown, SIGKILL after 5 s. */
function stopServer(rec: OwnerRecord): void {
  const s = rec.server;
  if (!s || !isAlive(s, rec.boot) || processUid(s.pid) !== s.uid) return;
  try {
    process.kill(s.pid, 'SIGQUIT'); // immediate shutdown: the postmaster stops its backends
  } catch {
    return;
  }
  for (let i = 0; i < 250 && processStart(s.pid) === s.start; i++) sleepSync(20);
  if (processStart(s.pid) !== s.start) return;
  const group = statFields(s.pid)?.[2] === String(s.pid); // it leads its own process group (spawned detached)
  try {
    process.kill(group ? -s.pid : s.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  for (let i = 0; i < 100 && processStart(s.pid) === s.start; i++) sleepSync(20);
}

export type CleanOutcome = 'removed' | 'partial' | 'in use' | 'not ours' | 'gone';

/**
 * Clean one demo folder whose owner is gone: stop its server, remove it. Waits up to
 * `waitForOwnerMs` for the owner to go; a folder still in use is left alone.
 */
export function cleanDemoFolder(dir: string, waitForOwnerMs = 0): CleanOutcome {
  if (!exists(dir)) return 'gone';
  if (!ownFolder(dir)) return 'not ours';
  const rec = readRecord(dir);
  if (!rec) {
    // No owner.json: pgscope died between making the folder and writing it, so nothing but
    // ours is in it; or it is being made right now: leave young ones alone.
    try {
      if (Date.now() - lstatSync(dir).mtimeMs < ORPHAN_MS || exists(join(dir, 'pg'))) return 'in use';
    } catch {
      return 'gone';
    }
    rmSync(dir, { recursive: true, force: true });
    return exists(dir) ? 'partial' : 'removed';
  }
  const until = Date.now() + waitForOwnerMs;
  while (isAlive(rec.owner, rec.boot)) {
    if (Date.now() >= until) return 'in use';
    sleepSync(100);
  }
  stopServer(rec);
  return removeDemoFolder(dir, rec.user) ? 'removed' : 'partial';
}

/** Clean the folders of every demo whose owner is gone; returns the folders removed. */
export function sweepDemoLeftovers(root = tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!NAME.test(name)) continue;
    const dir = join(root, name);
    try {
      if (cleanDemoFolder(dir) === 'removed') removed.push(dir);
    } catch {
      /* best effort: the next sweep tries again */
    }
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// The watchdog

export interface Watchdog {
  readonly pid: number | undefined;
  /** pgscope has cleaned up itself: end the watchdog. */
  dismiss(): void;
}

/** Node's options that load code (a TypeScript loader such as tsx, in tests), without -e, --test and the like. */
function loaderArgs(argv: readonly string[]): string[] {
  const keep: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--(import|require|loader|experimental-loader)=/.test(a)) keep.push(a);
    else if (['--import', '--require', '-r', '--loader', '--experimental-loader'].includes(a) && i + 1 < argv.length) keep.push(a, argv[++i]!);
  }
  return keep;
}

/** Start the watchdog of a demo folder (see the top of this file). */
export function startWatchdog(dir: string): Watchdog {
  const self = fileURLToPath(import.meta.url);
  let child: ChildProcess | null = null;
  try {
    child = spawn('/bin/sh', ['-c', 'read -r _; exec "$@"', 'pgscope-demo-watchdog', process.execPath, ...loaderArgs(process.execArgv), self, 'clean', dir], {
      detached: true, // a session of its own: no terminal signals
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', () => undefined);
    child.stdin!.on('error', () => undefined);
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
  } catch {
    child = null; // no watchdog: the next demo's sweep still cleans up
  }
  return {
    pid: child?.pid,
    dismiss: () => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

// `node leftovers.js clean DIR`: the watchdog, once pgscope is gone.
if (process.argv[2] === 'clean' && process.argv[3] && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cleanDemoFolder(resolve(process.argv[3]), 30_000);
}
