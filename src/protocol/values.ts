/** Small pure formatters shared by decoders and renderers. */

/** A WAL location as PostgreSQL prints pg_lsn: high and low 32 bits in hex. */
export function formatLsn(v: bigint): string {
  const hi = Number(v >> 32n);
  const lo = Number(v & 0xffffffffn);
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

/** Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch for wire timestamps. */
const PG_EPOCH_US = 946_684_800_000_000n;

/** A wire timestamp (Int64 µs since 2000-01-01 UTC) as an ISO 8601 string with microseconds. */
export function formatPgTimestamp(v: bigint): string {
  if (v === 0x7fffffffffffffffn) return 'infinity';
  if (v === -0x8000000000000000n) return '-infinity';
  const us = v + PG_EPOCH_US;
  const ms = us / 1000n;
  const micro = ((us % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return `${v} µs since 2000-01-01`;
  const iso = d.toISOString(); // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 19)}.${micro.toString().padStart(6, '0')}Z`;
}

/** "1 byte" / "5 bytes". */
export function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${n === 1 || n === 1n ? '' : 's'}`;
}
