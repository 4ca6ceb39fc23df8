/** Small formatting helpers shared by the views. Times are µs since the epoch (as in JSON lines). */

/** Time of day in UTC with microseconds: 13:21:57.625703. */
export function fmtTime(ts: number): string {
  const d = new Date(Math.floor(ts / 1000));
  const us = String(Math.floor(ts % 1_000_000)).padStart(6, '0');
  return `${d.toISOString().slice(11, 19)}.${us}`;
}

/** Date and time in UTC, to the second: 2026-12-04 13:21:57 UTC. */
export function fmtDateTime(ts: number): string {
  return `${new Date(Math.floor(ts / 1000)).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A duration in milliseconds, with the precision that matters at its size. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(0)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtBytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / 1024 / 1024 / 1024).toFixed(1)} GiB`;
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 message", "2 messages". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmtCount(n)} ${n === 1 ? one : many}`;
}

/** Who sent it, as an arrow: C→S, S→C, or P (pgscope itself) on either side. */
export function arrow(from: string, to: string): string {
  const s = (x: string): string => (x === 'client' ? 'C' : x === 'server' ? 'S' : 'P');
  return `${s(from)}→${s(to)}`;
}

/** The sender in words: client, server, pgscope. */
export function side(x: string): string {
  return x === 'script' ? 'pgscope' : x;
}

/** A short error text, for places where the whole message would not fit. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
