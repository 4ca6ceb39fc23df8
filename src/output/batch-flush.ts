/**
 * When a batch of log lines goes out (LineWriter for text, ByteLines for bytes): at once
 * when `maxBuffered` is reached, else within `flushMs` of the first line of the batch, so
 * a log piped into another program or tailed from a file shows up promptly without one
 * write per line on busy connections.
 */
export class BatchFlush {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly flush: () => void,
    private readonly flushMs: number,
    private readonly maxBuffered: number,
  ) {}

  /** After a line was added: `buffered` is how much the batch holds now. */
  added(buffered: number): void {
    if (buffered >= this.maxBuffered) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(this.flush, this.flushMs);
      this.timer.unref();
    }
  }

  /** The batch is being written: no timer pending for it any more. */
  flushing(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
