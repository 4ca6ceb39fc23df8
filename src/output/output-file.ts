import { closeSync, openSync, writeSync } from 'node:fs';
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
   * traffic. "-" is standard output.
   */
  static open(flag: string, path: string, warn: (text: string) => void): OutputFile {
    if (path === '-') return new OutputFile(1, flag, 'standard output', false, warn);
    try {
      return new OutputFile(openSync(path, 'w', 0o600), flag, path, true, warn);
    } catch (e) {
      throw new ConfigError(`${flag}: cannot open "${path}": ${e instanceof Error ? e.message : String(e)}`);
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
