/**
 * Durations kept exactly up to this many per group; beyond, a uniform sample of this size.
 * 1,000 numbers (8 KB) per group, times at most SummarySink's 1,000 groups: about 8 MB at
 * worst; p50 and p95 from a sample of 1,000 are within a few percent.
 */
export const RESERVOIR_SIZE = 1000;

/**
 * Count, total, mean and maximum of durations (exact), and percentiles: exact while there
 * are at most RESERVOIR_SIZE, then estimated from a uniform random sample of that size
 * (reservoir sampling, Vitter's algorithm R) so memory stays bounded on long runs. The
 * sampler's generator is seeded, so a run is reproducible.
 */
export class DurationStats {
  count = 0;
  total = 0;
  max = 0;
  private readonly sample: number[] = [];
  private sorted: number[] | null = null;
  private seed = 0x2545f491;

  add(ms: number): void {
    this.count++;
    this.total += ms;
    if (ms > this.max || this.count === 1) this.max = ms;
    if (this.sample.length < RESERVOIR_SIZE) this.sample.push(ms);
    else {
      const j = Math.floor(this.random() * this.count);
      if (j < RESERVOIR_SIZE) this.sample[j] = ms;
    }
    this.sorted = null;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.total / this.count;
  }

  /** True while percentiles are exact (every duration kept). */
  get exact(): boolean {
    return this.count <= RESERVOIR_SIZE;
  }

  /** The p-th percentile (0 < p ≤ 100), nearest-rank: the smallest value with at least p% of values at or below it. */
  percentile(p: number): number {
    if (this.sample.length === 0) return 0;
    this.sorted ??= [...this.sample].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil((p / 100) * this.sorted.length));
    return this.sorted[Math.min(rank, this.sorted.length) - 1]!;
  }

  /** xorshift32, in [0, 1). */
  private random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed / 0x1_0000_0000;
  }
}
