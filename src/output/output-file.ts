import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { writeAllSync } from './fd-write.js';

/**
 * A file (or standard output, "-") an output writes to. Opening failures are a mistake in
 * the command line (ConfigError: one line, status 2, before anything listens). A failure
 * later (disk full, EIO) is reported once through `warn` and that output stops; the
 * proxy and the other outputs go on.
 */
export class OutputFile {
  private failed = false;
  private constructor(
    private readonly fd: number,
    readonly flag: string,
    readonly path: string,
    private readonly owned: boolean,
    private readonly warn: (text: string) => void,
  ) {}

  /**
   * Opens `path` fresh (truncated), readable by its owner only: it holds decrypted
   * traffic. An existing regular file is made owner-only too (the mode given to open
   * applies only to a new file), and a symbolic link is refused (one planted in /tmp could
   * send the traffic elsewhere). A FIFO or a device is the user's choice, used as is.
   * "-" is standard output.
   */
  static open(flag: string, path: string, warn: (text: string) => void): OutputFile {
    if (path === '-') return new OutputFile(1, flag, 'standard output', false, warn);
    let fd: number | null = null;
    try {
      // O_APPEND: a file truncated from outside (logrotate's copytruncate) is written from its new end, without a hole.
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
      const st = fstatSync(fd);
      if (st.isFile() && (st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      return new OutputFile(fd, flag, path, true, warn);
    } catch (e) {
      if (fd !== null) {
        try {
          closeSync(fd);
        } catch {
          /* the error below says what went wrong */
        }
      }
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ELOOP' ? 'it is a symbolic link (refused: outputs hold decrypted traffic)' : err instanceof Error ? err.message : String(e);
      throw new ConfigError(`${flag}: cannot open "${path}": ${why}`);
    }
  }

  writeText(text: string): void {
    if (this.failed) return;
    try {
      writeAllSync(this.fd, text);
    } catch (e) {
      this.fail(e);
    }
  }

  writeBytes(b: Buffer): void {
    if (this.failed) return;
    try {
      for (let at = 0; at < b.length; ) at += writeSync(this.fd, b, at, b.length - at);
    } catch (e) {
      this.fail(e);
    }
  }

  close(): void {
    if (this.owned) {
      try {
        closeSync(this.fd);
      } catch {
        /* already reported, or nothing to report */
      }
    }
  }

  private fail(e: unknown): void {
    this.failed = true;
    this.warn(`${this.flag}: cannot write to ${this.path} any more (${e instanceof Error ? e.message : String(e)}): this output stopped, proxying goes on`);
  }
}
