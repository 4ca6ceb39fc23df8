import { JsonOut } from './jsonl/json-out.js';

/**
 * LineWriter's batching for lines written as bytes (JSON lines, see JsonOut): a line is
 * written into `out` in place, then ended with endLine(). Batches go out promptly (within
 * `flushMs`) but not one write per line; `flush()` at exit writes everything left. The
 * bytes handed to `write` are only valid during the call (the buffer is reused).
 */
export class ByteLines {
  readonly out = new JsonOut();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (bytes: Buffer) => void,
    private readonly flushMs = 50,
    private readonly maxBuffered = 64 * 1024,
  ) {}

  /** A whole line given as text (the rarer lines, built as strings). */
  line(text: string): void {
    this.out.utf8(text);
    this.endLine();
  }

  /** Ends the line written into `out` since the last one. */
  endLine(): void {
    this.out.byte(0x0a);
    if (this.out.pos >= this.maxBuffered) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const out = this.out;
    if (out.pos === 0) return;
    const n = out.pos;
    out.pos = 0;
    this.write(out.buf.subarray(0, n));
    // A huge line grew the buffer: do not keep megabytes for the lines that follow.
    if (out.buf.length > 4 * 1024 * 1024) out.buf = Buffer.allocUnsafeSlow(256 * 1024);
  }
}
