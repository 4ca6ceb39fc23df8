/**
 * NSS key-log files (--client-sslkeylogfile / --server-sslkeylogfile), the format Wireshark
 * reads to decrypt TLS: one `LABEL <client random> <secret>` line per secret, as a
 * TLSSocket's 'keylog' event hands them over.
 *
 * Writes are synchronous appends through one file descriptor, so a line is in the file
 * (kernel buffers) as soon as the event is handled, and nothing is lost if the process
 * exits right after. The file is created with mode 0600 (secrets!); an existing file is
 * appended to and its mode left alone.
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync } from 'node:fs';
import { TlsSetupError } from './errors.js';

export interface KeyLogWriter {
  readonly path: string;
  /**
   * Append one key-log line (a newline is added if missing). Never throws: a failed write
   * (disk full, …) is passed to `onError` once and later lines are still attempted.
   */
  write(line: Buffer): void;
  /** Close the file; later writes are ignored. Idempotent. */
  close(): void;
}

export interface KeyLogOptions {
  /** Told about the first write error (default: ignore it; the proxy keeps going). */
  onError?: (err: Error) => void;
}

export function openKeyLog(path: string, options: KeyLogOptions = {}): KeyLogWriter {
  let fd: number | null;
  try {
    // Append, create owner-only, and never follow a symlink (one planted in /tmp could
    // send the session secrets elsewhere).
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    const st = fstatSync(fd);
    // A FIFO or a device (a pipe into another program) is the user's choice, used as is.
    if (!st.isFile() && !st.isFIFO() && !st.isCharacterDevice()) {
      closeSync(fd);
      throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    }
    // The mode given to open applies only to a new file: an existing key log readable by
    // others would expose every session's secrets, so it is made owner-only too.
    if (st.isFile() && (st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'its directory does not exist' : e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.code === 'ELOOP' ? 'it is a symbolic link' : e.code === 'ENOTREG' ? 'it is not a file, a FIFO or a device' : e.message;
    throw new TlsSetupError(`cannot open TLS key log file "${path}": ${why}`);
  }
  let reported = false;
  const NL = Buffer.from('\n');
  return {
    path,
    write(line: Buffer): void {
      if (fd === null || line.length === 0) return;
      const data = line[line.length - 1] === 0x0a ? line : Buffer.concat([line, NL]);
      try {
        let off = 0;
        while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      } catch (err) {
        if (!reported) {
          reported = true;
          const e = err as Error;
          options.onError?.(new Error(`writing TLS key log file "${path}" failed: ${e.message}`));
        }
      }
    },
    close(): void {
      if (fd === null) return;
      const f = fd;
      fd = null;
      try {
        closeSync(f);
      } catch {
        // Nothing useful to do at shutdown.
      }
    },
  };
}
