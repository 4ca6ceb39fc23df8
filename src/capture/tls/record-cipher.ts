/**
 * TLS record protection, undone: the cipher suites pgscope decrypts, the keys each
 * direction's secret gives (TLS 1.3: RFC 8446 §7.1 HKDF-Expand-Label "key" and "iv";
 * TLS 1.2: RFC 5246 §6.3's key_block from the master secret), and AEAD decryption of one
 * record (RFC 8446 §5.2; RFC 5288 for AES-GCM in TLS 1.2, RFC 7905 for ChaCha20-Poly1305).
 * Only node:crypto; no state beyond each direction's sequence number.
 */
import { createDecipheriv, createHmac } from 'node:crypto';

export type Hash = 'sha256' | 'sha384';
type Aead = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

export interface Suite {
  code: number;
  /** OpenSSL's name, as the live proxy reports a cipher (TLSSocket.getCipher().name). */
  name: string;
  tls13: boolean;
  aead: Aead;
  hash: Hash;
}

const TAG = 16;

const suite = (code: number, name: string, tls13: boolean, aead: Aead, hash: Hash): Suite => ({ code, name, tls13, aead, hash });

/** The AEAD suites of TLS 1.3 and TLS 1.2 (ECDHE, DHE and RSA key exchange). */
export const SUITES: ReadonlyMap<number, Suite> = new Map(
  [
    suite(0x1301, 'TLS_AES_128_GCM_SHA256', true, 'aes-128-gcm', 'sha256'),
    suite(0x1302, 'TLS_AES_256_GCM_SHA384', true, 'aes-256-gcm', 'sha384'),
    suite(0x1303, 'TLS_CHACHA20_POLY1305_SHA256', true, 'chacha20-poly1305', 'sha256'),
    suite(0xc02b, 'ECDHE-ECDSA-AES128-GCM-SHA256', false, 'aes-128-gcm', 'sha256'),
    suite(0xc02c, 'ECDHE-ECDSA-AES256-GCM-SHA384', false, 'aes-256-gcm', 'sha384'),
    suite(0xc02f, 'ECDHE-RSA-AES128-GCM-SHA256', false, 'aes-128-gcm', 'sha256'),
    suite(0xc030, 'ECDHE-RSA-AES256-GCM-SHA384', false, 'aes-256-gcm', 'sha384'),
    suite(0xcca8, 'ECDHE-RSA-CHACHA20-POLY1305', false, 'chacha20-poly1305', 'sha256'),
    suite(0xcca9, 'ECDHE-ECDSA-CHACHA20-POLY1305', false, 'chacha20-poly1305', 'sha256'),
    suite(0xccaa, 'DHE-RSA-CHACHA20-POLY1305', false, 'chacha20-poly1305', 'sha256'),
    suite(0x009e, 'DHE-RSA-AES128-GCM-SHA256', false, 'aes-128-gcm', 'sha256'),
    suite(0x009f, 'DHE-RSA-AES256-GCM-SHA384', false, 'aes-256-gcm', 'sha384'),
    suite(0x009c, 'AES128-GCM-SHA256', false, 'aes-128-gcm', 'sha256'),
    suite(0x009d, 'AES256-GCM-SHA384', false, 'aes-256-gcm', 'sha384'),
  ].map((s) => [s.code, s]),
);

const keyLength = (a: Aead): number => (a === 'aes-128-gcm' ? 16 : 32);
const hashLength = (h: Hash): number => (h === 'sha256' ? 32 : 48);

/** RFC 5869 HKDF-Expand. */
function hkdfExpand(hash: Hash, prk: Buffer, info: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1, got = 0; got < length; i++) {
    t = createHmac(hash, prk).update(t).update(info).update(Buffer.from([i])).digest();
    out.push(t);
    got += t.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** RFC 8446 §7.1 HKDF-Expand-Label(Secret, Label, "", Length). */
export function expandLabel(hash: Hash, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  return hkdfExpand(hash, secret, info, length);
}

/** TLS 1.3's next application traffic secret after a KeyUpdate (RFC 8446 §7.2). */
export function nextTrafficSecret(hash: Hash, secret: Buffer): Buffer {
  return expandLabel(hash, secret, 'traffic upd', hashLength(hash));
}

/** RFC 5246 §5 PRF: P_hash(secret, label + seed). */
function prf(hash: Hash, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let a = labelSeed;
  for (let got = 0; got < length; ) {
    a = createHmac(hash, secret).update(a).digest();
    const p = createHmac(hash, secret).update(a).update(labelSeed).digest();
    out.push(p);
    got += p.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

export interface Decrypted {
  /** The record's real content type (TLS 1.3 hides it inside the encrypted record). */
  type: number;
  plaintext: Buffer;
}

/** One direction's record protection: its key, its IV and the next record's sequence number. */
export class RecordCipher {
  private seq = 0n;

  private constructor(
    private readonly suite: Suite,
    private readonly key: Buffer,
    /** TLS 1.3 and ChaCha20 in 1.2: the 12-byte IV; AES-GCM in 1.2: the 4-byte salt. */
    private readonly iv: Buffer,
  ) {}

  /** TLS 1.3: the cipher of one traffic secret (handshake or application). */
  static tls13(suite: Suite, secret: Buffer): RecordCipher {
    return new RecordCipher(suite, expandLabel(suite.hash, secret, 'key', keyLength(suite.aead)), expandLabel(suite.hash, secret, 'iv', 12));
  }

  /** TLS 1.2: both directions' ciphers from the master secret (AEAD suites have no MAC keys). */
  static tls12(suite: Suite, masterSecret: Buffer, clientRandom: Buffer, serverRandom: Buffer): { client: RecordCipher; server: RecordCipher } {
    const k = keyLength(suite.aead);
    const ivLength = suite.aead === 'chacha20-poly1305' ? 12 : 4;
    const block = prf(suite.hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * k + 2 * ivLength);
    return {
      client: new RecordCipher(suite, block.subarray(0, k), block.subarray(2 * k, 2 * k + ivLength)),
      server: new RecordCipher(suite, block.subarray(k, 2 * k), block.subarray(2 * k + ivLength, 2 * k + 2 * ivLength)),
    };
  }

  /** Decrypt one record (its 5-byte header and its fragment); throws when it does not authenticate. */
  decrypt(header: Buffer, fragment: Buffer): Decrypted {
    const seq = this.seq++;
    if (this.suite.tls13) {
      if (fragment.length < TAG + 1) throw new Error(`a record of ${fragment.length} bytes is too short to be encrypted`);
      const inner = this.open(this.xorNonce(seq), header, fragment.subarray(0, fragment.length - TAG), fragment.subarray(fragment.length - TAG));
      // TLSInnerPlaintext: content, the real ContentType, then zeros (padding).
      let end = inner.length - 1;
      while (end >= 0 && inner[end] === 0) end--;
      if (end < 0) throw new Error('an encrypted record holds no content type');
      return { type: inner[end]!, plaintext: inner.subarray(0, end) };
    }
    const explicit = this.suite.aead === 'chacha20-poly1305' ? 0 : 8;
    if (fragment.length < explicit + TAG) throw new Error(`a record of ${fragment.length} bytes is too short to be encrypted`);
    const nonce = explicit === 0 ? this.xorNonce(seq) : Buffer.concat([this.iv, fragment.subarray(0, 8)]);
    const ciphertext = fragment.subarray(explicit, fragment.length - TAG);
    // additional_data = seq_num + TLSCompressed.type + TLSCompressed.version + TLSCompressed.length
    const aad = Buffer.alloc(13);
    aad.writeBigUInt64BE(seq, 0);
    header.copy(aad, 8, 0, 3);
    aad.writeUInt16BE(ciphertext.length, 11);
    return { type: header[0]!, plaintext: this.open(nonce, aad, ciphertext, fragment.subarray(fragment.length - TAG)) };
  }

  private xorNonce(seq: bigint): Buffer {
    const nonce = Buffer.from(this.iv);
    const s = Buffer.alloc(8);
    s.writeBigUInt64BE(seq);
    for (let i = 0; i < 8; i++) nonce[4 + i]! ^= s[i]!;
    return nonce;
  }

  private open(nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer {
    const d = this.suite.aead === 'chacha20-poly1305' ? createDecipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG }) : createDecipheriv(this.suite.aead, this.key, nonce);
    d.setAAD(aad, { plaintextLength: ciphertext.length });
    d.setAuthTag(tag);
    const out = d.update(ciphertext);
    d.final();
    return out;
  }
}
