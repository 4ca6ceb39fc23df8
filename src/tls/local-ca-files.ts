/**
 * The file handling of the local CA's folder (src/tls/local-ca.ts), kept apart from the
 * certificate building: an owner-only folder, files read without following symlinks, and a
 * key + certificate published so that two pgscopes starting together agree on one CA.
 *
 * The rules are ssh's for ~/.ssh: a private key that others can read, or a folder others
 * can write to, is refused with the command that fixes it rather than fixed silently (the
 * key may already have leaked, and the user should know).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { TlsSetupError } from './errors.js';

/** Mode bits and owners mean nothing useful on Windows; every check below is POSIX-only. */
const POSIX = process.platform !== 'win32';

function myUid(): number | null {
  return POSIX && typeof process.getuid === 'function' ? process.getuid() : null;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * Make sure `dir` is a usable CA folder: created with mode 0700 (and missing parents too,
 * as XDG asks for data folders) if absent; otherwise a real directory (not a symlink),
 * owned by this user, that nobody else can read or write.
 */
export function ensureCaDir(dir: string): void {
  let st = lstatOrNull(dir);
  if (!st) {
    try {
      mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
      mkdirSync(dir, { mode: 0o700 });
      // The umask may have taken bits away; the folder must still be usable by its owner.
      if (POSIX) chmodSync(dir, 0o700);
    } catch (err) {
      // Another pgscope creating the same folder at the same moment is fine: checked below.
      if (errno(err) !== 'EEXIST') throw new TlsSetupError(`cannot create the CA folder "${dir}": ${(err as Error).message}`);
    }
    st = lstatSync(dir);
  }
  if (st.isSymbolicLink()) throw new TlsSetupError(`the CA folder "${dir}" is a symbolic link; pgscope keeps its CA key only in a real folder (use --ca-dir with the link's target)`);
  if (!st.isDirectory()) throw new TlsSetupError(`the CA folder "${dir}" exists but is not a directory`);
  checkOwner(st, dir, 'the CA folder');
  if (POSIX && (st.mode & 0o077) !== 0) {
    throw new TlsSetupError(`the CA folder "${dir}" has permissions ${octal(st.mode)}: others could read or replace the CA key; make it owner-only with: chmod 700 ${dir}`);
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    throw new TlsSetupError(`cannot inspect "${path}": ${(err as Error).message}`);
  }
}

function checkOwner(st: Stats, path: string, what: string): void {
  const uid = myUid();
  if (uid !== null && st.uid !== uid) throw new TlsSetupError(`${what} "${path}" belongs to user id ${st.uid}, not to this user (${uid}); use a folder of your own (--ca-dir)`);
}

/** Whether anything (a symlink included) exists at `path`. */
export function existsNoFollow(path: string): boolean {
  return lstatOrNull(path) !== null;
}

/**
 * Read a CA file without following a symlink; null when it does not exist. A private file
 * (the key) must be owned by this user and have no group/other permissions.
 */
export function readCaFile(path: string, what: string, opts: { private: boolean }): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new TlsSetupError(`${what} "${path}" is a symbolic link; pgscope refuses to use it (remove the link so that a new CA is made, or put the real file there)`);
    throw new TlsSetupError(`cannot read ${what} "${path}": ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TlsSetupError(`${what} "${path}" is not a regular file`);
    if (opts.private) {
      checkOwner(st, path, what);
      if (POSIX && (st.mode & 0o077) !== 0) {
        throw new TlsSetupError(`${what} "${path}" has permissions ${octal(st.mode)}, readable by others: it must be readable by its owner only (chmod 600 ${path}; and consider it leaked: remove the folder's files to make a new CA)`);
      }
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Publish a new CA's key and certificate in `dir`, unless another process got there first:
 * returns false, writing nothing, when `keyPath` already exists.
 *
 * Both are written to fresh temporary files first (O_EXCL|O_NOFOLLOW, the key 0600), then
 * the key is hard-linked into place, which fails if anything is already there: exactly one
 * racer wins, and a reader never sees a half-written key. Only the winner then renames its
 * certificate into place (rename replaces a stale certificate or a planted symlink itself,
 * never what a link points to). A reader that comes between the two steps finds no or an
 * old certificate and retries (see local-ca.ts).
 */
export function publishCaFiles(dir: string, keyPath: string, keyPem: string, certPath: string, certPem: string): boolean {
  const tag = `${process.pid}.${randomBytes(6).toString('hex')}`;
  const tmpKey = join(dir, `.new-key.${tag}`);
  const tmpCert = join(dir, `.new-cert.${tag}`);
  try {
    writeNewFile(tmpKey, keyPem, 0o600);
    writeNewFile(tmpCert, certPem, 0o644);
    try {
      linkSync(tmpKey, keyPath);
    } catch (err) {
      if (errno(err) === 'EEXIST') return false;
      throw err;
    }
    renameSync(tmpCert, certPath);
    return true;
  } catch (err) {
    if (err instanceof TlsSetupError) throw err;
    throw new TlsSetupError(`cannot write the new CA into "${dir}": ${(err as Error).message}`);
  } finally {
    for (const p of [tmpKey, tmpCert]) {
      try {
        unlinkSync(p);
      } catch {
        // Already renamed, or never made.
      }
    }
  }
}

function writeNewFile(path: string, text: string, mode: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    const data = Buffer.from(text);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    // On disk before the link/rename makes it visible: a crash must not leave an empty key.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
