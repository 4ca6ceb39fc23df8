import net from 'node:net';
import { fmtHostPort } from '../session/host-port.js';
import { Admission } from './admission.js';
import type { ClientTlsContexts } from './client-tls.js';
import { ProxyConnection, type ConnectionDeps } from './connection.js';
import { SOCKET_BUFFER_BYTES } from './tls-legs.js';
import type { KeyLogWriter } from '../tls/keylog.js';
import type { ProxyEvent } from '../session/events.js';

export interface ListenerOptions {
  host: string;
  port: number;
  /** What every connection gets (its number, socket and onClosed are the listener's). */
  connection: Omit<ConnectionDeps, 'onClosed'>;
  /** --max-connections (null: no limit). */
  maxConnections: number | null;
  /** The client leg's certificates, for refusals that still answer SSLRequest (null: --client-deny-ssl). */
  clientTls: ClientTlsContexts | null;
  clientKeylog: KeyLogWriter | null;
  /** pgscope's own status lines (not tied to a connection). */
  status: (text: string, level: 'info' | 'warn' | 'error') => void;
  /** A connection ended (after its events). */
  onClosed?: () => void;
}

/**
 * The listening socket and the connections it accepted: each client gets a number and a
 * ProxyConnection; --max-connections and running out of descriptors are admission.ts's.
 * Part of the I/O shell: it decides nothing about the traffic.
 */
export class Listener {
  private readonly server = net.createServer({ highWaterMark: SOCKET_BUFFER_BYTES });
  private readonly connections = new Set<ProxyConnection>();
  private readonly admission: Admission;
  private nextId = 1;
  private stopping = false;
  private outputsBehind = false;
  /** The port actually listened on (0 asks the OS for a free one). */
  port = 0;

  constructor(private readonly opts: ListenerOptions) {
    this.admission = new Admission({
      maxConnections: opts.maxConnections,
      openConnections: () => this.connections.size,
      status: opts.status,
      clientTls: opts.clientTls,
      clientKeylog: opts.clientKeylog,
    });
    this.server.on('connection', (socket) => {
      if (this.stopping) {
        socket.destroy();
        return;
      }
      this.admission.admit(socket, (s) => this.serve(s));
    });
  }

  /** Listen; rejects with a message that says what to do (another port) when it cannot. */
  async listen(): Promise<number> {
    const { host, port } = this.opts;
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, exclusive: true }, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    }).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`cannot listen on ${fmtHostPort(host, port)}: ${e.code === 'EADDRINUSE' ? 'the address is already in use (try -p with another port)' : e.message}`);
    });
    // An accept() that failed (EMFILE, …) is logged there, rate-limited; the listener goes on.
    this.server.on('error', (e) => {
      if (!this.admission.acceptFailed(e)) this.opts.status(`listener error: ${e.message}`, 'error');
    });
    return this.port;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** --lossless: stop (or resume) reading from every client and server while an output's reader is behind. */
  setOutputsBehind(behind: boolean): void {
    this.outputsBehind = behind;
    for (const c of this.connections) c.setOutputsBehind(behind);
  }

  /** Stop listening and end every connection now; resolves once the listener is closed. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // server.close() calls back only once every connection has ended: end them first, or
    // a client that stays connected would keep pgscope from stopping.
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of this.connections) c.abort();
    this.admission.close();
    await closed;
  }

  private serve(socket: net.Socket): void {
    const id = this.nextId++;
    const deps = this.opts.connection;
    try {
      const conn = new ProxyConnection(id, socket, {
        ...deps,
        log: this.admission.watch(deps.log),
        onClosed: (c) => {
          this.connections.delete(c);
          this.opts.onClosed?.();
        },
      });
      this.connections.add(conn);
      if (this.outputsBehind) conn.setOutputsBehind(true);
    } catch (e) {
      const ev: ProxyEvent = { kind: 'status', conn: id, time: Date.now(), level: 'error', text: `could not set up the connection: ${e instanceof Error ? e.message : String(e)}` };
      deps.log(ev);
      socket.destroy();
    }
  }
}
