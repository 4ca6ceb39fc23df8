/**
 * Captured TCP streams through pgscope's own codec and statement analysis, into the very
 * events a live proxy emits (src/session/events.ts): connections, messages, statements,
 * notes. Connection numbers are pgscope's own when the capture is one of its pcapng files
 * (the SYN's comment says "pgscope connection #N"), else 1, 2, … in order of appearance.
 */
import type { Conversation } from '../protocol/conversation.js';
import type { Label, ProxyEvent } from '../session/events.js';
import { StatementStage } from '../session/statement-stage.js';
import type { Direction, StreamEvent } from './tcp-streams.js';

interface Replayed {
  conn: number;
  conv: Conversation;
  bytes: Record<Direction, number>;
  encrypted: boolean;
}

const LABEL: Record<Direction, Label> = { frontend: 'client -> server', backend: 'server -> client' };

/** The connection number and real server address pgscope wrote into a SYN's comment. */
function pgscopeComment(comment: string | null): { conn: number; server: { address: string; port: number } | null } | null {
  const m = /^pgscope connection #(\d+): server (\[[^\]]+\]|[^\s:]+):(\d+)/.exec(comment ?? '');
  if (!m) {
    const n = /^pgscope connection #(\d+)/.exec(comment ?? '');
    return n ? { conn: Number(n[1]), server: null } : null;
  }
  return { conn: Number(m[1]), server: { address: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) } };
}

export class Replay {
  private readonly stage: StatementStage;
  private readonly byId = new Map<number, Replayed>();
  private readonly used = new Set<number>();
  private nextConn = 1;

  constructor(
    private readonly emit: (ev: ProxyEvent) => void,
    redact: boolean,
  ) {
    this.stage = new StatementStage(emit, { redact, typed: true, records: true });
  }

  private connNumber(wanted: number | null): number {
    if (wanted !== null && !this.used.has(wanted)) {
      this.used.add(wanted);
      return wanted;
    }
    while (this.used.has(this.nextConn)) this.nextConn++;
    this.used.add(this.nextConn);
    return this.nextConn;
  }

  push(ev: StreamEvent): void {
    const time = ev.ts / 1000;
    if (ev.kind === 'open') {
      const known = pgscopeComment(ev.comment);
      const conn = this.connNumber(known?.conn ?? null);
      const conv = this.stage.conversation(conn);
      this.byId.set(ev.id, { conn, conv, bytes: { frontend: 0, backend: 0 }, encrypted: false });
      const server = known?.server ?? ev.server;
      this.stage.write({ kind: 'connection', conn, time, phase: 'opened', client: ev.client, local: ev.server });
      this.stage.write({ kind: 'connection', conn, time, phase: 'server-connected', host: server.address, port: server.port, why: known?.server ? 'as pgscope recorded it' : 'from the capture', remote: server, local: ev.client });
      return;
    }
    const r = this.byId.get(ev.id);
    if (!r) return;
    switch (ev.kind) {
      case 'data': {
        r.bytes[ev.direction] += ev.bytes.length;
        for (const c of r.conv.push(ev.direction, ev.bytes)) {
          if (c.kind === 'unparsed' && !r.encrypted && /TLS|GSS/.test(c.reason)) {
            r.encrypted = true;
            this.stage.write({ kind: 'status', conn: r.conn, time, level: 'warn', text: `connection #${r.conn} is encrypted (${c.reason}): its messages cannot be read from this capture` });
          }
          this.stage.write({ kind: 'codec', conn: r.conn, time, label: LABEL[ev.direction], event: c });
        }
        return;
      }
      case 'note':
        this.stage.write({ kind: 'status', conn: r.conn, time, level: 'info', text: ev.text });
        return;
      case 'close': {
        const reason = ev.how === 'fin' ? 'both sides closed (FIN)' : ev.how === 'rst' ? 'reset (RST)' : 'still open when the capture ended';
        this.stage.write({ kind: 'connection', conn: r.conn, time, phase: 'closed', reason, bytesFromClient: r.bytes.frontend, bytesFromServer: r.bytes.backend });
        this.byId.delete(ev.id);
        return;
      }
    }
  }
}
