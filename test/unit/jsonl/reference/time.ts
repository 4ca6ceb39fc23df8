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
  const ms = Math.floor(us / 1000);
  const frac = us - ms * 1000;
  // toISOString ends in ".mmmZ": the microsecond digits go between the milliseconds and the Z.
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}
