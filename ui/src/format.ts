/** Small formatting helpers shared by the views. */

export function fmtTime(ts: number): string {
  const d = new Date(ts / 1000);
  const us = String(Math.floor(ts % 1_000_000)).padStart(6, '0');
  return `${d.toISOString().slice(11, 19)}.${us}`;
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(3)} ms`;
}

export function fmtBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Who sent it, as an arrow: C→S, S→C, or pgscope's own. */
export function arrow(from: string, to: string): string {
  const s = (x: string): string => (x === 'client' ? 'C' : x === 'server' ? 'S' : 'P');
  return `${s(from)}→${s(to)}`;
}
