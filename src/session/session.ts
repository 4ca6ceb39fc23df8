import { Conversation, valueOf } from '../protocol/conversation.js';
import { encodeAuthenticationCleartextPassword, encodeErrorResponse, encodeSslRequest, type ErrorFields } from '../protocol/encode.js';
import { errorFields } from '../protocol/inspect.js';
import type { CodecEvent, DecodedMessage, Direction } from '../protocol/types.js';
import type { CancelRegistry } from './cancel-registry.js';
import { OverrideAuth, describeServerError } from './auth/override-auth.js';
import type { ChannelBindingPolicy } from './auth/choose-mechanism.js';
import { preciseNow } from './clock.js';
import type { Label, ProxyEvent, SecurityVerdict, TlsInfo } from './events.js';
import { serverHostFor } from './routing.js';
import { securityVerdict } from './verdict.js';
import { clip, SERVER_TEXT_MAX } from '../protocol/clip.js';

/**
 * The session's timers, carried out by the I/O shell: `setup` (the client must finish its
 * startup in time, as PostgreSQL's authentication_timeout), `cancel` (how long pgscope waits
 * for the server to close a forwarded CancelRequest's connection).
 */
export type TimerName = 'setup' | 'cancel';

/** PostgreSQL's default authentication_timeout: a client must finish its startup by then. */
export const SETUP_TIMEOUT_MS = 60_000;
/**
 * How long a forwarded CancelRequest's connection waits for the server to close it.
 * PostgreSQL closes it at once after signalling the backend; generous, for a loaded server.
 */
export const CANCEL_WAIT_MS = 30_000;

/** What the I/O shell tells a session. */
export type SessionInput =
  /** The client's TCP connection was accepted: its address, and the address it reached pgscope on. */
  | { type: 'client-connected'; address: string; port: number; localAddress: string; localPort: number }
  /** `sent`: the I/O shell already forwarded these bytes as they are (see forwardsAsIs). */
  | { type: 'client-data'; bytes: Buffer; sent?: boolean }
  | { type: 'client-tls-ready'; info: TlsInfo }
  /**
   * The TLS handshake with the client did not finish. `error`: the TLS library's message
   * (e.g. an alert the client sent), or null when the client just closed the connection;
   * `certificateSent`: pgscope's first flight, with its certificate, had gone out.
   */
  | { type: 'client-tls-failed'; error: string | null; direct: boolean; certificateSent: boolean }
  | { type: 'client-closed'; error?: string }
  | { type: 'server-connected'; address: string; port: number; localAddress: string; localPort: number }
  | { type: 'server-connect-failed'; error: string }
  | { type: 'server-data'; bytes: Buffer; sent?: boolean }
  /** `certificate`: the server's certificate (DER), for channel binding under --override-auth. */
  | { type: 'server-tls-ready'; info: TlsInfo; certificate: Buffer | null }
  | { type: 'server-tls-failed'; error: string }
  | { type: 'server-closed'; error?: string }
  /** A timer the session set (set-timer) went off. */
  | { type: 'timer'; name: TimerName };

/** What a session asks the I/O shell to do, in order. */
export type SessionAction =
  /** Write bytes to the client; `forwarded` bytes obey --send-chunking. */
  | { type: 'send-client'; bytes: Buffer; forwarded: boolean }
  | { type: 'send-server'; bytes: Buffer; forwarded: boolean }
  /** Start TLS as the server on the client socket; `initial` bytes were already read (direct TLS). */
  | { type: 'start-client-tls'; initial: Buffer; direct: boolean }
  | { type: 'connect-server'; host: string; port: number }
  /** Start TLS as the client on the server socket (SNI = host unless an IP). */
  | { type: 'start-server-tls'; host: string; alpn: boolean }
  | { type: 'log'; event: ProxyEvent }
  /** Start (or restart) a timer: after `ms`, hand in `{ type: 'timer', name }`. The shell clears all timers when the connection ends. */
  | { type: 'set-timer'; name: TimerName; ms: number }
  | { type: 'clear-timer'; name: TimerName }
  /** End both legs once pending writes are flushed. */
  | { type: 'close'; reason: string };

export interface SessionSettings {
  serverHost: string | null;
  serverDeleteSuffix: string;
  serverConnectPort: number;
  serverSslnegotiation: 'mimic' | 'direct' | 'postgres';
  clientDenySsl: boolean;
  /** From the server-leg TLS policy (libpq sslmode rules). */
  serverTls: { attempt: boolean; requireEncryption: boolean; mode: string };
  /** Bytes of each message kept for decoding. */
  retain?: number;
  /** --override-auth: authenticate to the server as pgscope with this channel-binding policy. */
  overrideAuth?: { channelBinding: ChannelBindingPolicy } | null;
  /** Which certificate pgscope shows clients (for the security verdict). */
  clientCertificate?: Exclude<SecurityVerdict['tls'], 'none'>;
  /** Emit 'wire' events (the plaintext bytes) for sinks that need them (pcapng). */
  wire?: boolean;
  /** No output shows forwarded messages: decode only what the session itself needs (see Conversation). */
  essentialOnly?: boolean;
}

/** Most client bytes held while the server leg is being set up. */
const MAX_PENDING_BYTES = 1024 * 1024;

type Phase =
  | 'client-startup'
  | 'client-tls'
  | 'server-connecting'
  | 'server-negotiating'
  | 'server-tls'
  /** --override-auth: pgscope is authenticating to the server with the client's password. */
  | 'authenticating'
  | 'forwarding'
  /** A CancelRequest was forwarded: waiting for the server to close its side (libpq's guarantee). */
  | 'cancel-waiting'
  | 'closed';

/**
 * One proxied connection, sans-I/O: inputs in, actions out. It decides what to forward,
 * what to answer itself (SSLRequest, GSSENCRequest), when to start TLS on each leg, where
 * to connect, and what to log. It never touches a socket.
 */
export class Session {
  private phase: Phase = 'client-startup';
  /** The client's view: what the client sent and what it received, decrypted. */
  readonly conv: Conversation;
  /** pgscope's own negotiation with the server (its SSLRequest and the answer). */
  private serverLeg = new Conversation();
  private readonly started: number;
  private out: SessionAction[] = [];
  private clientTls: (TlsInfo & { direct: boolean }) | null = null;
  private serverTls: TlsInfo | null = null;
  /** Bytes for the server that arrived before it was ready (StartupMessage and later). */
  private pendingToServer: Buffer[] = [];
  private target: { host: string; port: number } | null = null;
  private targetWhy = '';
  /** A CancelRequest connection: forward the request, wait for the server to close, then close. */
  private cancelOnly = false;
  /** Bytes each peer sent (decrypted; see bytesFromClient / bytesFromServer). */
  private clientBytes = 0;
  private serverBytes = 0;
  /** The client sent something after its TLS handshake (a client that rejects the certificate sends nothing). */
  private clientSpokeOverTls = false;
  private clientSentTerminate = false;
  /** Raw bytes of a startup packet still arriving (it may span several chunks). */
  private startupCarry: Buffer = Buffer.alloc(0);
  /** SSLRequest / GSSENCRequest already answered: PostgreSQL accepts each once. */
  private sslDone = false;
  private gssDone = false;
  private pendingBytes = 0;
  private lastServerMessage: DecodedMessage | null = null;
  /** The StartupMessage as the client sent it (--override-auth replays it into its own conversation). */
  private startupFrame: Buffer | null = null;
  private serverCertificate: Buffer | null = null;
  /** --override-auth: pgscope's own exchange with the server, and whether it waits for the client's password. */
  private auth: OverrideAuth | null = null;
  private authConv: Conversation | null = null;
  private awaitingPassword = false;
  /** For the verdict: what the client did to authenticate, and what the server offered. */
  private clientAuth: string | null = null;
  private clientGs2: 'n' | 'y' | 'p' | null = null;
  private serverOfferedPlus = false;
  private verdictGiven = false;
  private channelBindingHinted = false;
  /** The StartupMessage and what followed it in its chunk, for the 'wire' event after that chunk's codec events. */
  private startupWire: { offset: number; bytes: Buffer } | null = null;

  constructor(
    readonly id: number,
    private readonly settings: SessionSettings,
    private readonly cancels: CancelRegistry,
    private readonly now: () => number = preciseNow,
  ) {
    this.started = now();
    this.conv = new Conversation({ retain: settings.retain, essentialOnly: settings.essentialOnly ?? false });
  }

  /** The server the connection was routed to, once known. */
  get server(): { host: string; port: number } | null {
    return this.target;
  }

  /** Why the session closed, once it has. */
  closeReason: string | null = null;

  /**
   * True while every byte from either side goes to the other exactly as it came (the
   * 'forwarding' phase). The I/O shell may then write a chunk before handing it in with
   * `sent: true`, so that decoding and logging happen while the other side already works
   * on it, instead of delaying every round trip by the decoding time.
   */
  get forwardsAsIs(): boolean {
    return this.phase === 'forwarding';
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /**
   * Every byte the client sent, decrypted: SSLRequest/GSSENCRequest, the startup packet or
   * CancelRequest, and everything after, forwarded or not. Not counted: TLS records
   * themselves (a direct-TLS ClientHello included).
   */
  get bytesFromClient(): number {
    return this.clientBytes;
  }

  /**
   * Every byte the server sent to pgscope, decrypted: its answer to pgscope's SSLRequest
   * ('S'/'N'), what pgscope consumed (--override-auth) and what it forwarded. Not counted:
   * TLS records themselves, and bytes pgscope itself wrote to the client (its answer to
   * the client's SSLRequest, its own ErrorResponses, its password request).
   */
  get bytesFromServer(): number {
    return this.serverBytes;
  }

  handle(input: SessionInput): SessionAction[] {
    this.out = [];
    if (input.type === 'client-data') {
      if (!(this.phase === 'client-startup' && this.startsDirectTls(input.bytes))) this.clientBytes += input.bytes.length;
      if (this.clientTls) this.clientSpokeOverTls = true;
    } else if (input.type === 'server-data') {
      this.serverBytes += input.bytes.length;
    }
    if (this.phase === 'closed') return this.out;
    switch (input.type) {
      case 'client-connected': {
        const client = { address: input.address, port: input.port };
        this.out.push({ type: 'log', event: { kind: 'connection', conn: this.id, time: this.started, phase: 'opened', client, local: { address: input.localAddress, port: input.localPort } } });
        this.status('info', `connected from ${fmtHostPort(input.address, input.port)} at t0 = ${new Date(this.started).toISOString()}`, this.started);
        this.out.push({ type: 'set-timer', name: 'setup', ms: SETUP_TIMEOUT_MS });
        break;
      }
      case 'client-data':
        if (this.phase === 'forwarding') this.forward('frontend', input.bytes, input.sent === true);
        else if (this.phase === 'client-startup') this.clientStartup(input.bytes);
        else if (this.phase === 'authenticating') this.authClientData(input.bytes);
        else this.bufferForServer(input.bytes);
        break;
      case 'client-tls-ready':
        this.onClientTls(input.info);
        break;
      case 'client-tls-failed':
        this.onClientTlsFailed(input.error, input.direct, input.certificateSent);
        break;
      case 'client-closed':
        if (this.phase === 'cancel-waiting') {
          this.status('info', input.error ? `the client's cancel connection ended with an error before the server closed it: ${input.error}` : 'the client closed the cancel connection before the server did');
          this.close('client hung up');
          break;
        }
        if (this.clientTls && !this.clientSpokeOverTls && this.phase === 'client-startup') {
          // node-postgres with ssl: true (rejectUnauthorized), or libpq's host name check
          // under verify-full, finish the handshake, check the certificate, then hang up
          // without a word: a bare "client hung up" would not say why.
          this.status('warn', this.certificateHint(`the client ${input.error ? `ended the connection (${input.error})` : 'hung up'} right after the TLS handshake without sending a byte: it most likely rejected pgscope's certificate`));
          this.close('client hung up after the TLS handshake');
          break;
        }
        if (this.phase === 'authenticating' && this.awaitingPassword && !input.error) {
          // psql does this when it has no password yet: it hangs up, prompts the user, and
          // connects again with the password. A normal event, not an error.
          this.status('info', 'the client hung up at the password prompt (psql does this: it asks the user for the password, then connects again)');
        } else {
          this.status(input.error ? 'warn' : 'info', input.error ? `client connection ended with an error: ${input.error}` : 'client hung up');
        }
        this.close('client hung up');
        break;
      case 'server-connected':
        this.out.push({ type: 'log', event: { kind: 'connection', conn: this.id, time: this.now(), phase: 'server-connected', host: this.target?.host ?? input.address, port: this.target?.port ?? input.port, why: this.targetWhy, remote: { address: input.address, port: input.port }, local: { address: input.localAddress, port: input.localPort } } });
        this.onServerConnected(input.address, input.port);
        break;
      case 'server-connect-failed':
        this.fail(`could not connect to server ${this.describeTarget()}: ${input.error}`);
        break;
      case 'server-data':
        if (this.phase === 'forwarding') this.forward('backend', input.bytes, input.sent === true);
        else if (this.phase === 'cancel-waiting') this.status('warn', `the server sent ${input.bytes.length} byte(s) on the cancel connection (PostgreSQL sends none): not forwarded`);
        else if (this.phase === 'authenticating') this.authServerData(input.bytes);
        else if (this.phase === 'server-negotiating') this.onServerAnswer(input.bytes);
        else this.fail(`the server sent ${input.bytes.length} unexpected byte(s) before pgscope was ready for them`);
        break;
      case 'server-tls-ready':
        this.serverTls = input.info;
        this.serverCertificate = input.certificate;
        this.out.push({ type: 'log', event: { kind: 'connection', conn: this.id, time: this.now(), phase: 'server-tls', tls: input.info } });
        this.status('info', `${input.info.protocol ?? 'TLS'}/${input.info.cipher ?? '?'} connection established with server${input.info.alpn ? ` (ALPN ${input.info.alpn})` : ''}`);
        this.startForwarding();
        break;
      case 'server-tls-failed':
        this.fail(`TLS with server ${this.describeTarget()} failed: ${input.error}`);
        break;
      case 'server-closed':
        this.onServerClosed(input.error);
        break;
      case 'timer':
        this.onTimer(input.name);
        break;
    }
    return this.out;
  }

  private onTimer(name: TimerName): void {
    if (name === 'setup') {
      // PostgreSQL drops a client that has not finished its startup after
      // authentication_timeout; pgscope does the same before it starts forwarding.
      if (this.phase !== 'forwarding' && this.phase !== 'cancel-waiting') this.fail(`the connection did not finish its startup within ${SETUP_TIMEOUT_MS / 1000} s`, '08006');
      return;
    }
    if (this.phase === 'cancel-waiting') {
      this.status('warn', `the server did not close the cancel connection within ${CANCEL_WAIT_MS / 1000} s: closing it anyway (the client may now send its next statement before the cancel has reached the server's backend)`);
      this.close('the server did not close the cancel connection in time');
    }
  }

  private onClientTlsFailed(error: string | null, direct: boolean, certificateSent: boolean): void {
    const how = direct ? ' (direct TLS)' : '';
    if (error !== null) {
      this.status('error', `TLS handshake with the client failed${how}: ${error}`);
      if (rejectedCertificate(error)) this.status('warn', this.certificateHint(`the client rejected pgscope's certificate (${tlsAlert(error)})`));
    } else if (certificateSent) {
      // node-postgres with ssl: true checks the certificate when the server's first flight
      // arrives and, failing, closes without an alert.
      this.status('warn', this.certificateHint(`the client hung up during the TLS handshake${how}, after pgscope had sent its certificate, without a TLS alert: it most likely rejected pgscope's certificate`));
    } else {
      this.status('info', `the client hung up before the TLS handshake${how} got under way`);
    }
    this.close(error !== null ? 'TLS handshake with the client failed' : 'the client hung up during the TLS handshake');
  }

  /** A direct-TLS ClientHello where a startup packet would begin (PostgreSQL 17+). */
  private startsDirectTls(bytes: Buffer): boolean {
    const fe = this.conv.frontend;
    return bytes[0] === 0x16 && fe.idle && fe.mode === 'startup' && !this.clientTls;
  }

  /** What happened when a client refused pgscope's certificate, and the ways through, for the certificate pgscope showed. */
  private certificateHint(what: string): string {
    const through = 'or let the client accept it for this debugging session (libpq: sslmode=require instead of verify-ca/verify-full; node-postgres: ssl: { rejectUnauthorized: false })';
    switch (this.settings.clientCertificate ?? 'self-signed') {
      case 'local-ca':
        return `${what}, signed by pgscope's local CA (--client-ca), which the client does not trust (or the certificate does not name the host it connected to: it names the host name the client sent by SNI, else localhost, 127.0.0.1 and ::1): give it that CA as its root (libpq: sslrootcert=$(pgscope ca --print-path); node-postgres: ssl: { ca }), ${through}`;
      case 'user-certificate':
        return `${what}, given with --client-ssl-cert, which the client does not trust or which does not name the host it connected to: make the client trust its issuer and connect by a name it carries, ${through}`;
      default:
        return `${what}, self-signed, which a verifying client cannot trust. Ways through: run pgscope with --client-ca and have the client trust that CA (libpq: sslmode=verify-full sslrootcert=$(pgscope ca --print-path)), ${through}`;
    }
  }

  // --- client startup -------------------------------------------------------------

  private clientStartup(bytes: Buffer): void {
    const fe = this.conv.frontend;
    // Direct TLS (PostgreSQL 17+): a TLS record where a startup packet would begin.
    if (this.startsDirectTls(bytes)) {
      const hello = new Conversation();
      for (const ev of hello.push('frontend', bytes)) if (ev.kind === 'message') this.codec('client -> script', ev);
      if (this.settings.clientDenySsl) {
        // No plaintext answer can reach a client that is mid-handshake; PostgreSQL without
        // SSL closes the connection too.
        this.status('error', 'the client started TLS directly (direct TLS), but --client-deny-ssl keeps the client leg unencrypted: closing the connection');
        this.close('direct TLS refused (--client-deny-ssl)');
        return;
      }
      this.phase = 'client-tls';
      this.out.push({ type: 'start-client-tls', initial: bytes, direct: true });
      return;
    }
    // Slices below are taken from `raw`: the bytes of a packet that began in an earlier
    // chunk followed by this chunk, so a packet split by TCP is forwarded whole.
    const raw = this.startupCarry.length ? Buffer.concat([this.startupCarry, bytes]) : bytes;
    const rawStart = fe.offset - this.startupCarry.length;
    const events = this.conv.push('frontend', bytes);
    const partial = fe.partial;
    this.startupCarry = partial ? Buffer.from(raw.subarray(partial.offset - rawStart)) : Buffer.alloc(0);
    for (const ev of events) {
      if (this.phase !== 'client-startup') {
        // The StartupMessage moved us on: later events in this chunk are forwarded traffic.
        if (this.phase !== 'closed') this.codec('client -> server', ev);
        continue;
      }
      if (ev.kind === 'error' || ev.kind === 'unparsed') {
        this.codec('client -> script', ev);
        this.fail(ev.kind === 'error' ? `invalid startup packet: ${ev.error.expected}` : 'invalid startup packet', '08P01');
        return;
      }
      if (ev.kind !== 'message') continue;
      const m = ev.message;
      if (m.error) {
        this.codec('client -> script', ev);
        this.fail(`invalid startup packet: ${m.error.expected}`, '08P01');
        return;
      }
      switch (m.name) {
        case 'SSLRequest': {
          this.codec('client -> script', ev);
          if (this.sslDone) {
            this.fail('unsupported frontend protocol: the client sent SSLRequest again after it was answered (PostgreSQL refuses this too)', '08P01');
            return;
          }
          this.sslDone = true;
          if (this.settings.clientDenySsl) {
            this.reply(Buffer.from('N'));
            this.status('info', 'refused SSL to the client (--client-deny-ssl): the client leg stays unencrypted');
            break;
          }
          const end = m.frame.offset + m.frame.size;
          if (fe.offset > end) {
            // CVE-2021-23214: bytes sent before the handshake must not be trusted as if
            // they had come over TLS. PostgreSQL closes the connection; so do we.
            this.status('error', `received ${fe.offset - end} unencrypted byte(s) after SSLRequest, before the TLS handshake: closing the connection (CVE-2021-23214)`);
            this.close('unencrypted data after SSLRequest');
            return;
          }
          this.reply(Buffer.from('S'));
          this.phase = 'client-tls';
          this.out.push({ type: 'start-client-tls', initial: Buffer.alloc(0), direct: false });
          return;
        }
        case 'GSSENCRequest':
          // pgscope cannot terminate GSSAPI encryption: answer N, the client goes on with
          // SSLRequest or plaintext (as libpq does with gssencmode=prefer).
          this.codec('client -> script', ev);
          if (this.gssDone) {
            this.fail('unsupported frontend protocol: the client sent GSSENCRequest again after it was answered (PostgreSQL refuses this too)', '08P01');
            return;
          }
          this.gssDone = true;
          this.reply(Buffer.from('N'));
          break;
        case 'CancelRequest': {
          this.codec('client -> server', ev);
          const from = m.frame.offset - rawStart;
          this.pendingToServer.push(Buffer.from(raw.subarray(from, from + m.frame.size)));
          this.wire('client -> server', 'frontend', m.frame.offset, raw.subarray(from, from + m.frame.size));
          const extra = raw.length - (from + m.frame.size);
          this.routeCancel(m);
          // A CancelRequest is the whole conversation: anything after it is not forwarded.
          if (extra > 0) this.status('warn', `${extra} byte(s) after the CancelRequest ignored`);
          return;
        }
        case 'StartupMessage': {
          this.codec('client -> server', ev);
          this.startupFrame = m.frame.complete ? m.frame.bytes : null;
          // From here on, every byte goes to the server as it came.
          const rest = raw.subarray(m.frame.offset - rawStart);
          this.pendingToServer.push(Buffer.from(rest));
          this.pendingBytes = rest.length;
          this.startupWire = { offset: m.frame.offset, bytes: Buffer.from(rest) };
          const r = serverHostFor(this.settings.serverHost, this.clientTls?.sni ?? null, this.settings.serverDeleteSuffix);
          this.connect(r.host, this.settings.serverConnectPort, r.why);
          break;
        }
        default:
          this.codec('client -> script', ev);
          this.fail(`unexpected ${m.name} during startup`, '08P01');
          return;
      }
    }
    const w = this.startupWire;
    this.startupWire = null;
    if (w && this.phase !== 'closed') this.wire('client -> server', 'frontend', w.offset, w.bytes);
  }

  private onClientTls(info: TlsInfo): void {
    const direct = this.phase === 'client-tls' && this.conv.frontend.offset === 0 && this.conv.frontend.idle;
    this.clientTls = { ...info, direct };
    this.sslDone = true;
    this.gssDone = true;
    this.conv.encryptionEstablished();
    this.phase = 'client-startup';
    this.out.push({ type: 'log', event: { kind: 'connection', conn: this.id, time: this.now(), phase: 'client-tls', tls: info, direct } });
    this.status('info', `${info.protocol ?? 'TLS'}/${info.cipher ?? '?'} connection established with client${direct ? ' (direct TLS)' : ''}`);
    this.status('info', info.sni ? `server name via SNI: ${info.sni}` : 'no SNI from the client');
    if (direct && info.alpn !== 'postgresql') {
      // PostgreSQL 17 refuses direct TLS without ALPN "postgresql" (it guards against
      // cross-protocol attacks); a proxy that accepted it would hide that from the user.
      this.fail('direct TLS connection without ALPN "postgresql": PostgreSQL servers refuse these', '08P01');
    }
  }

  private routeCancel(m: DecodedMessage): void {
    this.cancelOnly = true;
    const pid = valueOf(m.spans, 'process ID');
    const key = valueOf(m.spans, 'secret key');
    const known = typeof pid === 'number' && Buffer.isBuffer(key) ? this.cancels.lookup(pid, key) : undefined;
    if (known) {
      this.connect(known.host, known.port, `the key of connection #${known.conn}`);
      return;
    }
    const r = serverHostFor(this.settings.serverHost, this.clientTls?.sni ?? null, this.settings.serverDeleteSuffix);
    this.connect(r.host, this.settings.serverConnectPort, `${r.why} (the key was not seen by this pgscope)`);
  }

  private connect(host: string, port: number, why: string): void {
    this.target = { host, port };
    this.targetWhy = why;
    this.phase = 'server-connecting';
    this.status('info', `connecting to server ${this.describeTarget()} (${why})`);
    this.out.push({ type: 'connect-server', host, port });
  }

  private bufferForServer(bytes: Buffer): void {
    if (this.cancelOnly) {
      this.status('warn', `${bytes.length} byte(s) after the CancelRequest ignored`);
      return;
    }
    // Between StartupMessage and the server being ready (rare: clients wait for the
    // authentication request). Logged now, forwarded in order once the server is ready;
    // bounded, so a client cannot make pgscope hold gigabytes while a server is slow.
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      this.fail(`the client sent more than ${MAX_PENDING_BYTES} bytes before the server was ready for them`, '08P01');
      return;
    }
    this.pendingToServer.push(bytes);
    const offset = this.conv.frontend.offset;
    for (const ev of this.conv.push('frontend', bytes)) this.codec('client -> server', ev);
    this.wire('client -> server', 'frontend', offset, bytes);
  }

  // --- server leg ----------------------------------------------------------------

  private onServerConnected(address: string, port: number): void {
    // "at" only when the address differs from the target as named (a host name, not the address itself).
    const at = fmtHostPort(address, port);
    this.status('info', `connected to server ${this.describeTarget()}${at === this.describeTarget() ? '' : ` at ${at}`}`);
    const tls = this.settings.serverTls;
    if (!tls.attempt) {
      this.startForwarding();
      return;
    }
    const mode = this.settings.serverSslnegotiation === 'mimic' ? (this.clientTls?.direct ? 'direct' : 'postgres') : this.settings.serverSslnegotiation;
    this.status('debug', `server TLS: --server-sslmode ${this.settings.serverTls.mode}, negotiation ${mode}${this.settings.serverSslnegotiation === 'mimic' ? ' (mimicking the client)' : ''}`);
    if (mode === 'direct') {
      this.phase = 'server-tls';
      this.status('info', 'starting direct TLS with the server (ALPN postgresql)');
      this.out.push({ type: 'start-server-tls', host: this.target!.host, alpn: true });
      return;
    }
    this.phase = 'server-negotiating';
    const req = encodeSslRequest();
    for (const ev of this.serverLeg.push('frontend', req)) this.codec('script -> server', ev);
    this.out.push({ type: 'send-server', bytes: req, forwarded: false });
  }

  private onServerAnswer(bytes: Buffer): void {
    const events = this.serverLeg.push('backend', bytes);
    for (const ev of events) this.codec('server -> script', ev);
    const first = String.fromCharCode(bytes[0]!);
    if (first === 'S') {
      if (bytes.length > 1) {
        // CVE-2021-23222: never treat bytes that came before the handshake as encrypted.
        this.fail(`the server sent ${bytes.length - 1} unencrypted byte(s) after agreeing to SSL`);
        return;
      }
      this.phase = 'server-tls';
      this.out.push({ type: 'start-server-tls', host: this.target!.host, alpn: false });
      return;
    }
    if (first === 'N') {
      if (this.settings.serverTls.requireEncryption) {
        this.fail(`the server does not support SSL, but --server-sslmode ${this.settings.serverTls.mode} requires it`);
        return;
      }
      this.status('info', `the server refused SSL: continuing unencrypted (--server-sslmode ${this.settings.serverTls.mode})`);
      this.startForwarding();
      return;
    }
    const msg = events.find((e) => e.kind === 'message');
    const text = msg && msg.kind === 'message' && msg.message.name === 'ErrorResponse' ? errorFields(msg.message)['M'] : undefined;
    this.fail(`the server answered SSLRequest with ${JSON.stringify(first)} instead of S or N${text ? `: ${clip(text, SERVER_TEXT_MAX)}` : ''}`);
  }

  private startForwarding(): void {
    this.phase = 'forwarding';
    const override = this.settings.overrideAuth;
    const startup = this.startupFrame;
    if (override && startup && !this.cancelOnly) {
      // Only the StartupMessage goes now: anything the client sent after it must wait until
      // pgscope has authenticated, or the server would read it as an authentication reply.
      const held = Buffer.concat(this.pendingToServer);
      this.pendingToServer = held.length > startup.length ? [held.subarray(startup.length)] : [];
      this.out.push({ type: 'send-server', bytes: held.subarray(0, startup.length), forwarded: true });
      this.forwarded('client -> server', startup.length);
      this.beginAuth(override.channelBinding, startup);
      return;
    }
    this.sendHeldToServer();
    this.out.push({ type: 'clear-timer', name: 'setup' });
    if (this.cancelOnly) {
      // libpq's PQcancel returns only once the server has closed the cancel connection,
      // which PostgreSQL does after signalling the backend: only then may the client's next
      // statement go, safe from this cancel. So the client's side stays open until then.
      this.phase = 'cancel-waiting';
      this.status('info', 'CancelRequest forwarded: waiting for the server to close the cancel connection');
      this.out.push({ type: 'set-timer', name: 'cancel', ms: CANCEL_WAIT_MS });
    }
  }

  /** The client's bytes held while the server leg was not ready, in order. */
  private sendHeldToServer(): void {
    const held = Buffer.concat(this.pendingToServer);
    this.pendingToServer = [];
    if (held.length === 0) return;
    this.out.push({ type: 'send-server', bytes: held, forwarded: true });
    this.forwarded('client -> server', held.length);
  }

  // --- --override-auth -------------------------------------------------------------

  private beginAuth(channelBinding: ChannelBindingPolicy, startup: Buffer): void {
    this.phase = 'authenticating';
    const user = this.conv.ctx.startupParams?.['user'] ?? '';
    this.auth = new OverrideAuth({ user, policy: channelBinding, serverTls: this.serverTls !== null, serverCertificate: this.serverCertificate });
    // pgscope's own view of its exchange with the server: it starts with the client's
    // StartupMessage (already logged as forwarded), so that the 'p' messages pgscope sends
    // are decoded against the server's requests.
    this.authConv = new Conversation();
    this.authConv.push('frontend', startup);
  }

  /** The server's authentication messages while pgscope authenticates (--override-auth). */
  private authServerData(bytes: Buffer): void {
    const conv = this.authConv!;
    const auth = this.auth!;
    for (const ev of conv.push('backend', bytes)) {
      if (ev.kind === 'message-start') continue;
      if (ev.kind !== 'message') {
        this.codec('server -> script', ev);
        this.fail('the server sent malformed data during authentication', '08P01');
        return;
      }
      const m = ev.message;
      const step = auth.onServerMessage(m);
      if (auth.facts.offered.includes('SCRAM-SHA-256-PLUS')) this.serverOfferedPlus = true;
      if (step.kind === 'pass' || step.kind === 'done') {
        if (!m.frame.complete) {
          this.fail(`the server's ${m.name} is too large to pass on during authentication`, '08P01');
          return;
        }
        // Passed on as the server sent it: the client sees it as the server's own.
        if (step.kind === 'pass') {
          if (m.name === 'ErrorResponse') this.status('warn', `the server refused: ${describeServerError(m)}`);
          this.forward('backend', m.frame.bytes);
          continue;
        }
        if (this.awaitingPassword) {
          // The server let pgscope in while the client's password was still to come: the
          // client's PasswordMessage would then reach the server as a query.
          this.fail('the server sent AuthenticationOk before pgscope had answered its password request', '08P01');
          return;
        }
        this.status('info', `${step.summary} (--override-auth)`);
        this.phase = 'forwarding';
        auth.forget();
        this.auth = null;
        this.authConv = null;
        this.sendHeldToServer();
        // AuthenticationOk and whatever follows it in this chunk: ordinary forwarded traffic now.
        const after = m.frame.offset + m.frame.size - (conv.backend.offset - bytes.length);
        this.forward('backend', Buffer.concat([m.frame.bytes, bytes.subarray(Math.max(0, after))]));
        return;
      }
      this.codec('server -> script', ev);
      switch (step.kind) {
        case 'ask-client':
          this.status('info', `${step.why}: asking the client for its password in cleartext (--override-auth)`);
          this.awaitingPassword = true;
          this.reply(encodeAuthenticationCleartextPassword());
          break;
        case 'send-server':
          this.sendAuth(step.bytes);
          break;
        case 'wait':
          break;
        case 'fail':
          this.fail(step.message, step.code);
          return;
      }
    }
  }

  /** The client's messages while pgscope authenticates: its PasswordMessage, or a goodbye. */
  private authClientData(bytes: Buffer): void {
    const chunkStart = this.conv.frontend.offset;
    // From this absolute offset on, the client's bytes are for the server, held until pgscope
    // has authenticated (a client that does not wait for AuthenticationOk). Raw bytes are
    // held, not decoded frames, so a message split across chunks stays whole.
    let holdFrom: number | null = this.awaitingPassword ? null : chunkStart;
    for (const ev of this.conv.push('frontend', bytes)) {
      if (ev.kind === 'message-start') continue;
      if (holdFrom !== null) {
        this.codec('client -> server', ev);
        continue;
      }
      this.codec('client -> script', ev);
      if (ev.kind !== 'message') {
        this.fail('malformed data from the client during authentication', '08P01');
        return;
      }
      const m = ev.message;
      if (m.name === 'Terminate') {
        this.status('info', 'the client ended the connection at the password prompt');
        this.close('client terminated during authentication');
        return;
      }
      const span = m.name === 'PasswordMessage' ? m.spans.find((s) => s.name === 'password') : undefined;
      if (!span || m.error) {
        this.fail(`expected the client's PasswordMessage (pgscope asked for a cleartext password), got ${m.name}`, '08P01');
        return;
      }
      this.awaitingPassword = false;
      this.clientAuth = 'cleartext password';
      holdFrom = m.frame.offset + m.frame.size;
      // The password's bytes, without the String's terminating zero byte (a copy: OverrideAuth wipes it when done).
      const step = this.auth!.onClientPassword(Buffer.from(m.frame.bytes.subarray(span.start, span.end - 1)));
      if (step.kind === 'send-server') this.sendAuth(step.bytes);
      else if (step.kind === 'fail') {
        this.fail(step.message, step.code);
        return;
      }
    }
    const holdAt = holdFrom === null ? bytes.length : holdFrom - chunkStart;
    if (holdAt > 0) this.wire('client -> script', 'frontend', chunkStart, bytes.subarray(0, holdAt));
    if (holdAt < bytes.length) this.holdForServer(bytes.subarray(holdAt), chunkStart + holdAt);
  }

  /** Client bytes for the server while pgscope authenticates: kept in order, bounded like bufferForServer's. */
  private holdForServer(bytes: Buffer, offset: number): void {
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      this.fail(`the client sent more than ${MAX_PENDING_BYTES} bytes before authentication finished`, '08P01');
      return;
    }
    this.pendingToServer.push(Buffer.from(bytes));
    this.wire('client -> server', 'frontend', offset, bytes);
  }

  /** pgscope's own authentication message to the server, decoded into its own conversation. */
  private sendAuth(bytes: Buffer): void {
    for (const ev of this.authConv!.push('frontend', bytes)) this.codec('script -> server', ev);
    this.out.push({ type: 'send-server', bytes, forwarded: false });
  }

  private onServerClosed(error: string | undefined): void {
    if (this.phase === 'cancel-waiting') {
      this.status(error ? 'warn' : 'info', `the server closed the cancel connection${error ? ` with an error (${error})` : ''}: closing the client's side`);
      this.close('CancelRequest forwarded; the server closed the connection');
      return;
    }
    this.status(error ? 'warn' : 'info', error ? `server connection ended with an error: ${error}` : 'server hung up');
    const last = this.lastServerMessage;
    const saidGoodbye = last?.name === 'ErrorResponse' && ['FATAL', 'PANIC'].includes(errorFields(last)['V'] ?? errorFields(last)['S'] ?? '');
    if (this.phase === 'authenticating' && saidGoodbye) {
      // The server's own refusal (a wrong password: 28P01) already reached the client.
      this.close('server hung up');
      return;
    }
    if (this.phase !== 'forwarding') {
      if (!this.cancelOnly) this.fail(`the server ${this.describeTarget()} closed the connection during setup${error ? `: ${error}` : ''}`);
      else this.close('server hung up');
      return;
    }
    // A server that vanishes without a word (killed, network gone) leaves the client with
    // a bare EOF. At a message boundary an ErrorResponse can say what happened.
    if (!this.clientSentTerminate && !saidGoodbye && this.conv.backend.idle && !this.cancelOnly) {
      this.reply(encodeErrorResponse({ severity: 'FATAL', code: '08006', message: `pgscope: the server ${this.describeTarget()} closed the connection unexpectedly${error ? ` (${error})` : ''}` }));
    }
    this.close('server hung up');
  }

  // --- forwarding ----------------------------------------------------------------

  private forward(direction: Direction, bytes: Buffer, sent = false): void {
    const label: Label = direction === 'frontend' ? 'client -> server' : 'server -> client';
    if (!sent) this.out.push({ type: direction === 'frontend' ? 'send-server' : 'send-client', bytes, forwarded: true });
    const offset = this.conv.framer(direction).offset;
    for (const ev of this.conv.push(direction, bytes)) {
      this.codec(label, ev);
      if (ev.kind !== 'message') continue;
      const m = ev.message;
      if (!this.verdictGiven) this.watchAuthentication(m);
      if (direction === 'backend') {
        this.lastServerMessage = m;
        if (m.name === 'BackendKeyData' && this.target) {
          const pid = valueOf(m.spans, 'process ID');
          const key = valueOf(m.spans, 'secret key');
          if (typeof pid === 'number' && Buffer.isBuffer(key) && m.frame.complete) {
            this.cancels.remember(pid, Buffer.from(key), { ...this.target, conn: this.id });
          }
        }
      } else if (m.name === 'Terminate') {
        this.clientSentTerminate = true;
      }
    }
    this.wire(label, direction, offset, bytes);
    this.forwarded(label, bytes.length);
  }

  /**
   * Before AuthenticationOk: note how the client authenticates (for the verdict); at
   * AuthenticationOk, give the verdict on the client's exposure to a man in the middle.
   */
  private watchAuthentication(m: DecodedMessage): void {
    const f = m.frame;
    if (f.direction === 'frontend') {
      if (m.name === 'SASLInitialResponse') {
        this.clientAuth = String(valueOf(m.spans, 'mechanism') ?? 'SASL');
        const flag = valueOf(m.spans, 'GS2 channel-binding flag');
        if (typeof flag === 'string') this.clientGs2 = flag.startsWith('p') ? 'p' : flag === 'y' ? 'y' : 'n';
      } else if (m.name === 'PasswordMessage') {
        this.clientAuth = this.conv.ctx.authRequest === 5 ? 'MD5' : 'cleartext password';
      }
      return;
    }
    if (f.type === 'E' && this.clientGs2 === 'p' && !this.channelBindingHinted) {
      const fields = errorFields(m);
      if (/channel.binding/i.test(fields['M'] ?? '')) {
        // psql's default channel_binding=prefer over TLS: the client bound its SCRAM proof
        // to pgscope's certificate, and the server, which checks it against its own, refuses.
        this.channelBindingHinted = true;
        this.status('warn', `the server refused the client's SCRAM channel binding (${clip(fields['M'] ?? '', SERVER_TEXT_MAX)}): the client bound its proof to pgscope's certificate, not the server's (catching a man in the middle is what channel binding is for; libpq uses it whenever the server offers SCRAM-SHA-256-PLUS, channel_binding=prefer). Ways through: channel_binding=disable on the client; --override-auth (pgscope authenticates to the server itself); or --client-ssl-cert/--client-ssl-key with the server's own certificate and key`);
      }
      return;
    }
    if (f.type !== 'R') return;
    const code = valueOf(m.spans, 'code');
    if (code === 10 && m.spans.some((s) => s.name === 'mechanism' && s.value === 'SCRAM-SHA-256-PLUS')) {
      this.serverOfferedPlus = true;
      if (!this.clientTls && this.serverTls) {
        // The server offers -PLUS because pgscope's leg to it is TLS; libpq on a plaintext
        // leg refuses that offer ("server offered SCRAM-SHA-256-PLUS authentication over a
        // non-SSL connection") and the connection fails with nothing said here otherwise.
        this.status('warn', 'the server offers SCRAM-SHA-256-PLUS (pgscope reaches it over TLS) to a client on a plaintext leg: libpq refuses that; use TLS on the client leg, --override-auth, or --server-sslmode disable');
      }
    }
    if (code !== 0) return;
    this.verdictGiven = true;
    const verdict = securityVerdict({
      tls: this.clientTls ? (this.settings.clientCertificate ?? 'self-signed') : 'none',
      clientAuth: this.clientAuth,
      gs2Flag: this.clientGs2,
      serverOfferedPlus: this.serverOfferedPlus,
      overrideAuth: Boolean(this.settings.overrideAuth),
    });
    this.out.push({ type: 'log', event: { kind: 'security', conn: this.id, time: this.now(), verdict } });
  }

  // --- helpers -------------------------------------------------------------------

  /** Send pgscope's own bytes to the client, decoded into the client's conversation. */
  private reply(bytes: Buffer): void {
    const offset = this.conv.backend.offset;
    const answer = this.conv.ctx.awaitingAnswer !== null;
    for (const ev of this.conv.push('backend', bytes)) this.codec('script -> client', ev);
    this.out.push({ type: 'send-client', bytes, forwarded: false });
    // The answer to SSLRequest/GSSENCRequest is negotiation, not conversation: not in 'wire'.
    if (!answer) this.wire('script -> client', 'backend', offset, bytes);
  }

  /**
   * Setup failed: tell the client with an ErrorResponse (FATAL; it is waiting for the
   * server's first answer, where an ErrorResponse is allowed), log it, close.
   */
  private fail(message: string, code = '08001'): void {
    this.status('error', message);
    const fields: ErrorFields = { severity: 'FATAL', code, message: `pgscope: ${message}` };
    // PostgreSQL never answers a CancelRequest, even when it cannot act on it.
    if (this.phase !== 'client-tls' && this.phase !== 'forwarding' && !this.cancelOnly) this.reply(encodeErrorResponse(fields));
    this.close(message);
  }

  private close(reason: string): void {
    if (this.phase === 'closed') return;
    this.closeReason = reason;
    this.auth?.forget();
    this.auth = null;
    this.authConv = null;
    const wasForwarding = this.phase === 'forwarding';
    this.phase = 'closed';
    for (const [who, framer] of [['client', this.conv.frontend], ['server', this.conv.backend]] as const) {
      const p = framer.partial;
      if (!p) continue;
      const what = p.type ? `a ${JSON.stringify(p.type)} message` : 'a startup packet';
      const size = p.size === null ? 'its header incomplete' : `${p.seen} of its ${p.size} bytes received`;
      const fate = wasForwarding ? 'those bytes were forwarded as they came' : 'those bytes were not forwarded';
      this.status('warn', `the connection ended in the middle of ${what} from the ${who} at offset ${p.offset} (${size}); ${fate}`);
    }
    this.cancels.forget(this.id);
    this.out.push({ type: 'close', reason });
  }

  private wire(label: Label, direction: Direction, offset: number, bytes: Buffer): void {
    if (!this.settings.wire || bytes.length === 0) return;
    this.out.push({ type: 'log', event: { kind: 'wire', conn: this.id, time: this.now(), label, direction, offset, bytes } });
  }

  private describeTarget(): string {
    if (!this.target) return '(not chosen yet)';
    return fmtHostPort(this.target.host, this.target.port);
  }

  private codec(label: Label, event: CodecEvent): void {
    if (event.kind === 'message-start') return;
    this.out.push({ type: 'log', event: { kind: 'codec', conn: this.id, time: this.now(), label, event } });
  }

  private forwarded(label: Label, bytes: number): void {
    // Only the text log shows forwarded batches; with every output off nobody would.
    if (this.settings.essentialOnly) return;
    const t = this.now();
    this.out.push({ type: 'log', event: { kind: 'forwarded', conn: this.id, time: t, label, bytes, elapsed: (t - this.started) / 1000 } });
  }

  private status(level: 'info' | 'warn' | 'error' | 'debug', text: string, time = this.now()): void {
    this.out.push({ type: 'log', event: { kind: 'status', conn: this.id, time, level, text } });
  }
}

function fmtHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * TLS alerts a client sends when it does not accept the server's certificate (OpenSSL's
 * texts, as Node reports them: "… tlsv1 alert unknown ca … SSL alert number 48").
 */
const CERTIFICATE_ALERTS = /alert (unknown ca|bad certificate|certificate unknown|unsupported certificate|certificate expired|certificate revoked)|alert number (42|43|44|45|46|48)\b/i;

function rejectedCertificate(error: string): boolean {
  return CERTIFICATE_ALERTS.test(error);
}

/** The alert's name, for the hint ("tlsv1 alert unknown ca"). */
function tlsAlert(error: string): string {
  const m = /(?:sslv3|tlsv1)? ?alert [a-z ]+?(?=:| \(|$|,)/i.exec(error) ?? /alert number \d+/i.exec(error);
  return m ? m[0].trim() : 'a TLS alert';
}
