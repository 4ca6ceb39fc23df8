import { closeSync, constants, fchmodSync, fstatSync, openSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { writeAllSync, writeBufferSync } from './fd-write.js';

/** The largest buffer an OutputFile keeps for its next write; longer texts get one of their own. */
const MAX_KEPT = 4 * 1024 * 1024;
/**
 * A file (or standard output, "-") an output writes to. Opening failures are a mistake in
 * the command line (ConfigError: one line, status 2, before anything listens). A failure
 * later (disk full, EIO) is reported once through `warn` and that output stops; the
 * proxy and the other outputs go on.
 */
export class OutputFile {
  private failed = false;
  /** Where writeText puts the UTF-8 bytes it writes (grown as needed, up to MAX_KEPT). */
  private buffer: Buffer = Buffer.alloc(0);
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

  /**
   * Writes `text` whole, synchronously (so outputs keep their order). The UTF-8 bytes go
   * through one buffer kept for the next batch (LineWriter batches of up to a few hundred
   * KiB), instead of a new Buffer per batch for the garbage collector.
   */
  writeText(text: string): void {
    if (this.failed) return;
    try {
      // At most 3 bytes of UTF-8 per UTF-16 code unit.
      const most = text.length * 3;
      if (most > MAX_KEPT) return writeAllSync(this.fd, text);
      if (this.buffer.length < most) this.buffer = Buffer.allocUnsafeSlow(Math.max(most, 64 * 1024));
      const n = this.buffer.write(text, 0, 'utf8');
      writeBufferSync(this.fd, this.buffer, n);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Writes `b` whole, synchronously, as writeText does. */
  writeBytes(b: Buffer): void {
    if (this.failed) return;
    try {
      writeBufferSync(this.fd, b, b.length);
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
