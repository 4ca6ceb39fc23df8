import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { saslprepPassword } from './saslprep.js';
import { clip } from '../../protocol/clip.js';

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as libpq speaks it to PostgreSQL,
 * with optional tls-server-end-point channel binding (SCRAM-SHA-256-PLUS).
 *
 * GS2 header (RFC 5802, section 7): "p=tls-server-end-point,," when binding, "y,," when
 * the client could bind but the server did not offer -PLUS, "n,," when it cannot (no TLS
 * or binding disabled). The user name is sent empty ("n=,"), as libpq does: PostgreSQL
 * takes it from the StartupMessage.
 */
export type Gs2Flag = 'n' | 'y' | 'p';

/**
 * Highest iteration count pgscope computes. The count comes from the server (or from
 * whoever sits on an unverified server leg), and the key derivation runs on the event loop
 * that serves every connection: an absurd count would stall them all. PostgreSQL's default
 * is 4096; password_iterations-style hardening rarely goes past a few hundred thousand.
 */
export const MAX_SCRAM_ITERATIONS = 1_000_000;

export class ScramError extends Error {
  override readonly name = 'ScramError';
}

export interface ScramClientOptions {
  password: Buffer;
  flag: Gs2Flag;
  /** With flag 'p': the tls-server-end-point data of the server's certificate. */
  bindingData?: Buffer;
  /** For tests; default 18 random bytes in base64, as libpq (SCRAM_RAW_NONCE_LEN). */
  nonce?: string;
  /** The SCRAM user name; default empty, as libpq sends it (RFC 7677's test vector uses one). */
  user?: string;
}

export class ScramClient {
  readonly gs2Header: string;
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  private serverSignature: Buffer | null = null;
  /** The server proved it knows the password (a valid server-final-message was seen). */
  verified = false;

  constructor(private readonly opts: ScramClientOptions) {
    if (opts.flag === 'p' && !opts.bindingData) throw new ScramError('channel binding needs the server certificate hash');
    this.gs2Header = opts.flag === 'p' ? 'p=tls-server-end-point,,' : `${opts.flag},,`;
    this.clientNonce = opts.nonce ?? randomBytes(18).toString('base64');
    // RFC 5802 saslname: ',' and '=' escaped as =2C and =3D.
    const user = (opts.user ?? '').replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.clientFirstBare = `n=${user},r=${this.clientNonce}`;
  }

  /** The Initial Response of SASLInitialResponse: client-first-message. */
  clientFirstMessage(): string {
    return this.gs2Header + this.clientFirstBare;
  }

  /** AuthenticationSASLContinue's server-first-message → the SASLResponse's client-final-message. */
  clientFinalMessage(serverFirst: string): string {
    const attrs = parseAttributes(serverFirst);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (attrs.has('m')) throw new ScramError('the server asked for a SCRAM extension (m=), which PostgreSQL never does');
    if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new ScramError(`malformed server-first-message ${quoted(serverFirst)} (expected r=, s=, i=)`);
    }
    if (iterations > MAX_SCRAM_ITERATIONS) {
      throw new ScramError(`the server asks for ${iterations} SCRAM iterations; pgscope computes at most ${MAX_SCRAM_ITERATIONS} (the work would stall every other connection)`);
    }
    // "The client MUST verify that the initial part of the nonce ... matches" its own nonce.
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw new ScramError('the server nonce does not extend the client nonce');
    }
    const cbindInput = this.opts.flag === 'p' ? Buffer.concat([Buffer.from(this.gs2Header), this.opts.bindingData!]) : Buffer.from(this.gs2Header);
    const withoutProof = `c=${cbindInput.toString('base64')},r=${nonce}`;
    const prepared = saslprepPassword(this.opts.password);
    const saltedPassword = pbkdf2Sync(prepared, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
    // The password is not needed any more: wipe pgscope's copies.
    prepared.fill(0);
    this.opts.password.fill(0);
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    const serverKey = hmac(saltedPassword, 'Server Key');
    this.serverSignature = hmac(serverKey, authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** AuthenticationSASLFinal's server-final-message: throws unless the server proved it knows the password. */
  verifyServerFinal(serverFinal: string): void {
    const attrs = parseAttributes(serverFinal);
    const error = attrs.get('e');
    if (error !== undefined) throw new ScramError(`the server reported a SCRAM error: ${quoted(error)}`);
    const v = attrs.get('v');
    if (!v || !this.serverSignature) throw new ScramError(`malformed server-final-message ${quoted(serverFinal)}`);
    const got = Buffer.from(v, 'base64');
    if (got.length !== this.serverSignature.length || !timingSafeEqual(got, this.serverSignature)) {
      throw new ScramError('the server signature is wrong: the server does not know the password (or someone in between changed the exchange)');
    }
    this.verified = true;
  }
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function parseAttributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length >= 2 && part[1] === '=') out.set(part[0]!, part.slice(2));
  }
  return out;
}


/** Server-sent text quoted in a message: bounded, so a hostile server cannot flood the log. */
function quoted(text: string): string {
  return JSON.stringify(clip(text, 120));
}
