import { normaliseSql } from '../analysis/statements/normalise.js';
import type { JsonlStatement } from '../output/jsonl/objects.js';
import { DurationStats } from '../output/summary/duration-stats.js';
import type { FingerprintGroup, Series, StatementPage, StatementQuery, StatementRow } from './types.js';

/** A fingerprint run this many times in one transaction is flagged as a likely N+1 pattern. */
export const N_PLUS_ONE_REPEATS = 10;
/** Most fingerprint groups (as --summary keeps); later fingerprints are counted in the last. */
const MAX_GROUPS = 1000;
/** Distinct SQL texts and fingerprints kept once each (beyond, each statement keeps its own). */
const MAX_INTERNED = 8192;
const OTHER = '(other statements: more than 1,000 fingerprints)';
/** Seconds of statements-per-second kept (a day). */
const MAX_SECONDS = 86_400;
/** Histogram bucket upper edges, ms. */
const EDGES = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, Infinity];

interface Group {
  stats: DurationStats;
  errors: number;
  maxInOneTxn: number;
  maxTxn: { conn: number; txn: number } | null;
  /** The transaction being counted on each connection, and how often this fingerprint ran in it. */
  current: Map<number, { txn: number; n: number }>;
}

interface Second {
  count: number;
  errors: number;
  stats: DurationStats;
}

/** Per connection: the times of idle ReadyForQuery (transaction ends), and the last statement's end. */
interface ConnTimes {
  idle: number[];
  lastEnd: number;
}

function groupOf(fingerprint: string, g: Group): FingerprintGroup {
  return {
    fingerprint,
    count: g.stats.count,
    errors: g.errors,
    totalMs: g.stats.total,
    p50: g.stats.percentile(50),
    p95: g.stats.percentile(95),
    maxMs: g.stats.max,
    maxInOneTxn: g.maxInOneTxn,
    maxTxn: g.maxTxn,
    nPlusOne: g.maxInOneTxn >= N_PLUS_ONE_REPEATS,
  };
}

function emptyGroup(): Group {
  return { stats: new DurationStats(), errors: 0, maxInOneTxn: 0, maxTxn: null, current: new Map() };
}

function countInGroup(g: Group, s: StatementRow): void {
  g.stats.add(s.duration);
  if (s.error) g.errors++;
  let cur = g.current.get(s.conn);
  if (!cur || cur.txn !== s.txn) g.current.set(s.conn, (cur = { txn: s.txn, n: 0 }));
  cur.n++;
  if (cur.n > g.maxInOneTxn) {
    g.maxInOneTxn = cur.n;
    g.maxTxn = { conn: s.conn, txn: s.txn };
  }
}

function statementConn(s: JsonlStatement): number {
  return s.conn ?? 0;
}

/**
 * Completed statements: the last `limit` kept in full, and, over all of them, fingerprint
 * groups (count, p50/p95, most runs in one transaction) and per-second counts and latency.
 */
export class StatementStore {
  private rows: StatementRow[] = [];
  private head = 0;
  private nextId = 1;
  private readonly groups = new Map<string, Group>();
  private readonly seconds = new Map<number, Second>();
  private readonly histogram = EDGES.map(() => 0);
  private readonly times = new Map<number, ConnTimes>();
  private sortedCache: { version: number; rows: StatementRow[] } | null = null;
  /** One copy of each SQL text and fingerprint seen often (an application runs few distinct statements many times). */
  private readonly strings = new Map<string, string>();
  dropped = 0;

  constructor(private readonly limit: number) {}

  get seen(): number {
    return this.nextId - 1;
  }

  get kept(): number {
    return this.rows.length - this.head;
  }

  private timesOf(conn: number): ConnTimes {
    let t = this.times.get(conn);
    if (!t) this.times.set(conn, (t = { idle: [], lastEnd: -Infinity }));
    return t;
  }

  /** A ReadyForQuery with status idle: the transaction on `conn` ended at `ts`. */
  idle(conn: number, ts: number): void {
    const t = this.timesOf(conn);
    t.idle.push(ts);
    // Only the recent ends are ever looked up (statements arrive soon after they start).
    if (t.idle.length > 4096) t.idle = t.idle.slice(-2048);
  }

  forgetConnection(conn: number): void {
    this.times.delete(conn);
  }

  /** Transaction number of a statement started at `ts`: idle ReadyForQuery seen before it. */
  private txnAt(t: ConnTimes, ts: number): number {
    let lo = 0;
    let hi = t.idle.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t.idle[mid]! < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(s: JsonlStatement, firstMessage: number | null): StatementRow {
    const conn = statementConn(s);
    const t = this.timesOf(conn);
    const end = s.startTs + s.duration * 1000;
    const row: StatementRow = {
      ...s,
      sql: this.intern(s.sql),
      conn,
      id: this.nextId++,
      txn: this.txnAt(t, s.startTs),
      pipelined: s.startTs < t.lastEnd,
      fingerprint: this.intern(normaliseSql(s.sql)),
      firstMessage,
    };
    t.lastEnd = Math.max(t.lastEnd, end);
    this.rows.push(row);
    if (this.kept > this.limit) {
      this.head++;
      this.dropped++;
      if (this.head > 4096 && this.head * 2 > this.rows.length) {
        this.rows = this.rows.slice(this.head);
        this.head = 0;
      }
    }
    let g = this.groups.get(row.fingerprint);
    if (!g) {
      g = this.groups.size < MAX_GROUPS ? emptyGroup() : (this.groups.get(OTHER) ?? emptyGroup());
      this.groups.set(this.groups.size < MAX_GROUPS ? row.fingerprint : OTHER, g);
    }
    countInGroup(g, row);
    const sec = Math.floor(s.startTs / 1_000_000);
    let b = this.seconds.get(sec);
    if (!b) {
      this.seconds.set(sec, (b = { count: 0, errors: 0, stats: new DurationStats() }));
      if (this.seconds.size > MAX_SECONDS) this.seconds.delete(this.seconds.keys().next().value!);
    }
    b.count++;
    if (s.error) b.errors++;
    b.stats.add(s.duration);
    this.histogram[EDGES.findIndex((e) => s.duration <= e)]!++;
    this.sortedCache = null;
    return row;
  }

  private intern(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < MAX_INTERNED) this.strings.set(text, text);
    return text;
  }

  private keptRows(): StatementRow[] {
    return this.head === 0 ? this.rows : this.rows.slice(this.head);
  }

  query(q: StatementQuery): StatementPage {
    const search = (q.search ?? '').trim().toLowerCase();
    let rows = this.keptRows();
    if (q.conn !== undefined) rows = rows.filter((r) => r.conn === q.conn);
    if (q.errors) rows = rows.filter((r) => r.error !== null);
    if (search !== '') rows = rows.filter((r) => r.sql.toLowerCase().includes(search));
    if (q.slowest) {
      if (q.conn === undefined && !q.errors && search === '') {
        if (!this.sortedCache || this.sortedCache.version !== this.nextId) this.sortedCache = { version: this.nextId, rows: [...rows].sort((a, b) => b.duration - a.duration) };
        rows = this.sortedCache.rows;
      } else rows = [...rows].sort((a, b) => b.duration - a.duration);
    }
    const offset = Math.max(0, Math.min(q.offset, rows.length));
    return { total: rows.length, offset, rows: rows.slice(offset, offset + Math.max(0, Math.min(q.limit, 5000))) };
  }

  /** Fingerprint groups, most total time first: over every statement, or over one connection's kept ones. */
  fingerprints(conn?: number): FingerprintGroup[] {
    let out: FingerprintGroup[];
    if (conn === undefined) out = [...this.groups].map(([fp, g]) => groupOf(fp, g));
    else {
      const local = new Map<string, Group>();
      for (const r of this.keptRows()) {
        if (r.conn !== conn) continue;
        let g = local.get(r.fingerprint);
        if (!g) local.set(r.fingerprint, (g = emptyGroup()));
        countInGroup(g, r);
      }
      out = [...local].map(([fp, g]) => groupOf(fp, g));
    }
    return out.sort((a, b) => b.totalMs - a.totalMs);
  }

  series(conn?: number): Series {
    if (conn === undefined) {
      const seconds = [...this.seconds]
        .sort((a, b) => a[0] - b[0])
        .map(([sec, b]) => ({ t: sec * 1_000_000, count: b.count, errors: b.errors, p50: b.stats.percentile(50), p95: b.stats.percentile(95), max: b.stats.max }));
      return { seconds, histogram: EDGES.map((e, i) => ({ le: Number.isFinite(e) ? e : null, count: this.histogram[i]! })) };
    }
    const local = new StatementStore(Number.MAX_SAFE_INTEGER);
    for (const r of this.keptRows()) if (r.conn === conn) local.add(r, null);
    return local.series();
  }
}
