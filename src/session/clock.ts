import { performance } from 'node:perf_hooks';

/**
 * Milliseconds since the epoch with a fractional part: microsecond resolution for the
 * JSON lines and pcapng timestamps (Date.now() has whole milliseconds only). Monotonic
 * within the process, anchored once to the wall clock.
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
