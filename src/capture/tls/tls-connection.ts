/**
 * One captured TLS connection, decrypted with the secrets of a key log: TLS records in
 * (each direction's bytes, as TCP delivered them), the application data out, plus what the
 * handshake reveals (version, cipher, SNI, ALPN, certificate subjects), with or without
 * keys. TLS 1.3 (RFC 8446): handshake traffic keys from the ServerHello, application keys
 * after each side's Finished, KeyUpdate followed. TLS 1.2 (RFC 5246): the master secret's
 * keys from each side's ChangeCipherSpec. A direction that cannot be decrypted (no key, a
 * suite pgscope does not decrypt, a record that does not authenticate, bytes missing from
 * the capture) is handed on as opaque bytes with the reason, once.
 * Pure apart from the key log (which may be read again for a client random not yet in it).
 */
import type { Direction } from '../tcp-streams.js';
import type { TlsInfo } from '../../session/events.js';
import {
  certificateSubjects,
  HS_CERTIFICATE,
  HS_CLIENT_HELLO,
  HS_ENCRYPTED_EXTENSIONS,
  HS_FINISHED,
  HS_KEY_UPDATE,
  HS_SERVER_HELLO,
  parseClientHello,
  parseEncryptedExtensions,
  parseServerHello,
  versionName,
  type ClientHello,
  type ServerHello,
} from './handshake-messages.js';
import type { KeyLabel, KeyLog } from './key-log.js';
import { nextTrafficSecret, RecordCipher, SUITES, type Suite } from './record-cipher.js';

export type TlsEvent =
  /** Decrypted application data. */
  | { kind: 'plaintext'; direction: Direction; bytes: Buffer }
  /** Once, when the handshake says what the connection is (after the ServerHello; in TLS 1.3 with keys, after EncryptedExtensions). */
  | { kind: 'established'; info: TlsInfo; decrypting: boolean }
  /** `detail`: worth a line in the log, not a note about the whole capture (a certificate's subject). */
  | { kind: 'note'; level: 'info' | 'warn'; text: string; detail?: boolean }
  /** Bytes of this direction that are not decrypted; `reason`, in short, is the same for all of a direction's opaque bytes (a note said it in full). */
  | { kind: 'opaque'; direction: Direction; bytes: Buffer; reason: string };

const CT_CHANGE_CIPHER_SPEC = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;
/** RFC 8446 §5.2: a TLSCiphertext fragment is at most 2^14 + 256 bytes. */
const MAX_RECORD = 16384 + 2048;

const WHO: Record<Direction, string> = { frontend: 'client', backend: 'server' };

interface Side {
  buffered: Buffer;
  cipher: RecordCipher | null;
  /** TLS 1.3: the current application traffic secret (for KeyUpdate). */
  secret: Buffer | null;
  handshake: Buffer;
  /** Why this direction is no longer decrypted. */
  opaque: string | null;
}

const newSide = (): Side => ({ buffered: Buffer.alloc(0), cipher: null, secret: null, handshake: Buffer.alloc(0), opaque: null });

export class TlsConnection {
  private readonly sides: Record<Direction, Side> = { frontend: newSide(), backend: newSide() };
  private hello: ClientHello | null = null;
  private serverHello: ServerHello | null = null;
  private suite: Suite | null = null;
  private secrets: ReadonlyMap<KeyLabel, Buffer> | null = null;
  /** TLS 1.2: the ciphers each side switches to at its ChangeCipherSpec. */
  private pending: Record<Direction, RecordCipher> | null = null;
  private alpn: string | null = null;
  private announced = false;
  /** Reasons already said in a note: each once per connection. */
  private readonly said = new Set<string>();
  private out: TlsEvent[] = [];

  constructor(
    private readonly keys: KeyLog | null,
    /** Named in notes: "connection 3". */
    private readonly name: string,
  ) {}

  push(direction: Direction, bytes: Buffer): TlsEvent[] {
    this.out = [];
    const side = this.sides[direction];
    if (side.opaque !== null) {
      this.out.push({ kind: 'opaque', direction, bytes, reason: side.opaque });
      return this.out;
    }
    let buf = side.buffered.length === 0 ? bytes : Buffer.concat([side.buffered, bytes]);
    while (buf.length >= 5 && side.opaque === null) {
      const length = buf.readUInt16BE(3);
      const type = buf[0]!;
      if (type < CT_CHANGE_CIPHER_SPEC || type > 24 || buf[1] !== 3 || length > MAX_RECORD) {
        this.stop(direction, `bytes from the ${WHO[direction]} that are not a TLS record (content type ${type}, length ${length})`, buf);
        return this.out;
      }
      if (buf.length < 5 + length) break;
      this.record(direction, type, buf.subarray(0, 5), buf.subarray(5, 5 + length));
      buf = buf.subarray(5 + length);
    }
    if (side.opaque !== null) {
      if (buf.length > 0) this.out.push({ kind: 'opaque', direction, bytes: buf, reason: side.opaque });
      side.buffered = Buffer.alloc(0);
    } else {
      // What waits for the rest of its record is copied: the capture's chunk is not kept with it.
      side.buffered = Buffer.from(buf);
    }
    return this.out;
  }

  /** Bytes of a direction are missing from the capture: its records can no longer be followed. */
  gap(direction: Direction, lost: number): TlsEvent[] {
    this.out = [];
    if (this.sides[direction].opaque === null) this.stop(direction, `${lost} bytes from the ${WHO[direction]} are missing from the capture: its TLS records can no longer be decrypted`, Buffer.alloc(0));
    return this.out;
  }

  /** This direction is no longer decrypted: said once (`reason`), its bytes handed on as opaque, labelled in short. */
  private stop(direction: Direction, reason: string, rest: Buffer): void {
    const side = this.sides[direction];
    side.opaque = this.serverHello !== null && this.suite !== null && this.secrets === null ? 'TLS-encrypted, no key to decrypt it' : 'TLS-encrypted, not decrypted';
    side.buffered = Buffer.alloc(0);
    if (!this.said.has(reason)) {
      this.said.add(reason);
      this.out.push({ kind: 'note', level: 'warn', text: `${this.name}: ${reason}` });
    }
    if (rest.length > 0) this.out.push({ kind: 'opaque', direction, bytes: rest, reason: side.opaque });
  }

  private record(direction: Direction, type: number, header: Buffer, fragment: Buffer): void {
    const side = this.sides[direction];
    const tls13 = this.suite?.tls13 === true;
    // TLS 1.3's ChangeCipherSpec is only for middleboxes (RFC 8446 Appendix D.4): never encrypted, never meaningful.
    if (type === CT_CHANGE_CIPHER_SPEC && (tls13 || side.cipher === null)) {
      if (!tls13) this.changeCipherSpec(direction, header, fragment);
      return;
    }
    if (side.cipher === null) {
      if (type === CT_HANDSHAKE) return this.handshake(direction, fragment);
      if (type === CT_ALERT) return this.alert(direction, fragment);
      return this.stop(direction, this.whyNoCipher(direction), Buffer.concat([header, fragment]));
    }
    let content;
    try {
      content = side.cipher.decrypt(header, fragment);
    } catch (e) {
      this.announce(false, false);
      return this.stop(direction, `a record from the ${WHO[direction]} did not decrypt (${(e as Error).message}): the key log's secrets are not this connection's`, Buffer.concat([header, fragment]));
    }
    if (content.type === CT_APPLICATION_DATA) {
      if (content.plaintext.length > 0) this.out.push({ kind: 'plaintext', direction, bytes: content.plaintext });
    } else if (content.type === CT_HANDSHAKE) {
      this.handshake(direction, content.plaintext);
    } else if (content.type === CT_ALERT) {
      this.alert(direction, content.plaintext);
    }
  }

  private whyNoCipher(direction: Direction): string {
    if (this.serverHello === null) return `the ${WHO[direction]} sent encrypted TLS records, but the TLS handshake is not in the capture`;
    if (this.suite === null) return `the cipher suite 0x${this.serverHello.cipherSuite.toString(16).padStart(4, '0')} is not one pgscope decrypts (it decrypts ${[...new Set([...SUITES.values()].map((s) => s.name))].join(', ')})`;
    return this.noKeyText();
  }

  private noKeyText(): string {
    const random = this.hello?.random.toString('hex') ?? '?';
    if (this.keys === null) return 'encrypted, and no key log was given (--keylog FILE; libpq 18 writes one with sslkeylogfile=FILE)';
    return `encrypted, and the key log${this.keys.files.length === 1 ? '' : 's'} (${this.keys.files.join(', ')}) ha${this.keys.files.length === 1 ? 's' : 've'} no secret for its client random ${random.slice(0, 16)}…`;
  }

  private changeCipherSpec(direction: Direction, header: Buffer, fragment: Buffer): void {
    if (this.pending) {
      this.sides[direction].cipher = this.pending[direction];
      return;
    }
    // Encrypted from here on, without keys: stop on the next record with the reason.
    if (this.serverHello === null) return;
    this.stop(direction, this.whyNoCipher(direction), Buffer.alloc(0));
  }

  private alert(direction: Direction, body: Buffer): void {
    if (body.length < 2) return;
    const [level, description] = [body[0]!, body[1]!];
    // close_notify (0) is the ordinary end of a connection.
    if (description === 0) return;
    this.out.push({ kind: 'note', level: 'warn', text: `${this.name}: TLS alert from the ${WHO[direction]}: ${level === 2 ? 'fatal' : 'warning'} ${ALERTS[description] ?? 'alert'} (${description})` });
  }

  private handshake(direction: Direction, bytes: Buffer): void {
    const side = this.sides[direction];
    let buf = side.handshake.length === 0 ? bytes : Buffer.concat([side.handshake, bytes]);
    while (buf.length >= 4) {
      const length = buf.readUIntBE(1, 3);
      if (buf.length < 4 + length) break;
      try {
        this.handshakeMessage(direction, buf[0]!, buf.subarray(4, 4 + length));
      } catch (e) {
        this.out.push({ kind: 'note', level: 'warn', text: `${this.name}: a TLS handshake message from the ${WHO[direction]} could not be read: ${(e as Error).message}` });
      }
      buf = buf.subarray(4 + length);
    }
    side.handshake = Buffer.from(buf);
  }

  private handshakeMessage(direction: Direction, type: number, body: Buffer): void {
    switch (type) {
      case HS_CLIENT_HELLO:
        // After a HelloRetryRequest the second ClientHello keeps the first's random.
        if (direction === 'frontend' && this.hello === null) this.hello = parseClientHello(body);
        return;
      case HS_SERVER_HELLO:
        if (direction === 'backend') this.serverHelloMessage(parseServerHello(body));
        return;
      case HS_ENCRYPTED_EXTENSIONS:
        this.alpn = parseEncryptedExtensions(body).alpn;
        this.announce(true);
        return;
      case HS_CERTIFICATE: {
        const subjects = certificateSubjects(body, this.suite?.tls13 === true);
        if (subjects.length > 0) this.out.push({ kind: 'note', level: 'info', detail: true, text: `${this.name}: the ${WHO[direction]}'s certificate: ${subjects[0]}${subjects.length > 1 ? ` (and ${subjects.length - 1} more in its chain)` : ''}` });
        return;
      }
      case HS_FINISHED:
        // TLS 1.3: after its Finished, each side sends with its application traffic keys.
        if (this.suite?.tls13 && this.secrets) this.useTrafficSecret(direction, this.secrets.get(direction === 'frontend' ? 'CLIENT_TRAFFIC_SECRET_0' : 'SERVER_TRAFFIC_SECRET_0') ?? null);
        return;
      case HS_KEY_UPDATE: {
        const side = this.sides[direction];
        if (this.suite?.tls13 && side.secret) this.useTrafficSecret(direction, nextTrafficSecret(this.suite.hash, side.secret));
        return;
      }
      default:
        return;
    }
  }

  private useTrafficSecret(direction: Direction, secret: Buffer | null): void {
    const side = this.sides[direction];
    if (secret === null) {
      this.stop(direction, `the key log has this connection's handshake secrets but not its ${direction === 'frontend' ? 'CLIENT' : 'SERVER'}_TRAFFIC_SECRET_0`, Buffer.alloc(0));
      return;
    }
    side.secret = secret;
    side.cipher = RecordCipher.tls13(this.suite!, secret);
  }

  private serverHelloMessage(sh: ServerHello): void {
    if (sh.helloRetry) {
      this.out.push({ kind: 'note', level: 'info', text: `${this.name}: the server asked the client to try again (HelloRetryRequest)` });
      return;
    }
    this.serverHello = sh;
    this.suite = SUITES.get(sh.cipherSuite) ?? null;
    const suite = this.suite;
    const tls13 = sh.version === 0x0304;
    if (suite === null || suite.tls13 !== tls13 || this.hello === null) {
      if (suite !== null && suite.tls13 !== tls13) this.suite = null;
      this.announce(false);
      return;
    }
    this.secrets = this.keys?.secrets(this.hello.random) ?? null;
    if (tls13) {
      const c = this.secrets?.get('CLIENT_HANDSHAKE_TRAFFIC_SECRET');
      const s = this.secrets?.get('SERVER_HANDSHAKE_TRAFFIC_SECRET');
      if (c && s) {
        this.sides.frontend.cipher = RecordCipher.tls13(suite, c);
        this.sides.backend.cipher = RecordCipher.tls13(suite, s);
        return; // announced at EncryptedExtensions, which says the ALPN protocol
      }
      this.secrets = null;
    } else {
      this.alpn = sh.alpn;
      const master = this.secrets?.get('CLIENT_RANDOM');
      if (master) {
        const c = RecordCipher.tls12(suite, master, this.hello.random, sh.random);
        this.pending = { frontend: c.client, backend: c.server };
      }
      else this.secrets = null;
    }
    this.announce(this.secrets !== null);
  }

  /** The 'established' event, once; `say`: without keys, a note of what the handshake shows and why nothing more can be read. */
  private announce(decrypting: boolean, say = true): void {
    if (this.announced || this.serverHello === null) return;
    this.announced = true;
    const sh = this.serverHello;
    const info: TlsInfo = {
      protocol: versionName(sh.version),
      cipher: this.suite?.name ?? SUITES.get(sh.cipherSuite)?.name ?? `0x${sh.cipherSuite.toString(16).padStart(4, '0')}`,
      sni: this.hello?.sni ?? null,
      alpn: this.alpn,
    };
    this.out.push({ kind: 'established', info, decrypting });
    if (!decrypting && say) {
      const offered = this.hello && this.hello.alpn.length > 0 ? `, ALPN offered ${this.hello.alpn.join(', ')}` : '';
      const facts = `${info.protocol}, ${info.cipher}${info.sni ? `, SNI ${info.sni}` : ''}${info.alpn ? `, ALPN ${info.alpn}` : offered}`;
      const why = this.whyNoCipher('frontend');
      // Said here with what the handshake shows; not again when each direction's first encrypted record stops it.
      this.said.add(why);
      this.out.push({ kind: 'note', level: 'warn', text: `${this.name} is TLS-encrypted (${facts}): ${why.replace(/^encrypted, and /, '')}; its messages cannot be read` });
    }
  }
}

/** RFC 8446 §6 AlertDescription names pgscope may meet. */
const ALERTS: Readonly<Record<number, string>> = {
  10: 'unexpected_message',
  20: 'bad_record_mac',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  116: 'certificate_required',
  120: 'no_application_protocol',
};
