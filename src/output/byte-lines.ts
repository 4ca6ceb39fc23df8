import { BatchFlush } from './batch-flush.js';
import { JsonOut } from './jsonl/json-out.js';

/**
 * LineWriter for lines written as bytes (JSON lines, see JsonOut): a line is written into
 * `out` in place, then ended with endLine(). Batched as LineWriter batches (BatchFlush);
 * `flush()` at exit writes everything left. The bytes handed to `write` are only valid
 * during the call (the buffer is reused).
 */
export class ByteLines {
  readonly out = new JsonOut();
  private lines = 0;
  private readonly batch: BatchFlush;

  constructor(
    /** Writes a batch: `bytes` hold `lines` whole lines. */
    private readonly write: (bytes: Buffer, lines: number) => void,
    flushMs = 50,
    maxBuffered = 64 * 1024,
  ) {
    this.batch = new BatchFlush(() => this.flush(), flushMs, maxBuffered);
  }

  /** A whole line given as text (the rarer lines, built as strings). */
  line(text: string): void {
    this.out.utf8(text);
    this.endLine();
  }

  /** Ends the line written into `out` since the last one. */
  endLine(): void {
    this.out.byte(0x0a);
    this.lines++;
    this.batch.added(this.out.pos);
  }

  flush(): void {
    this.batch.flushing();
    const out = this.out;
    if (out.pos === 0) return;
    const n = out.pos;
    const lines = this.lines;
    out.pos = 0;
    this.lines = 0;
    this.write(out.buf.subarray(0, n), lines);
    // A huge line grew the buffer: do not keep megabytes for the lines that follow.
    if (out.buf.length > 4 * 1024 * 1024) out.buf = Buffer.allocUnsafeSlow(256 * 1024);
  }
}
