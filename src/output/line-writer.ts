/**
 * Collects log lines and writes them in batches: promptly (within `flushMs`, so a log
 * piped into another program or tailed from a file shows up at once) but without one
 * write per line on busy connections. `flush()` at exit writes everything left.
 */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (text: string) => void,
    private readonly flushMs = 50,
    private readonly maxBuffered = 64 * 1024,
  ) {}

  line(text: string): void {
    this.parts.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= this.maxBuffered) this.flush();
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
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.write(text);
  }
}
