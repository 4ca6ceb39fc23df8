import { BatchFlush } from './batch-flush.js';
import { terminalSafe } from './terminal-safe.js';

/**
 * Collects text lines and writes them in batches: promptly (within `flushMs`, so a log
 * piped into another program or tailed from a file shows up at once) but without one
 * write per line on busy connections. `flush()` at exit writes everything left.
 *
 * This is where every text output's lines are written, so it is where they are made safe
 * for a terminal (terminalSafe: no control character from the wire gets through).
 */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private lines = 0;
  private readonly batch: BatchFlush;

  constructor(
    /** Writes a batch: `text` holds `lines` whole lines. */
    private readonly write: (text: string, lines: number) => void,
    flushMs = 50,
    maxBuffered = 64 * 1024,
  ) {
    this.batch = new BatchFlush(() => this.flush(), flushMs, maxBuffered);
  }

  line(text: string): void {
    const safe = terminalSafe(text);
    this.parts.push(safe, '\n');
    this.size += safe.length + 1;
    this.lines++;
    this.batch.added(this.size);
  }

  /** Several lines at once (a summary): each is one line(). */
  text(text: string): void {
    for (const l of text.replace(/\n$/, '').split('\n')) this.line(l);
  }

  flush(): void {
    this.batch.flushing();
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    const lines = this.lines;
    this.parts = [];
    this.size = 0;
    this.lines = 0;
    this.write(text, lines);
  }
}
