/**
 * A tiny PostgreSQL client for messages libpq and the drivers will not send on demand:
 * FunctionCall, Execute with a row limit, Close, Flush, Describe, CopyFail,
 * GSSENCRequest, SSLRequest, CancelRequest, `_pq_.` startup options, protocol 3.2.
 *
 * It is deliberately dumb: it builds messages with test/helpers/wire.ts, writes them, and
 * reads whole server messages (type + body) back. Authentication: trust, cleartext
 * password, MD5 and SCRAM-SHA-256 (without channel binding).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { bytes, cstr, int16, int32, msg, startupMessage, startupPacket } from './wire.js';

export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

/** One server message: the type byte as a character and the body after the length word. */
export interface BackendMessage {
  type: string;
  body: Buffer;
}

export interface StartupOptions {
  user: string;
  database?: string;
  password?: string;
  /** Protocol minor version (3.0 by default; 2 asks for 3.2 and its long cancel keys). */
  minor?: number;
  /** More startup parameters (application_name, `_pq_.` options, replication, …). */
  params?: Record<string, string>;
}

export interface StartupResult {
  /** Every message from the first authentication request through ReadyForQuery. */
  messages: BackendMessage[];
  /** From BackendKeyData. */
  pid: number;
  /** The secret key from BackendKeyData: 4 bytes in protocol 3.0, up to 256 in 3.2 (PG 18: 32). */
  key: Buffer;
  /** ParameterStatus values. */
  parameters: Record<string, string>;
  /** The NegotiateProtocolVersion message, if the server sent one. */
  negotiate?: { newestMinor: number; unrecognized: string[] };
  /** Authentication request codes seen, in order (0 = ok, 3 cleartext, 5 MD5, 10 SASL…). */
  authCodes: number[];
}

/** ErrorResponse / NoticeResponse fields by code letter (S, V, C, M, …). */
export function errorFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i]!);
    const end = body.indexOf(0, i + 1);
    if (end < 0) break;
    out[code] = body.subarray(i + 1, end).toString('utf8');
    i = end + 1;
  }
  return out;
}

export class PgError extends Error {
  constructor(readonly fields: Record<string, string>) {
    super(`${fields['S'] ?? 'ERROR'} ${fields['C'] ?? ''}: ${fields['M'] ?? '(no message)'}`);
  }
}

// ---------------------------------------------------------------- message builders

export type Param = string | Buffer | null;

function paramParts(values: Param[]): Buffer[] {
  const parts: Buffer[] = [int16(values.length)];
  for (const v of values) {
    if (v === null) parts.push(int32(-1));
    else {
      const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
      parts.push(int32(b.length), b);
    }
  }
  return parts;
}

function formatParts(formats: number[]): Buffer[] {
  return [int16(formats.length), ...formats.map((f) => int16(f))];
}

/** Frontend messages, built with wire.ts. */
export const fe = {
  query: (sql: string): Buffer => msg('Q', cstr(sql)),
  parse: (name: string, sql: string, paramTypes: number[] = []): Buffer => msg('P', cstr(name), cstr(sql), int16(paramTypes.length), ...paramTypes.map((t) => int32(t))),
  bind: (portal: string, statement: string, values: Param[] = [], paramFormats: number[] = [], resultFormats: number[] = []): Buffer =>
    msg('B', cstr(portal), cstr(statement), ...formatParts(paramFormats), ...paramParts(values), ...formatParts(resultFormats)),
  describe: (kind: 'S' | 'P', name: string): Buffer => msg('D', kind, cstr(name)),
  execute: (portal: string, maxRows = 0): Buffer => msg('E', cstr(portal), int32(maxRows)),
  close: (kind: 'S' | 'P', name: string): Buffer => msg('C', kind, cstr(name)),
  sync: (): Buffer => msg('S'),
  flush: (): Buffer => msg('H'),
  terminate: (): Buffer => msg('X'),
  copyData: (data: string | Buffer): Buffer => msg('d', typeof data === 'string' ? bytes(data) : data),
  copyDone: (): Buffer => msg('c'),
  copyFail: (reason: string): Buffer => msg('f', cstr(reason)),
  /** FunctionCall: function OID, argument format codes, arguments (null = NULL), result format. */
  functionCall: (oid: number, args: Param[], argFormats: number[] = [], resultFormat = 0): Buffer => msg('F', int32(oid), ...formatParts(argFormats), ...paramParts(args), int16(resultFormat)),
  password: (pw: string): Buffer => msg('p', cstr(pw)),
  sslRequest: (): Buffer => startupPacket(int32(SSL_REQUEST_CODE)),
  gssencRequest: (): Buffer => startupPacket(int32(GSSENC_REQUEST_CODE)),
  /** CancelRequest: the key is 4 bytes in protocol 3.0, longer (PG 18: 32) in 3.2. */
  cancelRequest: (pid: number, key: Buffer): Buffer => startupPacket(int32(CANCEL_REQUEST_CODE), int32(pid), key),
  startup: (params: Record<string, string>, minor = 0): Buffer => startupMessage(params, minor),
};

// ---------------------------------------------------------------- the client

interface Waiter {
  check: () => boolean;
  reject: (e: Error) => void;
}

export class RawClient {
  private sock: Socket | TLSSocket;
  private buf: Buffer = Buffer.alloc(0);
  private waiters: Waiter[] = [];
  private ended = false;
  private endError: Error | null = null;
  private readonly closedPromise: Promise<void>;
  /** Default time a read waits for the server. */
  timeoutMs = 15_000;

  private constructor(sock: Socket) {
    this.sock = sock;
    this.closedPromise = new Promise((resolve) => sock.once('close', () => resolve()));
    this.attach(sock);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      s.setNoDelay(true);
      s.once('error', reject);
      s.connect(port, host, () => {
        s.off('error', reject);
        resolve(new RawClient(s));
      });
    });
  }

  private attach(s: Socket | TLSSocket): void {
    s.on('data', (b: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : Buffer.from(b);
      this.wake();
    });
    s.on('end', () => this.finish(new Error('server closed the connection')));
    s.on('close', () => this.finish(new Error('connection closed')));
    s.on('error', (e) => this.finish(e));
  }

  private finish(e: Error): void {
    if (!this.ended) {
      this.ended = true;
      this.endError = e;
    }
    this.wake();
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => !w.check());
  }

  /** Wait until `take` returns something from the buffer (it consumes what it returns). */
  private wait<T>(take: () => T | undefined, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const w: Waiter = {
        check: () => {
          const v = take();
          if (v !== undefined) {
            clearTimeout(timer);
            resolve(v);
            return true;
          }
          if (this.ended) {
            clearTimeout(timer);
            reject(new Error(`${what}: ${this.endError?.message ?? 'connection ended'}`));
            return true;
          }
          return false;
        },
        reject,
      };
      if (w.check()) return;
      timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${what}: nothing after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  send(...messages: Buffer[]): void {
    this.sock.write(Buffer.concat(messages));
  }

  /** One byte (the answer to SSLRequest / GSSENCRequest). */
  readByte(timeoutMs?: number): Promise<string> {
    return this.wait(
      () => {
        if (this.buf.length < 1) return undefined;
        const c = String.fromCharCode(this.buf[0]!);
        this.buf = this.buf.subarray(1);
        return c;
      },
      'reading one byte',
      timeoutMs,
    );
  }

  readMessage(timeoutMs?: number): Promise<BackendMessage> {
    return this.wait(
      () => {
        if (this.buf.length < 5) return undefined;
        const len = this.buf.readInt32BE(1);
        if (this.buf.length < 1 + len) return undefined;
        const m = { type: String.fromCharCode(this.buf[0]!), body: Buffer.from(this.buf.subarray(5, 1 + len)) };
        this.buf = this.buf.subarray(1 + len);
        return m;
      },
      'reading a message',
      timeoutMs,
    );
  }

  /** Read messages up to and including the first one of the given type. */
  async readUntil(type: string, timeoutMs?: number): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    for (;;) {
      const m = await this.readMessage(timeoutMs);
      out.push(m);
      if (m.type === type) return out;
    }
  }

  /** Read messages up to and including ReadyForQuery. */
  readUntilReady(timeoutMs?: number): Promise<BackendMessage[]> {
    return this.readUntil('Z', timeoutMs);
  }

  /** Send messages, then read through ReadyForQuery. */
  async roundTrip(...messages: Buffer[]): Promise<BackendMessage[]> {
    this.send(...messages);
    return this.readUntilReady();
  }

  /** Resolves when the server closes the connection (e.g. after a CancelRequest). */
  async waitClosed(timeoutMs = this.timeoutMs): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Switch to TLS on this socket (after the server answered 'S'). */
  async startTls(opts: ConnectionOptions = {}): Promise<void> {
    const plain = this.sock as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    plain.removeAllListeners('error');
    const t = tlsConnect({ rejectUnauthorized: false, ...opts, socket: plain });
    await new Promise<void>((resolve, reject) => {
      t.once('secureConnect', () => resolve());
      t.once('error', reject);
    });
    this.sock = t;
    this.attach(t);
  }

  /**
   * StartupMessage and authentication through ReadyForQuery. Throws PgError on an
   * ErrorResponse. Handles trust, cleartext, MD5 and SCRAM-SHA-256.
   */
  async startup(o: StartupOptions): Promise<StartupResult> {
    const params: Record<string, string> = { user: o.user, database: o.database ?? o.user, ...(o.params ?? {}) };
    this.send(fe.startup(params, o.minor ?? 0));
    const res: StartupResult = { messages: [], pid: 0, key: Buffer.alloc(0), parameters: {}, authCodes: [] };
    let scram: ScramClient | null = null;
    for (;;) {
      const m = await this.readMessage();
      res.messages.push(m);
      switch (m.type) {
        case 'E':
          throw new PgError(errorFields(m.body));
        case 'v': {
          const newestMinor = m.body.readInt32BE(0);
          const n = m.body.readInt32BE(4);
          const unrecognized: string[] = [];
          let i = 8;
          for (let k = 0; k < n; k++) {
            const end = m.body.indexOf(0, i);
            unrecognized.push(m.body.subarray(i, end).toString('utf8'));
            i = end + 1;
          }
          res.negotiate = { newestMinor, unrecognized };
          break;
        }
        case 'R': {
          const code = m.body.readInt32BE(0);
          res.authCodes.push(code);
          const pw = o.password ?? '';
          if (code === 0) break;
          if (code === 3) this.send(fe.password(pw));
          else if (code === 5) this.send(fe.password(md5Password(o.user, pw, m.body.subarray(4, 8))));
          else if (code === 10) {
            const mechs = m.body.subarray(4).toString('utf8').split('\0').filter(Boolean);
            if (!mechs.includes('SCRAM-SHA-256')) throw new Error(`raw client: no SCRAM-SHA-256 among ${mechs.join(', ')}`);
            scram = new ScramClient(pw);
            const first = Buffer.from(scram.clientFirst(), 'utf8');
            this.send(msg('p', cstr('SCRAM-SHA-256'), int32(first.length), first));
          } else if (code === 11) {
            if (!scram) throw new Error('raw client: SASLContinue without SASL');
            this.send(msg('p', scram.clientFinal(m.body.subarray(4).toString('utf8'))));
          } else if (code === 12) {
            if (!scram) throw new Error('raw client: SASLFinal without SASL');
            scram.verifyServerFinal(m.body.subarray(4).toString('utf8'));
          } else throw new Error(`raw client: unsupported authentication request ${code}`);
          break;
        }
        case 'S': {
          const [k, v] = m.body.toString('utf8').split('\0');
          res.parameters[k!] = v ?? '';
          break;
        }
        case 'K':
          res.pid = m.body.readInt32BE(0);
          res.key = Buffer.from(m.body.subarray(4));
          break;
        case 'Z':
          return res;
        default:
          break;
      }
    }
  }

  /** Terminate, close our side, and wait for the server to close. */
  async terminate(): Promise<void> {
    if (!this.ended) {
      this.sock.write(fe.terminate());
      this.sock.end();
    }
    await this.waitClosed().catch(() => this.sock.destroy());
  }

  /** End the connection without a Terminate message. */
  async end(): Promise<void> {
    this.sock.end();
    await this.waitClosed().catch(() => this.sock.destroy());
  }

  destroy(): void {
    this.sock.destroy();
  }
}

// ---------------------------------------------------------------- authentication

const md5hex = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

/** "md5" + md5(md5(password + user) + salt), as the server expects after AuthenticationMD5Password. */
export function md5Password(user: string, password: string, salt: Buffer): string {
  return 'md5' + md5hex(Buffer.concat([Buffer.from(md5hex(password + user), 'utf8'), salt]));
}

/** SCRAM-SHA-256 client side (RFC 5802/7677), no channel binding, ASCII passwords. */
export class ScramClient {
  private readonly nonce = randomBytes(18).toString('base64');
  private clientFirstBare = '';
  private serverSignature: Buffer | null = null;

  constructor(private readonly password: string) {}

  clientFirst(): string {
    this.clientFirstBare = `n=,r=${this.nonce}`;
    return `n,,${this.clientFirstBare}`;
  }

  clientFinal(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    const r = attrs['r'];
    const s = attrs['s'];
    const i = Number(attrs['i']);
    if (!r || !s || !i || !r.startsWith(this.nonce)) throw new Error(`raw client: bad SCRAM server-first-message ${serverFirst}`);
    const salted = pbkdf2Sync(this.password, Buffer.from(s, 'base64'), i, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, k) => b ^ clientSignature[k]!));
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    this.serverSignature = createHmac('sha256', serverKey).update(authMessage).digest();
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verifyServerFinal(serverFinal: string): void {
    const v = /(?:^|,)v=([^,]+)/.exec(serverFinal)?.[1];
    const got = Buffer.from(v ?? '', 'base64');
    if (!this.serverSignature || got.length !== this.serverSignature.length || !timingSafeEqual(got, this.serverSignature)) {
      throw new Error(`raw client: SCRAM server signature does not verify (${serverFinal})`);
    }
  }
}
