import type { Style } from '../style.js';
import { oneLine } from '../query-log/format-line.js';
import type { DurationStats } from './duration-stats.js';
import { clip } from '../../protocol/clip.js';

/** Statements with the same normalised SQL. */
export interface StatementGroup {
  sql: string;
  stats: DurationStats;
  errors: number;
}

/** What a summary is made of (SummarySink's counts). */
export interface SummaryCounts {
  opened: number;
  closed: number;
  statements: number;
  errors: number;
  groups: ReadonlyMap<string, StatementGroup>;
  bytes(): { fromClients: number; fromServers: number };
}

/** Characters of normalised SQL shown per group line. */
const SQL_WIDTH = 160;

/**
 *   pgscope summary: 3 connections (1 open), 12.1 KiB from clients, 1.2 MiB from servers
 *   42 statements in 3 groups, 1 error; by total time:
 *        count    total ms     mean ms      p50 ms      p95 ms      max ms  errors  statement
 *           40      12.345       0.309       0.250       0.800       1.900       0  SELECT * FROM t WHERE id = $1
 *   … 2 more groups: 2 statements, 0.5 ms
 * Percentiles are marked ~ when estimated from a sample (more than 10 000 durations).
 */
export function renderSummary(s: SummaryCounts, opts: { style: Style; top: number }): string {
  const st = opts.style;
  const open = s.opened - s.closed;
  const { fromClients, fromServers } = s.bytes();
  const lines: string[] = [];
  lines.push(
    st.status(
      `pgscope summary: ${count(s.opened, 'connection')}${open > 0 ? ` (${open} open)` : ''}, ${bytes(fromClients)} from clients, ${bytes(fromServers)} from servers`,
    ),
  );
  if (s.statements === 0) {
    lines.push('no statements completed');
    return lines.join('\n');
  }
  const groups = [...s.groups.values()].sort((a, b) => b.stats.total - a.stats.total);
  lines.push(`${count(s.statements, 'statement')} in ${count(groups.length, 'group')}, ${count(s.errors, 'error')}; by total time:`);
  const head = ['count', 'total ms', 'mean ms', 'p50 ms', 'p95 ms', 'max ms'].map((h, i) => h.padStart(i === 0 ? 7 : 11)).join(' ');
  lines.push(st.meaning(`${head}  errors  statement`));
  for (const g of groups.slice(0, opts.top)) lines.push(row(g, st));
  const rest = groups.slice(opts.top);
  if (rest.length > 0) {
    const n = rest.reduce((a, g) => a + g.stats.count, 0);
    const t = rest.reduce((a, g) => a + g.stats.total, 0);
    lines.push(`… ${count(rest.length, 'more group')}: ${count(n, 'statement')}, ${ms(t)} ms`);
  }
  return lines.join('\n');
}

function row(g: StatementGroup, st: Style): string {
  const d = g.stats;
  const approx = d.exact ? '' : '~';
  const cells = [String(d.count).padStart(7), ms(d.total), ms(d.mean), approx + ms(d.percentile(50)), approx + ms(d.percentile(95)), ms(d.max)].map((c, i) => (i === 0 ? c : c.padStart(11)));
  const errors = String(g.errors).padStart(6);
  const sql = oneLine(g.sql);
  const shown = clip(sql, SQL_WIDTH);
  return `${cells.join(' ')}  ${g.errors > 0 ? st.problem(errors) : errors}  ${shown}`;
}

function ms(v: number): string {
  return v.toFixed(3);
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** 512 bytes, 12.1 KiB, 3.4 MiB, 1.2 GiB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
