import { Conversation } from '../protocol/conversation.js';
import { encodeErrorResponse, type ErrorFields } from '../protocol/encode.js';
import type { CodecEvent, DecodedMessage, Direction } from '../protocol/types.js';
import { ConnectionStatements, decodingOptions } from '../analysis/connection-statements.js';
import { SecurityWatch } from '../analysis/security-watch.js';
import { logCodecEvent, logReplaced, logStatementsEnd } from './codec-log.js';
import type { CancelRegistry } from './cancel-registry.js';
import type { Label, ProxyEvent, TlsInfo } from './events.js';
import { fmtHostPort } from './host-port.js';
import type { SessionAction, SessionSettings } from './io.js';
import type { ChunkMark, ChunkToDecode } from './decode-elsewhere.js';

export type Phase =
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

/** Most client bytes held while the server leg is being set up. */
export const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * What every phase of a session shares: the connection's facts, the client's conversation,
 * and the one way out for actions and events (`act`). The phases (client-startup.ts,
 * server-leg.ts, authenticating.ts, forwarding.ts) read and change it; session.ts routes
 * inputs to them. Internal to src/session.
 */
export class SessionCore {
  phase: Phase = 'client-startup';
  /** The client's view: what the client sent and what it received, decrypted. */
  readonly conv: Conversation;
  readonly started: number;
  /** Where actions go: the shell's executor, or a test's list (set by Session for each input). */
  act: (a: SessionAction) => void = () => {};
  clientTls: (TlsInfo & { direct: boolean }) | null = null;
  serverTls: TlsInfo | null = null;
  serverCertificate: Buffer | null = null;
  target: { host: string; port: number } | null = null;
  targetWhy = '';
  /** A CancelRequest connection: forward the request, wait for the server to close, then close. */
  cancelOnly = false;
  /** Bytes for the server that arrived before it was ready (StartupMessage and later). */
  pendingToServer: Buffer[] = [];
  pendingBytes = 0;
  /** The StartupMessage as the client sent it (--override-auth replays it into its own conversation). */
  startupFrame: Buffer | null = null;
  /** Bytes each peer sent (decrypted; see Session.bytesFromClient / bytesFromServer). */
  clientBytes = 0;
  serverBytes = 0;
  /** The client sent something after its TLS handshake (a client that rejects the certificate sends nothing). */
  clientSpokeOverTls = false;
  clientSentTerminate = false;
  lastServerMessage: DecodedMessage | null = null;
  /** The conversation was handed over to the decode thread (see handOver). */
  handedOver = false;
  closeReason: string | null = null;
  readonly security: SecurityWatch;
  /** Statement tracking, when an output shows statements or typed values, or redaction needs it. */
  readonly statements: ConnectionStatements | null;

  constructor(
    readonly id: number,
    readonly settings: SessionSettings,
    readonly cancels: CancelRegistry,
    readonly now: () => number,
  ) {
    this.started = now();
    // A hook decides per message: it needs every message decoded.
    const essentialOnly = (settings.essentialOnly ?? false) && !settings.hook;
    // With statement analysis, the conversation follows statements as it decodes: typed
    // values and secret marks are set while decoding; the analysis only reads.
    // A hook is told the SQL each request runs (MessageView.sql): the conversation then
    // follows statements too, without typing values or marking secrets for it.
    const follow = settings.statements ? decodingOptions(settings.statements) : settings.hook ? { statements: { typeValues: false, redact: false } } : {};
    this.conv = new Conversation({ retain: settings.retain, essentialOnly, ...follow });
    this.statements = settings.statements ? new ConnectionStatements(id, settings.statements, this.conv.statements) : null;
    this.security = new SecurityWatch({
      clientLeg: () => (this.clientTls ? (settings.clientCertificate ?? 'self-signed') : 'none'),
      serverTls: () => this.serverTls !== null,
      overrideAuth: Boolean(settings.overrideAuth),
      authRequest: () => this.conv.ctx.authRequest,
    });
  }

  log(event: ProxyEvent): void {
    this.act({ type: 'log', event });
  }

  status(level: 'info' | 'warn' | 'error' | 'debug', text: string, time = this.now()): void {
    this.log({ kind: 'status', conn: this.id, time, level, text });
  }

  /**
   * A codec event, logged (logCodecEvent: through the statement analysis first). Nothing
   * once the conversation was handed over: the decode thread logs its events.
   */
  codec(label: Label, event: CodecEvent, time = this.now()): void {
    if (this.handedOver) return;
    logCodecEvent(this, label, event, time);
  }

  /** A server message pgscope took, and its replacement the client got (see logReplaced). */
  replacedFromServer(taken: Extract<CodecEvent, { kind: 'message' }>, sent: DecodedMessage, time = this.now()): void {
    logReplaced(this, taken, sent, time);
  }

  /** The connection is over: what the statement analysis has left (here or on the decode thread), then the closed fact. */
  ended(): void {
    const time = this.now();
    if (!this.handedOver) logStatementsEnd(this, time);
    this.log({ kind: 'connection', conn: this.id, time, phase: 'closed', reason: this.closeReason ?? 'closed', bytesFromClient: this.clientBytes, bytesFromServer: this.serverBytes });
  }

  /**
   * With settings.decodeElsewhere, at the first quiet point of the forwarding phase (see
   * decode-elsewhere.ts): hand the conversation over to the decode thread, and from then on
   * only frame what the session needs itself. True once handed over.
   */
  handOver(): boolean {
    if (this.handedOver) return true;
    if (!this.settings.decodeElsewhere || this.phase !== 'forwarding' || !this.security.done) return false;
    if (this.statements !== null && !this.statements.quiet) return false;
    const state = this.conv.quietState();
    if (state === null) return false;
    // A hook decides on decoded messages here: this conversation goes on decoding for it.
    if (this.settings.hook) this.conv.decodeForDecisionsOnly();
    else this.conv.decodeOnlyEssentials();
    this.handedOver = true;
    this.act({ type: 'decode-elsewhere', item: { kind: 'hand-over', conn: this.id, started: this.started, state } });
    return true;
  }

  /**
   * Bytes of the client's conversation for the decode thread (handed over): decoded and
   * logged there. `forwarded`: how many bytes to report forwarded after them; `marks`: the
   * messages a hook took or replaced (see ChunkToDecode).
   */
  decodeElsewhere(label: Label, direction: Direction, bytes: Buffer, time: number, forwarded: number, marks?: ChunkMark[]): void {
    const item: ChunkToDecode = { kind: 'chunk', conn: this.id, time, label, direction, bytes, forwarded: this.settings.essentialOnly ? 0 : forwarded };
    if (marks && marks.length > 0) item.marks = marks;
    this.act({ type: 'decode-elsewhere', item });
  }

  /** The plaintext bytes of the client's conversation, for pcapng ('wire' events), when an output asks. */
  wire(label: Label, direction: Direction, offset: number, bytes: Buffer, time = this.now()): void {
    if (!this.settings.wire || bytes.length === 0 || this.handedOver) return;
    this.log({ kind: 'wire', conn: this.id, time, label, direction, offset, bytes });
  }

  /** A forwarded batch, for the text log's `^^ N bytes forwarded` (nobody else shows it). */
  forwarded(label: Label, bytes: number, t = this.now()): void {
    if (this.settings.essentialOnly || this.handedOver) return;
    this.log({ kind: 'forwarded', conn: this.id, time: t, label, bytes, elapsed: (t - this.started) / 1000 });
  }

  describeTarget(): string {
    if (!this.target) return '(not chosen yet)';
    return fmtHostPort(this.target.host, this.target.port);
  }

  /** Send pgscope's own bytes to the client, decoded into the client's conversation. */
  reply(bytes: Buffer, send: (bytes: Buffer) => void = (b) => this.act({ type: 'send-client', bytes: b, forwarded: false })): void {
    const offset = this.conv.backend.offset;
    const answer = this.conv.ctx.awaitingAnswer !== null;
    const time = this.now();
    if (this.handedOver) this.decodeElsewhere('script -> client', 'backend', bytes, time, 0);
    for (const ev of this.conv.push('backend', bytes)) this.codec('script -> client', ev, time);
    send(bytes);
    // The answer to SSLRequest/GSSENCRequest is negotiation, not conversation: not in 'wire'.
    if (!answer) this.wire('script -> client', 'backend', offset, bytes, time);
  }

  /**
   * Setup failed: tell the client with an ErrorResponse (FATAL; it is waiting for the
   * server's first answer, where an ErrorResponse is allowed), log it, close.
   */
  fail(message: string, code = '08001'): void {
    this.status('error', message);
    const fields: ErrorFields = { severity: 'FATAL', code, message: `pgscope: ${message}` };
    // PostgreSQL never answers a CancelRequest, even when it cannot act on it.
    if (this.phase !== 'client-tls' && this.phase !== 'forwarding' && !this.cancelOnly) this.reply(encodeErrorResponse(fields));
    this.close(message);
  }

  /** The client's bytes held while the server leg was not ready, in order. */
  sendHeldToServer(): void {
    const held = Buffer.concat(this.pendingToServer);
    this.pendingToServer = [];
    if (held.length === 0) return;
    this.act({ type: 'send-server', bytes: held, forwarded: true });
    this.forwarded('client -> server', held.length);
  }

  /** Choose the server and connect to it. */
  connect(host: string, port: number, why: string): void {
    this.target = { host, port };
    this.targetWhy = why;
    this.phase = 'server-connecting';
    this.status('info', `connecting to server ${this.describeTarget()} (${why})`);
    this.act({ type: 'connect-server', host, port });
  }

  /** Hooks run before the session closes (the override-auth phase forgets its password). */
  readonly onClose: (() => void)[] = [];

  close(reason: string, how: 'close' | 'reset' = 'close'): void {
    if (this.phase === 'closed') return;
    this.closeReason = reason;
    for (const f of this.onClose) f();
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
    this.act({ type: how, reason });
  }
}
