/**
 * Event times are milliseconds since the epoch with a fractional part. Every output that
 * prints them goes through these, so that the query log and JSON lines agree to the
 * microsecond. JSON lines carry them twice: `time`, ISO-8601 UTC with exactly six fractional digits
 * (2026-11-21T01:12:44.693123Z), for people and log tools, and `ts`, integer microseconds
 * since the epoch, for programs that subtract times.
 */
export function epochMicros(ms: number): number {
  return Math.round(ms * 1000);
}

export function isoMicros(us: number): string {
  if (!Number.isSafeInteger(us)) return isoMicrosSlow(us);
  // Exact integer arithmetic: the second, and the microseconds into it (0 to 999999, also before 1970).
  let frac = us % 1_000_000;
  if (frac < 0) frac += 1_000_000;
  const second = (us - frac) / 1_000_000;
  if (second !== cachedSecond) {
    // The text up to the seconds changes once a second: made by toISOString then, kept until the next.
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, -5);
    cachedSecond = second;
  }
  return cachedPrefix + (frac >= 100_000 ? '.' : frac >= 10_000 ? '.0' : frac >= 1000 ? '.00' : frac >= 100 ? '.000' : frac >= 10 ? '.0000' : '.00000') + frac + 'Z';
}

/** The second of the last isoMicros, and its text up to the seconds ("2026-11-21T01:12:44"). */
let cachedSecond = NaN;
let cachedPrefix = '';

/** isoMicros for what is not a whole number of microseconds (or too large to be exact). */
function isoMicrosSlow(us: number): string {
  const ms = Math.floor(us / 1000);
  const frac = us - ms * 1000;
  // toISOString ends in ".mmmZ": the microsecond digits go between the milliseconds and the Z.
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

/** ISO-8601 with microseconds, from ms since the epoch with a fraction (the query log's form). */
export function isoFromMs(ms: number): string {
  return isoMicros(epochMicros(ms));
}
