import { BatchFlush } from './batch-flush.js';

/**
 * Collects log lines and writes them in batches: promptly (within `flushMs`, so a log
 * piped into another program or tailed from a file shows up at once) but without one
 * write per line on busy connections. `flush()` at exit writes everything left.
 */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private readonly batch: BatchFlush;

  constructor(
    private readonly write: (text: string) => void,
    flushMs = 50,
    maxBuffered = 64 * 1024,
  ) {
    this.batch = new BatchFlush(() => this.flush(), flushMs, maxBuffered);
  }

  line(text: string): void {
    this.parts.push(text, '\n');
    this.size += text.length + 1;
    this.batch.added(this.size);
  }

  flush(): void {
    this.batch.flushing();
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.write(text);
  }
}
