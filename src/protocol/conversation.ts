import { authenticationCode } from './backend/authentication.js';
import { negotiatedMinor } from './backend/negotiate-protocol-version.js';
import { newDecodeContext, parseStartReplication, type DecodeContext } from './context.js';
import { queryText } from './frontend/query.js';
import { startupParameters } from './frontend/startup-message.js';
import { decodeMemoized, freezeDecoded } from './decode-memo.js';
import { Framer, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE, type FramerMode } from './framer.js';
import { requestSql, StatementContext, type StatementContextOptions } from './statement-context.js';
import type { CodecEvent, DecodedMessage, Direction, Span } from './types.js';

export interface ConversationOptions {
  /** Bytes of each message kept for decoding (default 1 MiB); the rest is only counted. */
  retain?: number;
  maxMessageLength?: number;
  /** Starting modes, for a tap that joins a conversation after its startup. */
  frontendMode?: FramerMode;
  backendMode?: FramerMode;
  /** Starting offsets of each direction, for a conversation taken up again part way (default 0). */
  offsets?: { frontend: number; backend: number };
  /**
   * Decode only the messages a proxy needs for its own decisions (ESSENTIAL_TYPES): the
   * others are framed and counted but neither copied nor decoded. For a proxy whose
   * outputs show nothing of the traffic; every decision it makes still has what it needs.
   */
  essentialOnly?: boolean;
  /**
   * Follow prepared statements and portals (statement-context.ts) so that decoding types
   * DataRow columns and Bind parameters (`typeValues`) and marks secrets (`redact`; and the
   * parameters of statements whose SQL carries a password). Absent: values stay bytes.
   */
  statements?: StatementContextOptions | null;
  /**
   * A test mode: deep-freeze every decoded message right after decoding (before the context
   * is updated from it), so that anything that writes to one afterwards throws.
   */
  freezeDecoded?: boolean;
}

/**
 * What a proxy must see with every output off: startup packets and SSL/GSS answers (always
 * framed), the client's password/SASL responses ('p', for the security verdict and
 * --override-auth) and Terminate ('X'); the server's authentication requests ('R'),
 * BackendKeyData ('K', to route cancels), ErrorResponse ('E', a goodbye before closing)
 * and NegotiateProtocolVersion ('v').
 */
export const ESSENTIAL_TYPES = { frontend: new Set(['p', 'X']), backend: new Set(['R', 'K', 'E', 'v']) } as const;

/**
 * Where a conversation stands at a quiet point (both directions between messages, no COPY,
 * no replication, no statement or request the statement context holds): all another
 * Conversation needs to take it up from there (`Conversation.resumed`), on another thread.
 */
export interface ConversationState {
  offsets: { frontend: number; backend: number };
  protocol: { major: number; minor: number } | null;
  startupParams: Record<string, string>;
  authRequest: number | null;
}

/**
 * Both directions of one PostgreSQL connection: two framers, one shared DecodeContext.
 * Feed it bytes in the order they were seen; it returns decoded events. Sans-I/O.
 */
export class Conversation {
  readonly ctx: DecodeContext = newDecodeContext();
  /** The statement context decoders type values by (ctx.statements), when asked to follow statements. */
  readonly statements: StatementContext | null;
  readonly frontend: Framer;
  readonly backend: Framer;
  private readonly freeze: boolean;
  /** Statements are followed (false once decoding moved elsewhere: decodeOnlyEssentials). */
  private following: boolean;

  /** A conversation taken up at a quiet point another one reached (see ConversationState). */
  static resumed(state: ConversationState, opts: Omit<ConversationOptions, 'offsets' | 'frontendMode' | 'backendMode'> = {}): Conversation {
    const conv = new Conversation({ ...opts, offsets: state.offsets, frontendMode: 'normal', backendMode: 'normal' });
    conv.ctx.protocol = state.protocol;
    conv.ctx.startupParams = state.startupParams;
    conv.ctx.authRequest = state.authRequest;
    return conv;
  }

  constructor(opts: ConversationOptions = {}) {
    this.statements = opts.statements ? new StatementContext(opts.statements) : null;
    this.ctx.statements = this.statements;
    this.following = this.statements !== null;
    this.freeze = opts.freezeDecoded ?? false;
    const common = { retain: opts.retain, maxMessageLength: opts.maxMessageLength };
    const only = (d: Direction): { only?: ReadonlySet<string> } => (opts.essentialOnly ? { only: ESSENTIAL_TYPES[d] } : {});
    this.frontend = new Framer({ direction: 'frontend', mode: opts.frontendMode ?? 'startup', offset: opts.offsets?.frontend ?? 0, ...common, ...only('frontend') });
    this.backend = new Framer({ direction: 'backend', mode: opts.backendMode ?? 'normal', offset: opts.offsets?.backend ?? 0, ...common, ...only('backend') });
  }

  framer(direction: Direction): Framer {
    return direction === 'frontend' ? this.frontend : this.backend;
  }

  push(direction: Direction, chunk: Buffer): CodecEvent[] {
    const out: CodecEvent[] = [];
    for (const ev of this.framer(direction).push(chunk)) {
      if (ev.kind === 'frame') {
        const message = decodeMemoized(ev.frame, this.ctx);
        if (this.freeze) freezeDecoded(message);
        this.observe(message);
        const sql = this.following ? this.follow(this.statements!, message) : undefined;
        out.push(sql === undefined ? { kind: 'message', message } : { kind: 'message', message, sql });
      } else {
        // After a framing error message boundaries are lost: the statements can no longer be followed.
        if (ev.kind === 'error') this.statements?.fail('the conversation can no longer be decoded');
        out.push(ev);
      }
    }
    return out;
  }

  /** This conversation's state when it is at a quiet point (see ConversationState), else null. */
  quietState(): ConversationState | null {
    const { frontend, backend, ctx } = this;
    if (!frontend.idle || !backend.idle || frontend.mode !== 'normal' || backend.mode !== 'normal') return null;
    if (ctx.copy !== 'none' || ctx.awaitingAnswer !== null || ctx.pendingReplication !== null || ctx.replication !== null) return null;
    if (this.statements !== null && !this.statements.quiet) return null;
    return { offsets: { frontend: frontend.offset, backend: backend.offset }, protocol: ctx.protocol, startupParams: ctx.startupParams, authRequest: ctx.authRequest };
  }

  /**
   * The outputs' decoding moved elsewhere (a quietState was taken up by another
   * conversation), but this one still decodes for a proxy that decides on every message (a
   * hook): statements are still followed (for the SQL of each request), no longer for an
   * analysis that reads their steps.
   */
  decodeForDecisionsOnly(): void {
    this.statements?.unfollow();
  }

  /**
   * The decoding moved elsewhere (a quietState was taken up by another conversation): from
   * the next message on, only what a proxy needs itself is decoded (ESSENTIAL_TYPES), and
   * statements are no longer followed.
   */
  decodeOnlyEssentials(): void {
    this.frontend.narrow(ESSENTIAL_TYPES.frontend);
    this.backend.narrow(ESSENTIAL_TYPES.backend);
    this.following = false;
    this.ctx.statements = null;
  }

  /**
   * The caller (a proxy) terminated TLS or finished a handshake on both legs: plaintext
   * resumes, the client in the startup phase, the server in the normal phase.
   */
  encryptionEstablished(): void {
    this.frontend.resume('startup');
    this.backend.resume('normal');
  }

  /**
   * Update the statement context from a decoded message; a failure (a bug) stops it, never
   * decoding. Returns the SQL a client request runs (requestSql), known only now: the
   * context may be a chunk ahead when the message's event is handled.
   */
  private follow(statements: StatementContext, message: DecodedMessage): string | undefined {
    try {
      const step = statements.observe(message);
      return step !== null && step.kind === 'request' ? requestSql(step.request) : undefined;
    } catch (e) {
      statements.fail(`internal error: ${e instanceof Error ? e.message : String(e)}`, message.frame);
      return undefined;
    }
  }

  /** Update the context from a decoded message (what later messages mean depends on it). */
  private observe(msg: DecodedMessage): void {
    const ctx = this.ctx;
    const f = msg.frame;
    if (f.kind === 'tls-record' && f.direction === 'frontend') {
      this.backend.becomeOpaque('TLS-encrypted (direct TLS)');
      return;
    }
    if (f.kind === 'answer') {
      ctx.awaitingAnswer = null;
      if (f.type === 'S' || f.type === 'G') this.frontend.becomeOpaque(f.type === 'S' ? 'TLS-encrypted after SSLRequest was accepted' : 'GSS-encrypted after GSSENCRequest was accepted');
      return;
    }
    if (f.kind === 'startup') {
      if (f.bytes.length < 8) return;
      const code = f.bytes.readInt32BE(4);
      if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
        ctx.awaitingAnswer = code === SSL_REQUEST_CODE ? 'ssl' : 'gss';
        this.backend.expectAnswer();
      } else if (code >>> 16 === 3) {
        ctx.protocol = { major: 3, minor: code & 0xffff };
        const params = startupParameters(msg);
        if (params) ctx.startupParams = params;
      }
      return;
    }
    if (f.direction === 'backend') {
      ctx.awaitingAnswer = null;
      switch (f.type) {
        case 'R': {
          const code = authenticationCode(msg);
          if (code !== undefined) ctx.authRequest = code;
          break;
        }
        case 'v': {
          const minor = negotiatedMinor(msg);
          if (minor !== undefined && ctx.protocol) ctx.protocol = { major: ctx.protocol.major, minor: minor & 0xffff };
          break;
        }
        case 'W':
          ctx.copy = 'both';
          if (ctx.pendingReplication) {
            ctx.replication = ctx.pendingReplication;
            ctx.pendingReplication = null;
          }
          break;
        case 'G':
          ctx.copy = 'in';
          break;
        case 'H':
          ctx.copy = 'out';
          break;
        case 'C':
        case 'E':
        case 'Z':
          // The COPY (or replication stream) is over once the command completes or fails.
          ctx.copy = 'none';
          ctx.replication = null;
          if (f.type !== 'C') ctx.pendingReplication = null;
          break;
        case 'd':
          if (ctx.replication?.pgoutput && msg.sub[0] === 'XLogData') {
            if (msg.sub[1] === 'StreamStart') ctx.replication.inStream = true;
            else if (msg.sub[1] === 'StreamStop') ctx.replication.inStream = false;
          }
          break;
      }
    } else if (f.type === 'Q') {
      const sql = queryText(msg);
      if (sql !== undefined) {
        const rep = parseStartReplication(sql);
        if (rep) ctx.pendingReplication = rep;
      }
    }
  }
}

/**
 * The value of the first top-level span with this name.
 * @deprecated Span names belong to the message modules: use the message's codec
 * (`fields(m)`) or its module's accessor (authenticationCode, offeredMechanisms, …).
 */
export function valueOf(spans: Span[], name: string): unknown {
  for (const s of spans) if (s.name === name) return s.value;
  return undefined;
}
