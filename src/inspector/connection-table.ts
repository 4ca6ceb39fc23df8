import type { JsonlConnection, JsonlSecurity } from '../output/jsonl/objects.js';
import type { ConnectionSummary, MessageRow } from './types.js';

function blank(conn: number, ts: number): ConnectionSummary {
  return {
    conn,
    opened: ts,
    closed: null,
    state: 'open',
    reason: null,
    client: null,
    user: null,
    database: null,
    applicationName: null,
    clientTls: null,
    server: null,
    serverTls: null,
    security: null,
    bytesFromClient: 0,
    bytesFromServer: 0,
    messages: 0,
    droppedMessages: 0,
    statements: 0,
    errors: 0,
    lastError: null,
  };
}

/**
 * What the inspector knows of each connection, from the connection, security and message
 * objects of JSON lines. At most `limit` are kept: beyond, the oldest closed ones go first.
 */
export class ConnectionTable {
  private readonly byConn = new Map<number, ConnectionSummary>();
  forgotten = 0;

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.byConn.size;
  }

  get(conn: number, ts: number): ConnectionSummary {
    let c = this.byConn.get(conn);
    if (!c) {
      c = blank(conn, ts);
      this.byConn.set(conn, c);
      if (this.byConn.size > this.limit) this.forgetOne();
    }
    return c;
  }

  peek(conn: number): ConnectionSummary | undefined {
    return this.byConn.get(conn);
  }

  all(): ConnectionSummary[] {
    return [...this.byConn.values()];
  }

  connection(o: JsonlConnection): void {
    if (o.conn === null) return;
    const c = this.get(o.conn, o.ts);
    switch (o.phase) {
      case 'opened':
        c.opened = o.ts;
        c.client = o.client;
        break;
      case 'client-tls':
        c.clientTls = { ...o.tls, direct: o.direct };
        break;
      case 'server-connected':
        c.server = { host: o.host, port: o.port, why: o.why };
        break;
      case 'server-tls':
        c.serverTls = o.tls;
        break;
      case 'closed':
        c.closed = o.ts;
        c.state = 'closed';
        c.reason = o.reason;
        c.bytesFromClient = o.bytesFromClient;
        c.bytesFromServer = o.bytesFromServer;
        break;
    }
  }

  security(o: JsonlSecurity): void {
    if (o.conn === null) return;
    const { v: _v, type: _t, conn: _c, time: _time, ts: _ts, ...verdict } = o;
    this.get(o.conn, o.ts).security = verdict;
  }

  /** A message on connection `conn`; `startup`: a client's StartupMessage parameters. */
  message(conn: number, r: Pick<MessageRow, 'ts' | 'from' | 'size' | 'summary' | 'error'>, startup: ReadonlyMap<string, string> | null): void {
    const c = this.get(conn, r.ts);
    c.messages++;
    if (c.state === 'open') {
      if (r.from === 'client') c.bytesFromClient += r.size;
      else if (r.from === 'server') c.bytesFromServer += r.size;
    }
    if (startup) {
      c.user = startup.get('user') ?? c.user;
      c.database = startup.get('database') ?? c.user;
      c.applicationName = startup.get('application_name') ?? c.applicationName;
    }
    if (r.error) this.error(conn, r.ts, r.summary);
  }

  error(conn: number, ts: number, words: string): void {
    const c = this.get(conn, ts);
    c.errors++;
    c.lastError = words;
  }

  private forgetOne(): void {
    for (const [conn, c] of this.byConn) {
      if (c.state === 'closed') {
        this.byConn.delete(conn);
        this.forgotten++;
        return;
      }
    }
    const oldest = this.byConn.keys().next().value!;
    this.byConn.delete(oldest);
    this.forgotten++;
  }
}
