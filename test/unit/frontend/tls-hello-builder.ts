/** A small builder of TLS records carrying a ClientHello, for the direct-TLS decoder tests. */

const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

export function extension(type: number, data: Buffer | number[]): Buffer {
  const d = Buffer.from(data);
  return Buffer.concat([u16(type), u16(d.length), d]);
}

/** server_name with one host_name entry (RFC 6066). */
export function sni(host: string): Buffer {
  const h = Buffer.from(host, 'latin1');
  const entry = Buffer.concat([u8(0), u16(h.length), h]);
  return extension(0, Buffer.concat([u16(entry.length), entry]));
}

/** application_layer_protocol_negotiation (RFC 7301). */
export function alpn(...names: string[]): Buffer {
  const list = Buffer.concat(names.map((n) => Buffer.concat([u8(n.length), Buffer.from(n, 'latin1')])));
  return extension(16, Buffer.concat([u16(list.length), list]));
}

export interface HelloOptions {
  sessionId?: Buffer;
  /** Overrides the session id length byte. */
  sessionIdLength?: number;
  cipherSuites?: Buffer;
  /** Overrides the cipher suites length. */
  cipherSuitesLength?: number;
  /** null: a bare TLS 1.2 ClientHello without the extensions field. */
  extensions?: Buffer[] | null;
  /** Overrides the extensions length. */
  extensionsLength?: number;
  /** Overrides the handshake length (uint24). */
  handshakeLength?: number;
  handshakeType?: number;
}

export function clientHelloBody(o: HelloOptions = {}): Buffer {
  const sid = o.sessionId ?? Buffer.alloc(0);
  const cs = o.cipherSuites ?? Buffer.from([0x13, 0x01, 0x13, 0x02]);
  const exts = o.extensions === undefined ? [sni('db.example.com'), alpn('postgresql')] : o.extensions;
  const parts = [u16(0x0303), Buffer.alloc(32, 0x11), u8(o.sessionIdLength ?? sid.length), sid, u16(o.cipherSuitesLength ?? cs.length), cs, u8(1), u8(0)];
  if (exts) {
    const all = Buffer.concat(exts);
    parts.push(u16(o.extensionsLength ?? all.length), all);
  }
  return Buffer.concat(parts);
}

/** A TLS handshake record (content type 22, record version 0x0301) holding one handshake message. */
export function helloRecord(o: HelloOptions = {}, body: Buffer = clientHelloBody(o)): Buffer {
  const hs = Buffer.concat([u8(o.handshakeType ?? 1), u24(o.handshakeLength ?? body.length), body]);
  return Buffer.concat([u8(22), u16(0x0301), u16(hs.length), hs]);
}
