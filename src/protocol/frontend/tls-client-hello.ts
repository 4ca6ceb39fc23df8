import type { MessageCodec } from '../decoder.js';
import type { Reader } from '../reader.js';
import { num, span, wholeSpans } from '../spans.js';
import { writePayload } from '../writer.js';
import { plural } from '../values.js';

/**
 * A TLS record where a startup packet was expected: direct TLS (PostgreSQL 17+, libpq
 * sslnegotiation=direct). The client starts the TLS handshake at once instead of sending
 * SSLRequest, and must offer ALPN "postgresql". Everything after this first record is
 * encrypted; the ClientHello is the one thing a proxy can read, so it is decoded in full:
 *
 *   TLSPlaintext (RFC 8446 §5.1): ContentType type (22 = handshake),
 *     ProtocolVersion legacy_record_version, uint16 length, opaque fragment.
 *   Handshake (§4): HandshakeType msg_type (1 = client_hello), uint24 length.
 *   ClientHello (§4.1.2): ProtocolVersion legacy_version, Random random (32 bytes),
 *     opaque legacy_session_id<0..32>, CipherSuite cipher_suites<2..2^16-2>,
 *     opaque legacy_compression_methods<1..2^8-1>, Extension extensions<8..2^16-1>
 *     (absent in a bare TLS 1.2 ClientHello).
 *   Extension (§4.2): ExtensionType extension_type, opaque extension_data<0..2^16-1>.
 *
 * Lengths that do not fit are 'past-end' errors through the Reader (a ClientHello split
 * over several records, too, as only the first record is seen); impossible values are
 * 'bad-value'. Nothing here throws past decodeFrame.
 */
/**
 * The fields of a TLS record (TLSPlaintext): a proxy has no use for a typed ClientHello,
 * only for the record it can forward or replace whole.
 */
export interface TlsRecord {
  /** ContentType: 22 for a handshake. */
  contentType: number;
  /** ProtocolVersion legacy_record_version (0x0301 in a first ClientHello). */
  legacyRecordVersion: number;
  /** opaque fragment (a ClientHello for direct TLS). */
  fragment: Buffer;
}

export const tlsRecordDecoder: MessageCodec<TlsRecord> = {
  name: 'TLS ClientHello (direct TLS)',
  readsContext: false,
  decode(r) {
    const type = r.uint8('content type', (t) => (t === 22 ? 'TLS handshake record (direct TLS)' : `TLS record of content type ${t} (${CONTENT_TYPES[t] ?? 'unknown'})`));
    r.uint16('legacy record version', (v) => `record version ${describeVersion(v)}`);
    const length = r.uint16('length', (n) => `record length: ${plural(n, 'byte')}`);
    if (type !== 22) {
      r.messageName = 'TLS record (direct TLS)';
      r.rest('fragment', `${plural(length, 'byte')} of a non-handshake record`);
      return ['direct TLS'];
    }
    const hsType = r.uint8('handshake type', (t) => (t === 1 ? 'ClientHello' : `handshake message type ${t} (not a ClientHello)`));
    const hsLength = uint24(r, 'handshake length', 'handshake length');
    if (hsType !== 1) {
      r.messageName = 'TLS record (direct TLS)';
      r.rest('handshake data', 'handshake data (not decoded)');
      return ['direct TLS'];
    }
    r.within(hsLength, 'ClientHello', () => clientHello(r));
    return ['direct TLS'];
  },
  fields(m) {
    const spans = wholeSpans(m, 'TLS record', m.frame.kind === 'tls-record');
    return {
      contentType: num(m, span(m, spans, 'content type')),
      legacyRecordVersion: num(m, span(m, spans, 'legacy record version')),
      fragment: m.frame.bytes.subarray(5, m.frame.size),
    };
  },
  encode(f) {
    return writePayload(
      'TLS record',
      (w) => {
        w.uint8(f.contentType, 'content type');
        w.uint16(f.legacyRecordVersion, 'legacy record version');
        w.uint16(f.fragment.length, 'length');
        w.bytes(f.fragment, 'fragment');
      },
      5 + f.fragment.length,
    );
  },
};

function clientHello(r: Reader): void {
  r.uint16('legacy version', (v) => `client version ${describeVersion(v)}${v === 0x0303 ? '; TLS 1.3 clients offer 1.3 in supported_versions' : ''}`);
  r.bytes('random', 32, 'client random (32 bytes)');

  const sidAt = r.pos;
  const sid = r.uint8('session id length', (n) => (n === 0 ? 'no legacy session id' : `legacy session id: ${plural(n, 'byte')}`));
  if (sid > 32) r.fail('bad-value', `legacy_session_id: at most 32 bytes, got ${sid}`, sidAt);
  if (sid > 0) r.bytes('session id', sid, 'legacy session id');

  const csAt = r.pos;
  const cs = r.uint16('cipher suites length', (n) => `${plural(n / 2, 'cipher suite')} (${plural(n, 'byte')})`);
  if (cs < 2 || cs % 2 !== 0) r.fail('bad-value', `cipher_suites: an even length of at least 2, got ${cs}`, csAt);
  r.bytes('cipher suites', cs, `${plural(cs / 2, 'cipher suite')} offered`);

  const cmAt = r.pos;
  const cm = r.uint8('compression methods length', (n) => plural(n, 'compression method'));
  if (cm < 1) r.fail('bad-value', 'legacy_compression_methods: at least 1 method, got 0', cmAt);
  r.bytes('compression methods', cm, (b) => (b.length === 1 && b[0] === 0 ? 'null compression only' : 'compression methods'));

  // TLS 1.2 allows a ClientHello that ends here, without extensions.
  if (r.remaining === 0) return;
  const extLength = r.uint16('extensions length', (n) => `extensions: ${plural(n, 'byte')}`);
  r.within(extLength, 'extensions', () => {
    while (r.remaining > 0) extension(r);
  });
}

/** One extension: a group named after its type, e.g. "extension server_name: db.example.com". */
function extension(r: Reader): void {
  let label = '';
  r.group(
    'extension',
    () => {
      const type = r.uint16('extension type', (t) => `type ${describeExtension(t)}`);
      const len = r.uint16('extension length', (n) => plural(n, 'byte'));
      label = `extension ${describeExtension(type)}`;
      return r.within(len, describeExtension(type), () => {
        if (type === 0 && len > 0) {
          const names = serverNames(r);
          label += `, host ${names.join(', ')}`;
          return names;
        }
        if (type === 16) {
          const names = alpn(r);
          label += `, protocols ${names.join(', ')}`;
          return names;
        }
        if (len > 0) r.bytes('extension data', len, 'extension data');
        label += len === 0 ? ', empty' : `, ${plural(len, 'byte')}`;
        return undefined;
      });
    },
    () => label,
  );
}

/**
 * server_name (RFC 6066 §3): ServerName server_name_list<1..2^16-1>, each NameType
 * name_type (0 = host_name) and HostName opaque<1..2^16-1>.
 */
function serverNames(r: Reader): string[] {
  const n = r.uint16('server name list length', (v) => `server name list: ${plural(v, 'byte')}`);
  const names: string[] = [];
  r.within(n, 'server_name list', () => {
    while (r.remaining > 0) {
      const at = r.pos;
      const t = r.uint8('name type', (v) => (v === 0 ? 'name type: host_name' : `name type ${v}`));
      if (t !== 0) r.fail('bad-value', `server_name name_type 0 (host_name), got ${t}`, at);
      const len = r.uint16('host name length', (v) => plural(v, 'byte'));
      const b = r.bytes('host name', len, 'SNI host name');
      names.push(b.toString('latin1'));
    }
  });
  return names;
}

/**
 * application_layer_protocol_negotiation (RFC 7301 §3.1): ProtocolName
 * protocol_name_list<2..2^16-1>, each opaque<1..2^8-1>. Direct TLS requires "postgresql".
 */
function alpn(r: Reader): string[] {
  const n = r.uint16('protocol name list length', (v) => `protocol name list: ${plural(v, 'byte')}`);
  const names: string[] = [];
  r.within(n, 'ALPN protocol name list', () => {
    while (r.remaining > 0) {
      const len = r.uint8('protocol name length', (v) => plural(v, 'byte'));
      const b = r.bytes('protocol name', len, (v) =>
        v.toString('latin1') === 'postgresql' ? 'protocol name: postgresql (required for direct TLS)' : 'protocol name',
      );
      names.push(b.toString('latin1'));
    }
  });
  return names;
}

/** A uint24 (TLS handshake length). */
function uint24(r: Reader, name: string, label: string): number {
  return r.uint24(name, (n) => `${label}: ${plural(n, 'byte')}`);
}

const CONTENT_TYPES: Record<number, string> = { 20: 'change_cipher_spec', 21: 'alert', 22: 'handshake', 23: 'application_data' };

function describeVersion(v: number): string {
  const names: Record<number, string> = { 0x0300: 'SSL 3.0', 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3' };
  return `0x${v.toString(16).padStart(4, '0')} (${names[v] ?? 'unknown'})`;
}

/** Common extension types (IANA "TLS ExtensionType Values"). */
const EXTENSIONS: Record<number, string> = {
  0: 'server_name',
  1: 'max_fragment_length',
  5: 'status_request',
  10: 'supported_groups',
  11: 'ec_point_formats',
  13: 'signature_algorithms',
  15: 'heartbeat',
  16: 'application_layer_protocol_negotiation',
  18: 'signed_certificate_timestamp',
  21: 'padding',
  22: 'encrypt_then_mac',
  23: 'extended_master_secret',
  27: 'compress_certificate',
  28: 'record_size_limit',
  35: 'session_ticket',
  41: 'pre_shared_key',
  42: 'early_data',
  43: 'supported_versions',
  44: 'cookie',
  45: 'psk_key_exchange_modes',
  49: 'post_handshake_auth',
  50: 'signature_algorithms_cert',
  51: 'key_share',
  17513: 'application_settings',
  65037: 'encrypted_client_hello',
  65281: 'renegotiation_info',
};

function describeExtension(t: number): string {
  const name = EXTENSIONS[t];
  if (name) return `${name} (${t})`;
  // GREASE (RFC 8701): 0x0a0a, 0x1a1a, … 0xfafa, sent to keep servers tolerant of unknown values.
  if ((t & 0x0f0f) === 0x0a0a && t >> 8 === (t & 0xff)) return `GREASE (0x${t.toString(16)})`;
  return `unknown (${t})`;
}
