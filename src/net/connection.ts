import net from 'node:net';
import tls from 'node:tls';
import type { CancelRegistry } from '../session/cancel-registry.js';
import { preciseNow } from '../session/clock.js';
import type { ProxyEvent, TlsInfo } from '../session/events.js';
import { Session, type SessionAction, type SessionInput, type SessionSettings, type TimerName } from '../session/session.js';
import { describeCertificate } from '../tls/describe-cert.js';
import type { KeyLogWriter } from '../tls/keylog.js';
import { serverTlsOptions, verifyServerCertificate, type ServerTlsPolicy } from '../tls/server-leg.js';
import type { ClientTlsContexts } from './client-tls.js';

/**
 * How many bytes each socket buffers for writing before write() says "full" and pgscope
 * pauses the other leg (Node's default is 16 KiB). Bulk traffic (COPY, large results) arrives
 * as 16 KiB TLS records: with the default, nearly every chunk filled the buffer, so reading
 * paused and resumed once per chunk. 256 KiB per leg keeps bulk transfers flowing and memory
 * bounded (two legs per connection).
 */
export const SOCKET_BUFFER_BYTES = 256 * 1024;
/** TLSSocket takes `highWaterMark` (Node 20) though its option types do not list it. */
const BUFFER_OPTION = { highWaterMark: SOCKET_BUFFER_BYTES } as object;


export interface ConnectionDeps {
  settings: SessionSettings;
  cancels: CancelRegistry;
  log: (ev: ProxyEvent) => void;
  clientTls: ClientTlsContexts;
  serverPolicy: ServerTlsPolicy;
  sendChunking: 'whole' | 'byte';
  clientKeylog: KeyLogWriter | null;
  serverKeylog: KeyLogWriter | null;
  logCerts: boolean;
  /** Resolves to a refusal message when host:port is pgscope's own listening address. */
  selfLoopCheck: (host: string, port: number) => Promise<string | null>;
  onClosed: (conn: ProxyConnection) => void;
}

type Stream = net.Socket | tls.TLSSocket;

/** How long a closing leg may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * The I/O shell of one proxied connection: it owns the two sockets (and their TLS
 * layers), turns socket events into Session inputs, and carries out the Session's
 * actions. All decisions are the Session's. Any failure here ends this connection only.
 */
export class ProxyConnection {
  readonly session: Session;
  private client: Stream;
  private server: Stream | null = null;
  private serverConnected = false;
  private closing = false;
  private finished = false;
  /** The session's timers (set-timer / clear-timer), all cleared when the connection finishes. */
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private finishPoll: NodeJS.Timeout | null = null;

  constructor(
    readonly id: number,
    socket: net.Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.session = new Session(id, deps.settings, deps.cancels);
    this.client = socket;
    socket.setNoDelay(true);
    this.input({ type: 'client-connected', address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0, localAddress: socket.localAddress ?? '?', localPort: socket.localPort ?? 0 });
    this.attachClient(socket);
  }

  // --- wiring --------------------------------------------------------------------

  private attachClient(s: Stream): void {
    s.on('data', this.onClientData);
    s.on('error', this.onClientError);
    s.on('close', this.onClientClose);
  }

  private detachClient(s: Stream): void {
    s.off('data', this.onClientData);
    s.off('error', this.onClientError);
    s.off('close', this.onClientClose);
  }

  private clientError: string | undefined;
  private readonly onClientData = (d: Buffer): void => this.data('client-data', d);
  private readonly onClientError = (e: Error): void => {
    this.clientError = errorText(e);
  };
  private readonly onClientClose = (): void => {
    this.legClosed();
    this.input({ type: 'client-closed', ...(this.clientError ? { error: this.clientError } : {}) });
  };

  private serverError: string | undefined;
  private readonly onServerData = (d: Buffer): void => this.data('server-data', d);

  /** Bytes from either leg. Forward first, decode and log after: a round trip waits for the write only. */
  private data(type: 'client-data' | 'server-data', bytes: Buffer): void {
    const [to, from] = type === 'client-data' ? [this.server, this.client] : [this.client, this.server];
    if (this.session.forwardsAsIs && to && !this.finished) {
      this.write(to, from, bytes, true);
      this.input({ type, bytes, sent: true });
    } else this.input({ type, bytes });
  }
  private readonly onServerError = (e: Error): void => {
    this.serverError = errorText(e);
  };
  private readonly onServerClose = (): void => {
    this.legClosed();
    if (!this.serverConnected) this.input({ type: 'server-connect-failed', error: this.serverError ?? 'connection closed' });
    else this.input({ type: 'server-closed', ...(this.serverError ? { error: this.serverError } : {}) });
  };

  private attachServer(s: Stream): void {
    s.on('data', this.onServerData);
    s.on('error', this.onServerError);
    s.on('close', this.onServerClose);
  }

  private detachServer(s: Stream): void {
    s.off('data', this.onServerData);
    s.off('error', this.onServerError);
    s.off('close', this.onServerClose);
  }

  // --- session loop --------------------------------------------------------------

  private input(i: SessionInput): void {
    if (this.finished) return;
    try {
      this.apply(this.session.handle(i));
    } catch (e) {
      // A bug must cost one connection, never the process.
      this.deps.log({ kind: 'status', conn: this.id, time: preciseNow(), level: 'error', text: `internal error, closing this connection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` });
      this.destroy();
    }
  }

  private apply(actions: SessionAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'log':
          this.deps.log(a.event);
          break;
        case 'send-client':
          this.write(this.client, this.server, a.bytes, a.forwarded);
          break;
        case 'send-server':
          if (this.server) this.write(this.server, this.client, a.bytes, a.forwarded);
          break;
        case 'start-client-tls':
          this.startClientTls(a.initial, a.direct);
          break;
        case 'connect-server':
          void this.connectServer(a.host, a.port);
          break;
        case 'start-server-tls':
          this.startServerTls(a.host, a.alpn);
          break;
        case 'set-timer':
          this.setTimer(a.name, a.ms);
          break;
        case 'clear-timer':
          this.clearTimer(a.name);
          break;
        case 'close':
          this.close();
          break;
      }
    }
  }

  private setTimer(name: TimerName, ms: number): void {
    this.clearTimer(name);
    if (this.finished) return;
    const t = setTimeout(() => {
      this.timers.delete(name);
      this.input({ type: 'timer', name });
    }, ms);
    // A timer alone never keeps pgscope running (the listener does).
    t.unref();
    this.timers.set(name, t);
  }

  private clearTimer(name: TimerName): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }

  /**
   * Write to one leg; when it cannot keep up, stop reading the other leg until it drains,
   * so memory stays bounded however fast one side sends.
   */
  private write(to: Stream, from: Stream | null, bytes: Buffer, forwarded: boolean): void {
    if (to.destroyed || !to.writable) return;
    let ok = true;
    if (forwarded && this.deps.sendChunking === 'byte') {
      for (let i = 0; i < bytes.length; i++) ok = to.write(bytes.subarray(i, i + 1));
    } else {
      ok = to.write(bytes);
    }
    if (!ok && from && !from.isPaused()) {
      const [full, other] = to === this.client ? ['client', 'server'] : ['server', 'client'];
      this.debug(`the ${full} leg is full: reading from the ${other} paused until it drains`);
      from.pause();
      to.once('drain', () => {
        if (!from.destroyed && !this.outputsBehind) from.resume();
      });
    }
  }

  // --- TLS -----------------------------------------------------------------------

  private startClientTls(initial: Buffer, direct: boolean): void {
    const raw = this.client;
    this.detachClient(raw);
    raw.pause();
    if (initial.length) raw.unshift(initial);
    const contexts = this.deps.clientTls;
    const t = new tls.TLSSocket(raw as net.Socket, {
      isServer: true,
      ...BUFFER_OPTION,
      secureContext: contexts.defaultContext,
      SNICallback: (name, cb) => {
        contexts.contextFor(name).then(
          (ctx) => cb(null, ctx),
          (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))),
        );
      },
      // PostgreSQL 17 accepts ALPN "postgresql" only; a client offering something else
      // gets the no_application_protocol alert, as from a real server.
      ALPNCallback: ({ protocols }) => (protocols.includes('postgresql') ? 'postgresql' : undefined),
    });
    this.client = t;
    if (this.deps.clientKeylog) {
      const kl = this.deps.clientKeylog;
      t.on('keylog', (line) => kl.write(line));
    }
    let secured = false;
    t.on('secure', () => {
      secured = true;
      const info: TlsInfo = { protocol: t.getProtocol(), cipher: t.getCipher()?.name ?? null, sni: (t as tls.TLSSocket & { servername?: string | false }).servername || null, alpn: t.alpnProtocol || null };
      if (this.deps.logCerts) void this.logClientCert(info.sni);
      this.attachClient(t);
      this.input({ type: 'client-tls-ready', info });
    });
    // Whether pgscope's first flight (ServerHello … its certificate) went out: a client that
    // hangs up after it without an alert (node-postgres with ssl: true) most likely refused it.
    const wroteBefore = raw.bytesWritten;
    let failedOnce = false;
    const failed = (e: Error | null): void => {
      if (secured || failedOnce) return;
      failedOnce = true;
      // The session says what happened (a client that rejected pgscope's certificate gets the ways through).
      if (!this.closing) this.input({ type: 'client-tls-failed', error: e ? errorText(e) : null, direct, certificateSent: raw.bytesWritten > wroteBefore });
      this.destroy();
    };
    t.once('error', failed);
    t.once('close', () => failed(null));
    // No raw.resume(): the TLS socket now owns the handle and reads the unshifted bytes
    // (direct TLS's ClientHello) from raw's buffer on the next tick. Resuming raw here, inside
    // its own 'data' event, would let its flow loop emit those bytes to no listener: lost,
    // and the handshake would hang.
  }

  private async logClientCert(sni: string | null): Promise<void> {
    try {
      const pem = await this.deps.clientTls.pemFor(sni);
      for (const line of describeCertificate(pem)) this.deps.log({ kind: 'status', conn: this.id, time: preciseNow(), level: 'info', text: `client-leg certificate: ${line}` });
    } catch (e) {
      this.deps.log({ kind: 'status', conn: this.id, time: preciseNow(), level: 'warn', text: `cannot describe the client-leg certificate: ${errorText(e)}` });
    }
  }

  private async connectServer(host: string, port: number): Promise<void> {
    const refusal = await this.deps.selfLoopCheck(host, port).catch(() => null);
    // The session may have ended while the name was being looked up.
    if (this.finished || this.closing) return;
    if (refusal) {
      this.input({ type: 'server-connect-failed', error: refusal });
      return;
    }
    this.debug(`opening a TCP connection to ${host}:${port}`);
    const s = net.connect({ host, port, ...BUFFER_OPTION });
    this.server = s;
    s.setNoDelay(true);
    this.attachServer(s);
    s.once('connect', () => {
      this.serverConnected = true;
      this.input({ type: 'server-connected', address: s.remoteAddress ?? host, port: s.remotePort ?? port, localAddress: s.localAddress ?? '?', localPort: s.localPort ?? 0 });
    });
  }

  private startServerTls(host: string, alpn: boolean): void {
    const raw = this.server;
    if (!raw) return;
    this.detachServer(raw);
    const policy = this.deps.serverPolicy;
    const t = tls.connect({ ...serverTlsOptions(policy, host, alpn), ...BUFFER_OPTION, socket: raw as net.Socket });
    this.server = t;
    if (this.deps.serverKeylog) {
      const kl = this.deps.serverKeylog;
      t.on('keylog', (line) => kl.write(line));
    }
    let secured = false;
    t.once('secureConnect', () => {
      secured = true;
      const problem = verifyServerCertificate(policy, t, host);
      if (this.deps.logCerts) {
        try {
          const cert = t.getPeerCertificate(true);
          if (cert && cert.raw) for (const line of describeCertificate(cert.raw)) this.deps.log({ kind: 'status', conn: this.id, time: preciseNow(), level: 'info', text: `server certificate: ${line}` });
        } catch (e) {
          this.deps.log({ kind: 'status', conn: this.id, time: preciseNow(), level: 'warn', text: `cannot describe the server certificate: ${errorText(e)}` });
        }
      }
      if (problem) {
        this.input({ type: 'server-tls-failed', error: problem });
        t.destroy();
        return;
      }
      this.attachServer(t);
      let certificate: Buffer | null = null;
      try {
        certificate = t.getPeerCertificate()?.raw ?? null;
      } catch {
        certificate = null;
      }
      this.input({ type: 'server-tls-ready', info: { protocol: t.getProtocol(), cipher: t.getCipher()?.name ?? null, sni: null, alpn: t.alpnProtocol || null }, certificate });
    });
    t.once('error', (e) => {
      if (!secured) this.input({ type: 'server-tls-failed', error: describeServerTlsError(e, alpn) });
    });
    t.once('close', () => {
      if (!secured) this.input({ type: 'server-tls-failed', error: 'the server closed the connection during the TLS handshake' + (alpn ? ' (servers before PostgreSQL 17 do not accept direct TLS: try --server-sslnegotiation postgres)' : '') });
    });
  }

  // --- closing -------------------------------------------------------------------

  private close(): void {
    if (this.closing) return;
    this.closing = true;
    for (const s of [this.client, this.server]) if (s && !s.destroyed) this.endGracefully(s);
    this.maybeFinished();
  }

  /**
   * End a leg without losing what is still queued for it: after end(), the socket is
   * destroyed only once a grace period passes with nothing left to write, or with no
   * progress (a peer that stopped reading), never while a slow reader is still draining.
   */
  private endGracefully(s: Stream): void {
    s.end();
    let last = s.writableLength;
    const tick = (): void => {
      if (s.destroyed) return;
      const pending = s.writableLength;
      if (pending > 0 && pending < last) {
        last = pending;
        setTimeout(tick, CLOSE_GRACE_MS).unref();
        return;
      }
      s.destroy();
    };
    setTimeout(tick, CLOSE_GRACE_MS).unref();
  }

  private destroy(): void {
    this.closing = true;
    this.client.destroy();
    this.server?.destroy();
    this.maybeFinished();
  }

  private legClosed(): void {
    this.maybeFinished();
  }

  private maybeFinished(): void {
    const clientDone = this.client.destroyed;
    const serverDone = !this.server || this.server.destroyed;
    if (!this.finished && this.closing && clientDone && serverDone) {
      this.finished = true;
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      // However it ended (even destroyed after an internal error), its keys cancel nothing now.
      this.deps.cancels.forget(this.id);
      this.deps.log({ kind: 'status', conn: this.id, time: preciseNow(), level: 'info', text: 'connection end' });
      this.deps.log({ kind: 'connection', conn: this.id, time: preciseNow(), phase: 'closed', reason: this.session.closeReason ?? 'closed', bytesFromClient: this.session.bytesFromClient, bytesFromServer: this.session.bytesFromServer });
      this.deps.onClosed(this);
    } else if (!this.finished && this.closing && !this.finishPoll) {
      // Check again once the legs have had time to close (one poll at a time).
      this.finishPoll = setTimeout(() => {
        this.finishPoll = null;
        this.maybeFinished();
      }, 50);
      this.finishPoll.unref();
    }
  }

  private debug(text: string): void {
    this.deps.log({ kind: 'status', conn: this.id, time: preciseNow(), level: 'debug', text });
  }

  /** --lossless: an output's reader is behind; nothing is read from either leg until it catches up. */
  private outputsBehind = false;

  setOutputsBehind(behind: boolean): void {
    if (this.outputsBehind === behind) return;
    this.outputsBehind = behind;
    for (const s of [this.client, this.server]) {
      if (!s || s.destroyed) continue;
      if (behind) s.pause();
      // A leg still waiting for the other to drain stays paused: its 'drain' resumes it.
      else if (!this.waitingForDrain(s)) s.resume();
    }
  }

  private waitingForDrain(from: Stream): boolean {
    const to = from === this.client ? this.server : this.client;
    return to !== null && to.writableNeedDrain;
  }

  /** Stop now (shutdown). */
  abort(): void {
    this.destroy();
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    // OpenSSL's messages end with a newline.
    const message = e.message.trim();
    return code && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(e);
}

function describeServerTlsError(e: Error, direct: boolean): string {
  const text = errorText(e);
  if (direct && /ECONNRESET|wrong version|packet length|EPIPE|unexpected eof/i.test(text)) {
    return `${text} (servers before PostgreSQL 17 do not accept direct TLS: try --server-sslnegotiation postgres)`;
  }
  return text;
}
