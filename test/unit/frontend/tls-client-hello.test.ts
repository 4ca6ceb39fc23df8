import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newDecodeContext } from '../../../src/protocol/context.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import type { Frame } from '../../../src/protocol/types.js';
import { annotate, decodeOne } from '../../helpers/decode.js';
import { assertError, decodeAt, findSpans, lines, raw, span } from './support.js';
import { alpn, clientHelloBody, extension, helloRecord, sni } from './tls-hello-builder.js';

/**
 * The first record of `openssl s_client -connect 127.0.0.1:PORT -servername db.example.com
 * -alpn postgresql` (OpenSSL 3.0.19), captured by a loopback listener.
 */
const OPENSSL_HELLO_HEX =
  '160301014c010001480303ff43d3da3bd2bc32b9242e459fd1aa16cd6ba5fee4e29d88030a11af5502bdbb20debd172a' +
  '7c2d49361efc2abf9f054aa3aa56336d62d89874445bc385fe32224f003e130213031301c02cc030009fcca9cca8ccaa' +
  'c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000c1' +
  '00000013001100000e64622e6578616d706c652e636f6d000b000403000102000a00160014001d0017001e0019001801' +
  '000101010201030104002300000010000d000b0a706f737467726573716c0016000000170000000d002a002804030503' +
  '0603080708080809080a080b080408050806040105010601030303010302040205020602002b00090803040303030203' +
  '01002d00020101003300260024001d0020ad56f1caf238a388e7f8cd32cc50c5be1d59f86d6fdab5cf87728e168596aa' +
  '06';
const OPENSSL_HELLO = Buffer.from(OPENSSL_HELLO_HEX, 'hex');

const one = (b: Buffer) => decodeOne('frontend', b, {}, 'startup');
const text = (b: Buffer) => annotate('frontend', b, {}, 'startup');

/** A TLS record frame built by hand (the framer only frames content type 22 as TLS). */
function tlsFrame(bytes: Buffer): Frame {
  return { direction: 'frontend', kind: 'tls-record', offset: 0, type: null, length: bytes.readUInt16BE(3), size: bytes.length, bytes, complete: true };
}

describe('TLS ClientHello (direct TLS)', () => {
  it("decodes OpenSSL's ClientHello with SNI and ALPN postgresql", () => {
    // The record header (content type, version, length) is the head line.
    assert.equal(
      text(OPENSSL_HELLO),
      lines(
        raw`"\x16" = TLS handshake record (direct TLS) "\x03\x01" = record version 0x0301 (TLS 1.0) "\x01L" = record length: 332 bytes`,
        raw`  "\x01" = ClientHello`,
        raw`  "\x00\x01H" = handshake length: 328 bytes`,
        raw`  "\x03\x03" = client version 0x0303 (TLS 1.2); TLS 1.3 clients offer 1.3 in supported_versions`,
        raw`  "\xffC\xd3\xda;\xd2\xbc2\xb9$.E\x9f\xd1\xaa\x16\xcdk\xa5\xfe\xe4\xe2\x9d\x88\x03\n\x11\xafU\x02\xbd\xbb" = client random (32 bytes)`,
        raw`  " " = legacy session id: 32 bytes`,
        raw`  "\xde\xbd\x17*|-I6\x1e\xfc*\xbf\x9f\x05J\xa3\xaaV3mb\xd8\x98tD[\xc3\x85\xfe2\"O" = legacy session id`,
        raw`  "\x00>" = 31 cipher suites (62 bytes)`,
        raw`  "\x13\x02\x13\x03\x13\x01\xc0,\xc00\x00\x9f\xcc\xa9\xcc\xa8\xcc\xaa\xc0+\xc0/\x00\x9e\xc0$\xc0(\x00k\xc0#\xc0'\x00g\xc0\n\xc0\x14\x009\xc0\t\xc0\x13\x003\x00\x9d\x00\x9c\x00=\x00<\x005\x00/\x00\xff" = 31 cipher suites offered`,
        raw`  "\x01" = 1 compression method`,
        raw`  "\x00" = null compression only`,
        raw`  "\x00\xc1" = extensions: 193 bytes`,
        raw`  extension server_name (0), host db.example.com: "\x00\x00" = type server_name (0) "\x00\x13" = 19 bytes "\x00\x11" = server name list: 17 bytes "\x00" = name type: host_name "\x00\x0e" = 14 bytes "db.example.com" = SNI host name`,
        raw`  extension ec_point_formats (11), 4 bytes: "\x00\x0b" = type ec_point_formats (11) "\x00\x04" = 4 bytes "\x03\x00\x01\x02" = extension data`,
        raw`  extension supported_groups (10), 22 bytes: "\x00\n" = type supported_groups (10) "\x00\x16" = 22 bytes "\x00\x14\x00\x1d\x00\x17\x00\x1e\x00\x19\x00\x18\x01\x00\x01\x01\x01\x02\x01\x03\x01\x04" = extension data`,
        raw`  extension session_ticket (35), empty: "\x00#" = type session_ticket (35) "\x00\x00" = 0 bytes`,
        raw`  extension application_layer_protocol_negotiation (16), protocols postgresql: "\x00\x10" = type application_layer_protocol_negotiation (16) "\x00\r" = 13 bytes "\x00\x0b" = protocol name list: 11 bytes "\n" = 10 bytes "postgresql" = protocol name: postgresql (required for direct TLS)`,
        raw`  extension encrypt_then_mac (22), empty: "\x00\x16" = type encrypt_then_mac (22) "\x00\x00" = 0 bytes`,
        raw`  extension extended_master_secret (23), empty: "\x00\x17" = type extended_master_secret (23) "\x00\x00" = 0 bytes`,
        raw`  extension signature_algorithms (13), 42 bytes: "\x00\r" = type signature_algorithms (13) "\x00*" = 42 bytes "\x00(\x04\x03\x05\x03\x06\x03\x08\x07\x08\x08\x08\t\x08\n\x08\x0b\x08\x04\x08\x05\x08\x06\x04\x01\x05\x01\x06\x01\x03\x03\x03\x01\x03\x02\x04\x02\x05\x02\x06\x02" = extension data`,
        raw`  extension supported_versions (43), 9 bytes: "\x00+" = type supported_versions (43) "\x00\t" = 9 bytes "\x08\x03\x04\x03\x03\x03\x02\x03\x01" = extension data`,
        raw`  extension psk_key_exchange_modes (45), 2 bytes: "\x00-" = type psk_key_exchange_modes (45) "\x00\x02" = 2 bytes "\x01\x01" = extension data`,
        raw`  extension key_share (51), 38 bytes: "\x003" = type key_share (51) "\x00&" = 38 bytes "\x00$\x00\x1d\x00 \xadV\xf1\xca\xf28\xa3\x88\xe7\xf8\xcd2\xccP\xc5\xbe\x1dY\xf8mo\xda\xb5\xcf\x87r\x8e\x16\x85\x96\xaa\x06" = extension data`,
      ),
    );
    const m = one(OPENSSL_HELLO);
    assert.equal(m.name, 'TLS ClientHello (direct TLS)');
    assert.deepEqual(m.sub, ['direct TLS']);
    assert.equal(m.error, undefined);
    assert.equal(span(m, 'content type').value, 22);
    assert.equal(span(m, 'length').value, 332);
    const exts = findSpans(m.spans, 'extension');
    assert.equal(exts.length, 11);
    assert.deepEqual(exts[0]!.value, ['db.example.com']);
    assert.deepEqual(exts[4]!.value, ['postgresql']);
    assert.deepEqual(span(m, 'host name').value, Buffer.from('db.example.com'));
    assert.equal(exts[exts.length - 1]!.end, OPENSSL_HELLO.length);
  });

  it('decodes a built ClientHello: session id, GREASE, several ALPN names, unknown types', () => {
    const b = helloRecord({
      sessionId: Buffer.alloc(4, 7),
      extensions: [extension(0x2a2a, []), sni('db.example.com'), alpn('postgresql', 'h2'), extension(43, [2, 3, 4]), extension(0xfe0d, [1, 2]), extension(9999, [])],
    });
    assert.equal(
      text(b),
      lines(
        raw`"\x16" = TLS handshake record (direct TLS) "\x03\x01" = record version 0x0301 (TLS 1.0) "\x00u" = record length: 117 bytes`,
        raw`  "\x01" = ClientHello`,
        raw`  "\x00\x00q" = handshake length: 113 bytes`,
        raw`  "\x03\x03" = client version 0x0303 (TLS 1.2); TLS 1.3 clients offer 1.3 in supported_versions`,
        raw`  "\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11" = client random (32 bytes)`,
        raw`  "\x04" = legacy session id: 4 bytes`,
        raw`  "\x07\x07\x07\x07" = legacy session id`,
        raw`  "\x00\x04" = 2 cipher suites (4 bytes)`,
        raw`  "\x13\x01\x13\x02" = 2 cipher suites offered`,
        raw`  "\x01" = 1 compression method`,
        raw`  "\x00" = null compression only`,
        raw`  "\x00@" = extensions: 64 bytes`,
        raw`  extension GREASE (0x2a2a), empty: "**" = type GREASE (0x2a2a) "\x00\x00" = 0 bytes`,
        raw`  extension server_name (0), host db.example.com: "\x00\x00" = type server_name (0) "\x00\x13" = 19 bytes "\x00\x11" = server name list: 17 bytes "\x00" = name type: host_name "\x00\x0e" = 14 bytes "db.example.com" = SNI host name`,
        raw`  extension application_layer_protocol_negotiation (16), protocols postgresql, h2: "\x00\x10" = type application_layer_protocol_negotiation (16) "\x00\x10" = 16 bytes "\x00\x0e" = protocol name list: 14 bytes "\n" = 10 bytes "postgresql" = protocol name: postgresql (required for direct TLS) "\x02" = 2 bytes "h2" = protocol name`,
        raw`  extension supported_versions (43), 3 bytes: "\x00+" = type supported_versions (43) "\x00\x03" = 3 bytes "\x02\x03\x04" = extension data`,
        raw`  extension encrypted_client_hello (65037), 2 bytes: "\xfe\r" = type encrypted_client_hello (65037) "\x00\x02" = 2 bytes "\x01\x02" = extension data`,
        raw`  extension unknown (9999), empty: "'\x0f" = type unknown (9999) "\x00\x00" = 0 bytes`,
      ),
    );
    assert.deepEqual(findSpans(one(b).spans, 'extension')[2]!.value, ['postgresql', 'h2']);
  });

  it('accepts a TLS 1.2 ClientHello without extensions', () => {
    const m = one(helloRecord({ extensions: null }));
    assert.equal(m.error, undefined);
    assert.equal(m.spans[m.spans.length - 1]!.meaning, 'null compression only');
  });

  it('shows another handshake message as bytes', () => {
    const b = helloRecord({ handshakeType: 2 });
    const m = one(b);
    assert.equal(m.name, 'TLS record (direct TLS)');
    assert.equal(m.error, undefined);
    assert.equal(
      text(b).split('\n').slice(1, 3).join('\n'),
      lines(raw`  "\x02" = handshake message type 2 (not a ClientHello)`, raw`  "\x00\x00U" = handshake length: 85 bytes`),
    );
    assert.deepEqual([span(m, 'handshake data').start, span(m, 'handshake data').end], [9, b.length]);
  });

  it('shows a record of another content type as bytes', () => {
    const bytes = Buffer.from([23, 3, 3, 0, 3, 1, 2, 3]);
    const m = decodeFrame(tlsFrame(bytes), newDecodeContext());
    assert.equal(m.name, 'TLS record (direct TLS)');
    assert.equal(m.error, undefined);
    assert.deepEqual(
      m.spans.map((s) => [s.name, s.meaning]),
      [
        ['content type', 'TLS record of content type 23 (application_data)'],
        ['legacy record version', 'record version 0x0303 (TLS 1.2)'],
        ['length', 'record length: 3 bytes'],
        ['fragment', '3 bytes of a non-handshake record'],
      ],
    );
  });

  describe('malformed', () => {
    it('a ClientHello longer than its record (truncated, or split over records) is past-end', () => {
      const body = clientHelloBody();
      const m = decodeAt(helloRecord({ handshakeLength: body.length + 50 }, body), 300, {}, 'startup');
      assertError(m, 'past-end', 309, 9);
      assert.match(m.error!.expected, /ClientHello: 135 byte\(s\) announced, 85 left/);
    });

    it('a ClientHello cut inside the cipher suites is past-end at the suites', () => {
      const body = clientHelloBody().subarray(0, 40);
      assertError(one(helloRecord({}, body)), 'past-end', 9 + 37, 9 + 37);
    });

    it('a record too short for the handshake header is past-end', () => {
      assertError(one(Buffer.from([22, 3, 1, 0, 2, 1, 0])), 'past-end', 6, 6);
    });

    it('a session id longer than 32 bytes is bad-value', () => {
      assertError(one(helloRecord({ sessionIdLength: 33 })), 'bad-value', 9 + 34);
    });

    it('an odd cipher suites length is bad-value', () => {
      assertError(one(helloRecord({ cipherSuitesLength: 3 })), 'bad-value', 9 + 35);
    });

    it('an extensions block longer than the ClientHello is past-end', () => {
      assertError(one(helloRecord({ extensionsLength: 100 })), 'past-end', 9 + 45, 9 + 45);
    });

    it('an extension longer than the extensions block is past-end', () => {
      const bad = Buffer.from([0, 43, 0, 10, 1, 2]);
      assertError(one(helloRecord({ extensions: [bad] })), 'past-end', 9 + 49, 9 + 49);
    });

    it('bytes left inside server_name after its list are trailing-bytes', () => {
      const good = sni('db.example.com').subarray(4);
      const m = one(helloRecord({ extensions: [extension(0, Buffer.concat([good, Buffer.from([0xff])]))] }));
      assertError(m, 'trailing-bytes', 9 + 68, 9 + 68);
      assert.match(m.error!.expected, /server_name \(0\): 1 byte\(s\) left/);
    });

    it('a server name type other than host_name is bad-value', () => {
      const s = sni('db.example.com');
      s[6] = 1;
      assertError(one(helloRecord({ extensions: [s] })), 'bad-value', 9 + 51);
    });

    it('no compression methods is bad-value', () => {
      const body = clientHelloBody({ extensions: null });
      body[body.length - 2] = 0;
      assertError(one(helloRecord({}, body.subarray(0, body.length - 1))), 'bad-value', 9 + 41);
    });

    it('bytes after the ClientHello in the record are trailing-bytes', () => {
      const rec = helloRecord();
      const b = Buffer.concat([rec, Buffer.from([0xaa, 0xbb])]);
      b.writeUInt16BE(rec.length - 5 + 2, 3);
      assertError(one(b), 'trailing-bytes', rec.length, rec.length);
    });

    it('never throws on any truncation of a real ClientHello', () => {
      for (let n = 1; n < OPENSSL_HELLO.length - 5; n++) {
        const b = Buffer.from(OPENSSL_HELLO.subarray(0, 5 + n));
        b.writeUInt16BE(n, 3);
        const m = one(b);
        assert.ok(m.error, `a ${n}-byte fragment is an error`);
        assert.notEqual(m.error.code, 'internal', m.error.message);
      }
    });
  });
});
