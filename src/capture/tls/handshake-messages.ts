/**
 * The handshake messages a reader of a capture learns from (RFC 8446 §4, RFC 5246 §7.4):
 * ClientHello (random, server_name, offered ALPN), ServerHello (random, cipher_suite,
 * supported_versions, ALPN in TLS 1.2; a HelloRetryRequest), EncryptedExtensions (ALPN in
 * TLS 1.3) and Certificate (the subjects). Pure; a malformed message throws an Error
 * saying which field and where.
 */
import { X509Certificate } from 'node:crypto';

export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
export const HS_ENCRYPTED_EXTENSIONS = 8;
export const HS_CERTIFICATE = 11;
export const HS_FINISHED = 20;
export const HS_KEY_UPDATE = 24;

const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;

/** SHA-256("HelloRetryRequest"): the random of a ServerHello that is a HelloRetryRequest (RFC 8446 §4.1.3). */
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

export interface ClientHello {
  random: Buffer;
  sni: string | null;
  alpn: string[];
}

export interface ServerHello {
  random: Buffer;
  cipherSuite: number;
  /** 0x0304 (TLS 1.3) from supported_versions, else legacy_version (0x0303: TLS 1.2). */
  version: number;
  alpn: string | null;
  helloRetry: boolean;
}

/** Reads a handshake message's body, naming the field that does not fit. */
class Reader {
  at = 0;
  constructor(
    private readonly b: Buffer,
    private readonly what: string,
  ) {}
  need(n: number, field: string): void {
    if (this.at + n > this.b.length) throw new Error(`${this.what}: ${field} at byte ${this.at} needs ${n} bytes, ${this.b.length - this.at} left`);
  }
  u8(field: string): number {
    this.need(1, field);
    return this.b[this.at++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u24(field: string): number {
    this.need(3, field);
    const v = this.b.readUIntBE(this.at, 3);
    this.at += 3;
    return v;
  }
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  get left(): number {
    return this.b.length - this.at;
  }
}

/** Extensions: type → data. */
function extensions(r: Reader): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (r.left === 0) return out;
  const ext = new Reader(r.bytes(r.u16('extensions length'), 'extensions'), 'extensions');
  while (ext.left > 0) {
    const type = ext.u16('extension_type');
    out.set(type, ext.bytes(ext.u16('extension_data length'), 'extension_data'));
  }
  return out;
}

function alpnList(data: Buffer | undefined): string[] {
  if (!data) return [];
  const r = new Reader(data, 'application_layer_protocol_negotiation');
  const list = new Reader(r.bytes(r.u16('protocol_name_list length'), 'protocol_name_list'), 'protocol_name_list');
  const names: string[] = [];
  while (list.left > 0) names.push(list.bytes(list.u8('ProtocolName length'), 'ProtocolName').toString('latin1'));
  return names;
}

export function parseClientHello(body: Buffer): ClientHello {
  const r = new Reader(body, 'ClientHello');
  r.u16('legacy_version');
  const random = Buffer.from(r.bytes(32, 'random'));
  r.bytes(r.u8('legacy_session_id length'), 'legacy_session_id');
  r.bytes(r.u16('cipher_suites length'), 'cipher_suites');
  r.bytes(r.u8('legacy_compression_methods length'), 'legacy_compression_methods');
  const ext = extensions(r);
  let sni: string | null = null;
  const names = ext.get(EXT_SERVER_NAME);
  if (names && names.length >= 5) {
    const n = new Reader(names, 'server_name');
    n.u16('server_name_list length');
    if (n.u8('name_type') === 0) sni = n.bytes(n.u16('HostName length'), 'HostName').toString('latin1');
  }
  return { random, sni, alpn: alpnList(ext.get(EXT_ALPN)) };
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, 'ServerHello');
  const legacy = r.u16('legacy_version');
  const random = Buffer.from(r.bytes(32, 'random'));
  r.bytes(r.u8('legacy_session_id_echo length'), 'legacy_session_id_echo');
  const cipherSuite = r.u16('cipher_suite');
  r.u8('legacy_compression_method');
  const ext = extensions(r);
  const sv = ext.get(EXT_SUPPORTED_VERSIONS);
  const version = sv && sv.length >= 2 ? sv.readUInt16BE(0) : legacy;
  return { random, cipherSuite, version, alpn: alpnList(ext.get(EXT_ALPN))[0] ?? null, helloRetry: random.toString('hex') === HRR_RANDOM };
}

/** TLS 1.3's EncryptedExtensions: the ALPN protocol the server chose. */
export function parseEncryptedExtensions(body: Buffer): { alpn: string | null } {
  const r = new Reader(body, 'EncryptedExtensions');
  return { alpn: alpnList(extensions(r).get(EXT_ALPN))[0] ?? null };
}

/** The subject of each certificate in a Certificate message (TLS 1.3 has a request context and per-certificate extensions). */
export function certificateSubjects(body: Buffer, tls13: boolean): string[] {
  const r = new Reader(body, 'Certificate');
  if (tls13) r.bytes(r.u8('certificate_request_context length'), 'certificate_request_context');
  const list = new Reader(r.bytes(r.u24('certificate_list length'), 'certificate_list'), 'certificate_list');
  const subjects: string[] = [];
  while (list.left > 0) {
    const der = list.bytes(list.u24('cert_data length'), 'cert_data');
    if (tls13) list.bytes(list.u16('extensions length'), 'extensions');
    try {
      subjects.push(new X509Certificate(der).subject.replace(/\n/g, ', '));
    } catch {
      subjects.push(`(a certificate of ${der.length} bytes that is not X.509 DER)`);
    }
  }
  return subjects;
}

/** Version numbers as the live proxy names them (TLSSocket.getProtocol()). */
export function versionName(v: number): string {
  switch (v) {
    case 0x0304:
      return 'TLSv1.3';
    case 0x0303:
      return 'TLSv1.2';
    case 0x0302:
      return 'TLSv1.1';
    case 0x0301:
      return 'TLSv1';
    default:
      return `TLS 0x${v.toString(16).padStart(4, '0')}`;
  }
}
