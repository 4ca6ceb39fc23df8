import net from 'node:net';
import type tls from 'node:tls';
import type { CancelRegistry } from '../session/cancel-registry.js';
import type { DecodeItem } from '../session/decode-elsewhere.js';
import type { ProxyEvent } from '../session/events.js';
import { Session, type SessionAction, type SessionInput, type SessionSettings, type TimerName } from '../session/session.js';
import type { KeyLogWriter } from '../tls/keylog.js';
import type { ServerTlsPolicy } from '../tls/server-leg.js';
import type { ClientTlsContexts } from './client-tls.js';
import { errorText } from './error-text.js';
import { endGracefully } from './end-gracefully.js';
import { acceptClientTls, BUFFER_OPTION, connectServerTls } from './tls-legs.js';

export interface ConnectionDeps {
  settings: SessionSettings;
  cancels: CancelRegistry;
  /** Where the session's events go (the outputs, startProxy's listeners). */
  log: (ev: ProxyEvent) => void;
  /** Where a session's decode items go (settings.decodeElsewhere: the decode thread, in order with `log`). */
  decodeElsewhere?: (item: DecodeItem) => void;
  clientTls: ClientTlsContexts;
  serverPolicy: ServerTlsPolicy;
  sendChunking: 'whole' | 'byte';
  clientKeylog: KeyLogWriter | null;
  serverKeylog: KeyLogWriter | null;
  /** Resolves to a refusal message when host:port is pgscope's own listening address. */
  selfLoopCheck: (host: string, port: number) => Promise<string | null>;
  onClosed: (conn: ProxyConnection) => void;
}

type Stream = net.Socket | tls.TLSSocket;

/** How often a closing connection checks whether both legs are gone. */
const FINISH_POLL_MS = 50;

/**
 * The I/O shell of one proxied connection: it owns the two sockets (and their TLS
 * layers), turns socket facts into Session inputs, and carries out the Session's actions
 * as soon as the session decides them. All decisions, and every event, are the Session's.
 * Any failure here ends this connection only.
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
  /** --lossless: an output's reader is behind; nothing is read from either leg until it catches up. */
  private outputsBehind = false;
  private readonly perform = (a: SessionAction): void => this.apply(a);

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

  private clientError: string | undefined;
  private serverError: string | undefined;
  private readonly onClientData = (d: Buffer): void => this.input({ type: 'client-data', bytes: d });
  private readonly onClientError = (e: Error): void => {
    this.clientError = errorText(e);
  };
  private readonly onClientClose = (): void => {
    this.maybeFinished();
    this.input({ type: 'client-closed', ...(this.clientError ? { error: this.clientError } : {}) });
  };
  private readonly onServerData = (d: Buffer): void => this.input({ type: 'server-data', bytes: d });
  private readonly onServerError = (e: Error): void => {
    this.serverError = errorText(e);
  };
  private readonly onServerClose = (): void => {
    this.maybeFinished();
    if (!this.serverConnected) this.input({ type: 'server-connect-failed', error: this.serverError ?? 'connection closed' });
    else this.input({ type: 'server-closed', ...(this.serverError ? { error: this.serverError } : {}) });
  };

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
    if (this.finished && i.type !== 'ended') return;
    try {
      this.session.step(i, this.perform);
    } catch (e) {
      // A bug must cost one connection, never the process.
      try {
        this.session.step({ type: 'internal-error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, this.perform);
      } catch {
        /* the session cannot even say so */
      }
      this.destroy();
    }
  }

  private apply(a: SessionAction): void {
    switch (a.type) {
      case 'log':
        this.deps.log(a.event);
        return;
      case 'decode-elsewhere':
        this.deps.decodeElsewhere!(a.item);
        return;
      case 'send-client':
        this.write(this.client, this.server, a.bytes, a.forwarded);
        return;
      case 'send-server':
        if (this.server) this.write(this.server, this.client, a.bytes, a.forwarded);
        return;
      case 'start-client-tls':
        this.startClientTls(a.initial, a.direct);
        return;
      case 'connect-server':
        void this.connectServer(a.host, a.port);
        return;
      case 'start-server-tls':
        this.startServerTls(a.host, a.alpn);
        return;
      case 'set-timer':
        this.setTimer(a.name, a.ms);
        return;
      case 'clear-timer':
        this.clearTimer(a.name);
        return;
      case 'close':
        this.close();
        return;
      case 'reset':
        this.reset();
        return;
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
      this.input({ type: 'backpressure', full: to === this.client ? 'client' : 'server' });
      from.pause();
      to.once('drain', () => {
        if (!from.destroyed && !this.outputsBehind) from.resume();
      });
    }
  }

  // --- the server and TLS ------------------------------------------------------------

  private startClientTls(initial: Buffer, direct: boolean): void {
    const raw = this.client as net.Socket;
    this.detachClient(raw);
    const t = acceptClientTls(raw, initial, this.deps.clientTls, this.deps.clientKeylog, {
      secure: (info) => {
        this.attachClient(t);
        this.input({ type: 'client-tls-ready', info });
        if (this.deps.settings.logCerts) {
          this.deps.clientTls.pemFor(info.sni).then(
            (pem) => this.input({ type: 'client-certificate', pem }),
            (e: unknown) => this.input({ type: 'client-certificate', pem: null, error: errorText(e) }),
          );
        }
      },
      failed: (error, certificateSent) => {
        // The session says what happened (a client that rejected pgscope's certificate gets the ways through).
        if (!this.closing) this.input({ type: 'client-tls-failed', error, direct, certificateSent });
        this.destroy();
      },
    });
    this.client = t;
  }

  private async connectServer(host: string, port: number): Promise<void> {
    const refusal = await this.deps.selfLoopCheck(host, port).catch(() => null);
    // The session may have ended while the name was being looked up.
    if (this.finished || this.closing) return;
    if (refusal) {
      this.input({ type: 'server-connect-failed', error: refusal });
      return;
    }
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
    const raw = this.server as net.Socket | null;
    if (!raw) return;
    this.detachServer(raw);
    const t = connectServerTls(raw, host, alpn, this.deps.serverPolicy, this.deps.serverKeylog, {
      secure: (info, certificate) => {
        this.attachServer(t);
        this.input({ type: 'server-tls-ready', info, certificate });
      },
      failed: (error, certificate) => this.input({ type: 'server-tls-failed', error, certificate }),
    });
    this.server = t;
  }

  // --- closing -------------------------------------------------------------------

  private close(): void {
    if (this.closing) return;
    this.closing = true;
    for (const s of [this.client, this.server]) if (s && !s.destroyed) endGracefully(s);
    this.maybeFinished();
  }

  /** Both legs at once, with a TCP reset where there is a TCP socket underneath. */
  private reset(): void {
    this.closing = true;
    for (const s of [this.client, this.server]) {
      if (!s || s.destroyed) continue;
      const tcp = (s as tls.TLSSocket & { _parent?: net.Socket })._parent ?? s;
      if (typeof (tcp as net.Socket).resetAndDestroy === 'function' && !tcp.destroyed) (tcp as net.Socket).resetAndDestroy();
      s.destroy();
    }
    this.maybeFinished();
  }

  private destroy(): void {
    this.closing = true;
    this.client.destroy();
    this.server?.destroy();
    this.maybeFinished();
  }

  private maybeFinished(): void {
    const clientDone = this.client.destroyed;
    const serverDone = !this.server || this.server.destroyed;
    if (!this.finished && this.closing && clientDone && serverDone) {
      this.finished = true;
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      this.input({ type: 'ended' });
      this.deps.onClosed(this);
    } else if (!this.finished && this.closing && !this.finishPoll) {
      // Check again once the legs have had time to close (one poll at a time).
      this.finishPoll = setTimeout(() => {
        this.finishPoll = null;
        this.maybeFinished();
      }, FINISH_POLL_MS);
      this.finishPoll.unref();
    }
  }

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
