import { normaliseSql } from '../../analysis/statements/index.js';
import type { ProxyEvent, Sink } from '../../session/events.js';
import { MONOCHROME, type Style } from '../style.js';
import { DurationStats } from './duration-stats.js';
import { renderSummary, type StatementGroup } from './render.js';

export type { StatementGroup };

export interface SummaryOptions {
  style?: Style;
  /** Groups shown, by total time (default 20); the rest are counted on one line. */
  top?: number;
  /**
   * Groups kept (default MAX_GROUPS); statements of further distinct SQL are counted under
   * "(other statements)". Memory stays bounded: each group holds at most RESERVOIR_SIZE
   * durations and a key of normalised SQL cut at NORMALISE_MAX_CHARS (4,096) characters.
   */
  maxGroups?: number;
}


export const OTHER_GROUP = '(other statements)';

/** Default most groups: with RESERVOIR_SIZE 1,000 and 4,096-character keys, at most ~16 MB. */
export const MAX_GROUPS = 1000;

/**
 * --summary: what pgscope saw, printed at exit and on SIGUSR1 (render() says it; the
 * proxy prints it). Connections opened and closed, bytes each way, and statements
 * grouped by normalised SQL (normaliseSql: literals → ?, IN lists collapsed).
 *
 * Bytes: a closed connection counts what its 'closed' fact reports; an open one, the
 * bytes forwarded so far ('forwarded' events), so a SIGUSR1 summary includes live traffic.
 */
export class SummarySink implements Sink {
  opened = 0;
  closed = 0;
  /** Bytes of closed connections. */
  private closedFromClient = 0;
  private closedFromServer = 0;
  /** Bytes forwarded so far by open connections. */
  private readonly live = new Map<number, { fromClient: number; fromServer: number }>();
  readonly groups = new Map<string, StatementGroup>();
  statements = 0;
  errors = 0;
  private readonly style: Style;
  private readonly top: number;
  private readonly maxGroups: number;

  constructor(opts: SummaryOptions = {}) {
    this.style = opts.style ?? MONOCHROME;
    this.top = opts.top ?? 20;
    this.maxGroups = opts.maxGroups ?? MAX_GROUPS;
  }

  write(ev: ProxyEvent): void {
    switch (ev.kind) {
      case 'connection':
        if (ev.phase === 'opened') {
          this.opened++;
          this.live.set(ev.conn, { fromClient: 0, fromServer: 0 });
        } else if (ev.phase === 'closed') {
          this.closed++;
          this.live.delete(ev.conn);
          this.closedFromClient += ev.bytesFromClient;
          this.closedFromServer += ev.bytesFromServer;
        }
        return;
      case 'forwarded': {
        const l = this.live.get(ev.conn);
        if (!l) return;
        if (ev.label === 'client -> server') l.fromClient += ev.bytes;
        else if (ev.label === 'server -> client') l.fromServer += ev.bytes;
        return;
      }
      case 'statement':
        this.add(ev.record.sql, ev.record.duration, ev.record.error !== null);
        return;
    }
  }

  private add(sql: string, duration: number, failed: boolean): void {
    this.statements++;
    if (failed) this.errors++;
    let key = normaliseSql(sql);
    let g = this.groups.get(key);
    if (!g && this.groups.size >= this.maxGroups) {
      key = OTHER_GROUP;
      g = this.groups.get(key);
    }
    if (!g) {
      g = { sql: key, stats: new DurationStats(), errors: 0 };
      this.groups.set(key, g);
    }
    g.stats.add(duration);
    if (failed) g.errors++;
  }

  /** Bytes sent by clients and by servers, closed and open connections together. */
  bytes(): { fromClients: number; fromServers: number } {
    let fromClients = this.closedFromClient;
    let fromServers = this.closedFromServer;
    for (const l of this.live.values()) {
      fromClients += l.fromClient;
      fromServers += l.fromServer;
    }
    return { fromClients, fromServers };
  }

  /** The summary as text (several lines, no trailing newline). */
  render(): string {
    return renderSummary(this, { style: this.style, top: this.top });
  }

  flush(): void {}

  close(): void {}
}
