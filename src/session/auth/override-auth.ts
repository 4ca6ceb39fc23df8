import { authentication, authenticationCode, md5Salt, offeredMechanisms } from '../../protocol/backend/authentication.js';
import { tryFields } from '../../protocol/registry.js';
import { encodePasswordMessage, encodeSaslInitialResponse, encodeSaslResponse } from '../../protocol/encode.js';
import { errorFields } from '../../protocol/inspect.js';
import type { DecodedMessage } from '../../protocol/types.js';
import { tlsServerEndPoint } from './channel-binding.js';
import { chooseMechanism, type ChannelBindingPolicy } from './choose-mechanism.js';
import { md5PasswordResponse } from './md5-password.js';
import { ScramClient, ScramError, type Gs2Flag } from './scram-client.js';
import { clip, SERVER_TEXT_MAX } from '../../protocol/clip.js';

/**
 * --override-auth: pgscope authenticates to the server itself, with a password it asks
 * the client for in cleartext (AuthenticationCleartextPassword). Sans-I/O: the session
 * feeds it the server's authentication messages and the client's password, and does
 * what each step says.
 */
export type AuthStep =
  /** Ask the client for its password (send AuthenticationCleartextPassword). */
  | { kind: 'ask-client'; why: string }
  /** Send these bytes (a 'p' message) to the server. */
  | { kind: 'send-server'; bytes: Buffer }
  /** Nothing to do until the next message. */
  | { kind: 'wait' }
  /** Pass this server message on to the client unchanged (NegotiateProtocolVersion, ErrorResponse, NoticeResponse). */
  | { kind: 'pass' }
  /** AuthenticationOk: pass it on; from here on everything is forwarded. */
  | { kind: 'done'; summary: string }
  /** pgscope cannot (or must not) go on: the message names the reason. */
  | { kind: 'fail'; message: string; code: string };

export interface OverrideAuthOptions {
  /** The StartupMessage's user (MD5 hashes it with the password). */
  user: string;
  policy: ChannelBindingPolicy;
  /** Whether the server leg is TLS, and the server's certificate (DER) if so. */
  serverTls: boolean;
  serverCertificate: Buffer | null;
}

/** What pgscope learned on the way, for the log and the security verdict. */
export interface AuthFacts {
  /** The request the server made first: AuthenticationSASL etc., or AuthenticationOk for trust. */
  serverMethod: string | null;
  /** The SASL mechanisms the server offered. */
  offered: string[];
  /** The mechanism and GS2 flag pgscope used toward the server. */
  mechanism: string | null;
  flag: Gs2Flag | null;
}

const UNSUPPORTED: Record<number, string> = {
  2: 'Kerberos V5',
  7: 'GSSAPI',
  8: 'GSSAPI',
  9: 'SSPI',
};

export class OverrideAuth {
  readonly facts: AuthFacts = { serverMethod: null, offered: [], mechanism: null, flag: null };
  private password: Buffer | null = null;
  /** The server's request waiting for the client's password. */
  private pending: { code: number; salt?: Buffer; mechanisms?: string[] } | null = null;
  private scram: ScramClient | null = null;

  constructor(private readonly opts: OverrideAuthOptions) {}

  /** A message from the server while authentication is in progress. */
  onServerMessage(msg: DecodedMessage): AuthStep {
    if (msg.error) return { kind: 'fail', message: `malformed ${msg.name} from the server during authentication: ${msg.error.expected}`, code: '08P01' };
    if (msg.frame.type === 'E') return { kind: 'pass' };
    if (msg.frame.type === 'N' || msg.frame.type === 'v') return { kind: 'pass' };
    if (msg.frame.type !== 'R') return { kind: 'fail', message: `unexpected ${msg.name} from the server during authentication`, code: '08P01' };
    const code = authenticationCode(msg);
    if (typeof code !== 'number') return { kind: 'fail', message: 'unreadable authentication request from the server', code: '08P01' };
    this.facts.serverMethod ??= msg.name;
    switch (code) {
      case 0:
        if (this.scram && !this.scram.verified) {
          // SCRAM is mutual: AuthenticationOk before a valid SASLFinal means the server never
          // proved it knows the password (libpq refuses this for channel binding).
          return { kind: 'fail', message: `the server sent AuthenticationOk before finishing ${this.facts.mechanism} (it did not prove it knows the password)`, code: '08P01' };
        }
        if (this.opts.policy === 'require' && this.facts.mechanism !== 'SCRAM-SHA-256-PLUS') {
          // libpq: "channel binding required, but server authenticated client without channel binding".
          return { kind: 'fail', message: `--server-channel-binding require: the server authenticated pgscope without channel binding (${this.facts.mechanism ?? 'trust'})`, code: '28000' };
        }
        return { kind: 'done', summary: this.facts.mechanism ? `authenticated to the server with ${this.facts.mechanism}` : `the server let pgscope in without a password (${this.facts.serverMethod === 'AuthenticationOk' ? 'trust' : this.facts.serverMethod})` };
      case 3:
      case 5:
        if (this.opts.policy === 'require') {
          // As libpq's channel_binding=require: refused before any password is asked for or
          // sent, since whoever sits on an unverified server leg would receive it.
          return { kind: 'fail', message: `--server-channel-binding require: the server asks for ${code === 3 ? 'a cleartext password' : 'an MD5 password hash'}, which cannot do channel binding (no password was sent)`, code: '28000' };
        }
        if (code === 3) return this.needPassword({ code }, 'the server asks for a cleartext password');
        return this.md5Request(msg);
      case 10: {
        const mechanisms = offeredMechanisms(msg);
        this.facts.offered = mechanisms;
        if (this.opts.policy === 'require') {
          // Refused before the client is asked for a password it would give for nothing.
          const { binding, problem } = this.bindingData();
          const choice = chooseMechanism(mechanisms, this.opts.serverTls, binding !== null, 'require');
          if (!choice.ok) return { kind: 'fail', message: problem ? `${choice.why} (${problem})` : choice.why, code: '28000' };
        }
        return this.needPassword({ code, mechanisms }, `the server offers SASL ${mechanisms.join(', ')}`);
      }
      case 11:
        return this.onSaslContinue(msg);
      case 12:
        return this.onSaslFinal(msg);
      default: {
        const method = UNSUPPORTED[code] ?? `authentication request code ${code}`;
        return { kind: 'fail', message: `the server asks for ${method} authentication, which --override-auth cannot do (it does cleartext, MD5 and SCRAM-SHA-256 passwords)`, code: '28000' };
      }
    }
  }

  /** The client's PasswordMessage (its cleartext password, without the terminating zero byte). */
  onClientPassword(password: Buffer): AuthStep {
    this.password = password;
    const p = this.pending;
    this.pending = null;
    if (!p) return { kind: 'fail', message: 'the client sent a password before pgscope asked for one', code: '08P01' };
    if (p.code === 3) {
      this.facts.mechanism = 'cleartext password';
      return { kind: 'send-server', bytes: encodePasswordMessage(password) };
    }
    if (p.code === 5) {
      this.facts.mechanism = 'MD5';
      return { kind: 'send-server', bytes: encodePasswordMessage(Buffer.from(md5PasswordResponse(password, this.opts.user, p.salt!), 'latin1')) };
    }
    // SCRAM wipes its copy once the key is derived.
    return this.startScram(p.mechanisms ?? [], Buffer.from(password));
  }

  /** The connection ended: wipe the password pgscope was given. */
  forget(): void {
    this.password?.fill(0);
    this.password = null;
  }

  private md5Request(msg: DecodedMessage): AuthStep {
    const salt = md5Salt(msg);
    if (!salt) return { kind: 'fail', message: 'AuthenticationMD5Password without a salt', code: '08P01' };
    return this.needPassword({ code: 5, salt: Buffer.from(salt) }, 'the server asks for an MD5 password hash');
  }

  private needPassword(p: { code: number; salt?: Buffer; mechanisms?: string[] }, why: string): AuthStep {
    if (this.password) {
      // A second request in the same exchange (it does not happen with PostgreSQL):
      // answer it with the password already given.
      this.pending = p;
      return this.onClientPassword(this.password);
    }
    this.pending = p;
    return { kind: 'ask-client', why };
  }

  /** tls-server-end-point data of the server's certificate, or why there is none. */
  private bindingData(): { binding: Buffer | null; problem: string | null } {
    if (!this.opts.serverTls || !this.opts.serverCertificate) return { binding: null, problem: null };
    try {
      return { binding: tlsServerEndPoint(this.opts.serverCertificate), problem: null };
    } catch (e) {
      return { binding: null, problem: e instanceof Error ? e.message : String(e) };
    }
  }

  private startScram(mechanisms: string[], password: Buffer): AuthStep {
    const { binding, problem: bindProblem } = this.bindingData();
    const choice = chooseMechanism(mechanisms, this.opts.serverTls, binding !== null, this.opts.policy);
    if (!choice.ok) return { kind: 'fail', message: bindProblem ? `${choice.why} (${bindProblem})` : choice.why, code: '28000' };
    this.facts.mechanism = choice.mechanism;
    this.facts.flag = choice.flag;
    this.scram = new ScramClient({ password, flag: choice.flag, ...(choice.flag === 'p' ? { bindingData: binding! } : {}) });
    return { kind: 'send-server', bytes: encodeSaslInitialResponse(choice.mechanism, Buffer.from(this.scram.clientFirstMessage(), 'utf8')) };
  }

  private onSaslContinue(msg: DecodedMessage): AuthStep {
    if (!this.scram) return { kind: 'fail', message: 'AuthenticationSASLContinue before SCRAM started', code: '08P01' };
    try {
      const final = this.scram.clientFinalMessage(saslData(msg));
      return { kind: 'send-server', bytes: encodeSaslResponse(Buffer.from(final, 'utf8')) };
    } catch (e) {
      return { kind: 'fail', message: `SCRAM with the server failed: ${e instanceof ScramError ? e.message : String(e)}`, code: '08P01' };
    }
  }

  private onSaslFinal(msg: DecodedMessage): AuthStep {
    if (!this.scram) return { kind: 'fail', message: 'AuthenticationSASLFinal before SCRAM started', code: '08P01' };
    try {
      this.scram.verifyServerFinal(saslData(msg));
      return { kind: 'wait' };
    } catch (e) {
      return { kind: 'fail', message: `SCRAM with the server failed: ${e instanceof ScramError ? e.message : String(e)}`, code: '28000' };
    }
  }
}

/** The SASL data of SASLContinue/SASLFinal, as text (SCRAM's messages are). */
function saslData(msg: DecodedMessage): string {
  const f = tryFields(authentication, msg);
  return f && 'data' in f ? f.data.toString('utf8') : '';
}

/** The ErrorResponse's SQLSTATE and message, for the log. */
export function describeServerError(msg: DecodedMessage): string {
  const f = errorFields(msg);
  // Bounded: this goes into a status line; the ErrorResponse itself is logged whole.
  return `${f['C'] ?? '?'} ${clip(f['M'] ?? '', SERVER_TEXT_MAX)}`.trim();
}
