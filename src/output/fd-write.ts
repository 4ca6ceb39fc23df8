import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Write all of `text` to a file descriptor, synchronously. Standard output may be a
 * non-blocking pipe (Node makes it one as soon as `process.stdout` is touched): a plain
 * writeSync then throws EAGAIN, or writes only part, whenever the reader is slower than
 * pgscope. Here a full pipe means waiting (1 ms at a time) until the reader catches up,
 * so a slow log reader slows the proxy down instead of costing connections or log lines.
 */
export function writeAllSync(fd: number, text: string): void {
  const data = Buffer.from(text, 'utf8');
  writeBufferSync(fd, data, data.length);
}

/** writeAllSync for bytes already encoded: all of buf[0, end). */
export function writeBufferSync(fd: number, buf: Buffer, end: number): void {
  let off = 0;
  while (off < end) {
    try {
      off += writeSync(fd, buf, off, end - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
