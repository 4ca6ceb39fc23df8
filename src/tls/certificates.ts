/**
 * Certificates the proxy shows to clients: generated on the fly (one key per process, one
 * self-signed certificate per host name, both cached) or loaded from files the user gave.
 *
 * Elephantshark made a new RSA key per connection (about 0.2 s each) and certificates
 * without a subjectAltName; here the key is made once and each certificate names the host
 * the client asked for, so a client can be told to trust it (sslrootcert=that certificate,
 * sslmode=verify-full) for that name.
 */
import { createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { TlsSetupError } from './errors.js';
import { parseCertificates } from './pem.js';
import { x509 } from './x509.js';

export { TlsSetupError } from './errors.js';

export type CertSig = 'rsa' | 'ecdsa';

export interface CertPair {
  /** PEM: the certificate, then any intermediates. */
  certPem: string;
  /** PEM (PKCS#8, unencrypted). */
  keyPem: string;
}

/** The name used when the client sent no SNI (and the cache key for it). */
export const DEFAULT_CERT_NAME = 'localhost';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** A generated key pair, its PEM and the signature algorithm that goes with it (shared with local-ca.ts). */
export interface KeyMaterial {
  keys: webcrypto.CryptoKeyPair;
  keyPem: string;
  signingAlgorithm: { name: string; hash: string };
}

/**
 * Generates ONE key per instance (the proxy makes one instance per process): RSA-2048 by
 * default, ECDSA P-256 with 'ecdsa', lazily on first use or at `warmUp()`. For each host
 * name a self-signed certificate whose subjectAltName is that name (a DNS name, or an IP
 * address entry for an IP literal); subject and issuer `CN=pgscope <name>`. The default name
 * (client sent no SNI) is 'localhost', whose certificate also names 127.0.0.1 and ::1.
 * Certificates are cached per name, case-insensitively; validity runs from a day ago (clock
 * skew) to a year ahead; serials are random and positive.
 */
export class GeneratedCertificates {
  readonly sig: CertSig;
  #key: Promise<KeyMaterial> | null = null;
  readonly #certs = new Map<string, Promise<CertPair>>();

  constructor(sig: CertSig) {
    if (sig !== 'rsa' && sig !== 'ecdsa') throw new TlsSetupError(`unknown certificate signature type "${String(sig)}" (expected rsa or ecdsa)`);
    this.sig = sig;
  }

  /** Start key generation now (call at startup so the first connection doesn't wait). */
  async warmUp(): Promise<void> {
    await this.#keyMaterial();
  }

  /** The certificate and key for `name` (null: no SNI → 'localhost'). Quick after the first call. */
  forName(name: string | null): Promise<CertPair> {
    const key = normaliseName(name);
    let pair = this.#certs.get(key);
    if (!pair) {
      pair = this.#generate(key);
      this.#certs.set(key, pair);
      // A failure is not cached: the next connection tries again.
      pair.catch(() => {
        if (this.#certs.get(key) === pair) this.#certs.delete(key);
      });
    }
    return pair;
  }

  #keyMaterial(): Promise<KeyMaterial> {
    if (!this.#key) {
      this.#key = generateKey(this.sig);
      this.#key.catch(() => {
        this.#key = null;
      });
    }
    return this.#key;
  }

  async #generate(name: string): Promise<CertPair> {
    const { keys, keyPem, signingAlgorithm } = await this.#keyMaterial();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: [{ CN: [commonName(name)] }],
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 365 * DAY_MS),
      keys: keys as unknown as CryptoKeyPairLike,
      signingAlgorithm,
      extensions: [
        new x509.SubjectAlternativeNameExtension(subjectAltNames(name), false),
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(serverKeyUsage(this.sig), true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as PublicKeyLike),
      ],
    });
    return { certPem: cert.toString('pem') + '\n', keyPem };
  }
}

// @peculiar/x509 declares its parameters with the DOM's CryptoKey types; Node's webcrypto
// objects are those at run time (the project compiles without lib "dom").
export type CryptoKeyPairLike = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
export type PublicKeyLike = Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[0];

/**
 * The subjectAltName entries for a (normalised) name: an IP address entry for an IP
 * literal (libpq's verify-full wants one for an IP host), else a DNS name; the default
 * name also covers the loopback addresses, since a client that sent no SNI most likely
 * connected to one of them.
 */
export function subjectAltNames(name: string): x509.JsonGeneralName[] {
  if (name === DEFAULT_CERT_NAME) {
    return [
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ];
  }
  return [{ type: isIP(name) ? 'ip' : 'dns', value: name }];
}

/** keyEncipherment only means something for RSA (key transport); RFC 5480 leaves it out for EC keys. */
export function serverKeyUsage(sig: CertSig): x509.KeyUsageFlags {
  return sig === 'rsa' ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
}

/** `pgscope <name>`, cut to fit a commonName. */
export function commonName(name: string): string {
  return fitCommonName(`pgscope ${name}`);
}

/** Cut to X.520's 64-character limit for a commonName (strict verifiers enforce it). */
export function fitCommonName(cn: string): string {
  return cn.length <= 64 ? cn : cn.slice(0, 61) + '...';
}

/** The cache key of a requested name: no SNI → DEFAULT_CERT_NAME; DNS names are case-insensitive. */
export function normaliseName(name: string | null): string {
  if (name === null || name === '') return DEFAULT_CERT_NAME;
  return name.toLowerCase();
}

/** 16 random bytes, top bit clear (positive) and second-highest set (no leading zero byte). */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}

/** A fresh key pair: RSA-2048 or ECDSA P-256, extractable (its PEM is needed for TLS contexts). */
export async function generateKey(sig: CertSig): Promise<KeyMaterial> {
  const subtle = webcrypto.subtle;
  let keys: webcrypto.CryptoKeyPair;
  let signingAlgorithm: KeyMaterial['signingAlgorithm'];
  if (sig === 'rsa') {
    signingAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    keys = (await subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair;
  } else {
    signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' };
    keys = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  }
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { keys, keyPem, signingAlgorithm };
}

/**
 * Loads the certificate (chain) and key the user gave (--client-ssl-cert/--client-ssl-key).
 * Certificates: PEM (one or more CERTIFICATE blocks, leaf first; other blocks and text are
 * ignored) or a single DER certificate. Key: any type Node supports (RSA, RSA-PSS, EC,
 * Ed25519, Ed448), PEM in PKCS#1, SEC1 or PKCS#8, or DER; returned as PKCS#8 PEM.
 * Encrypted keys are refused (there is no way to ask for a passphrase). The key must belong
 * to the first certificate. Every problem is a TlsSetupError naming the file.
 */
export function loadCertificatePair(certPath: string, keyPath: string): CertPair {
  const certBytes = readUserFile(certPath, '--client-ssl-cert');
  const keyBytes = readUserFile(keyPath, '--client-ssl-key');

  const certs = parseCertificates(certBytes, certPath);
  const key = parsePrivateKey(keyBytes, keyPath);

  const leaf = certs[0]!;
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsSetupError(
      `the private key in "${keyPath}" does not match the certificate in "${certPath}" (subject ${oneLine(leaf.subject)})`,
    );
  }
  const certPem = certs.map((c) => c.toString().trimEnd() + '\n').join('');
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { certPem, keyPem };
}

function readUserFile(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new TlsSetupError(`${option} file "${path}" does not exist`);
    if (e.code === 'EISDIR') throw new TlsSetupError(`${option} file "${path}" is a directory`);
    throw new TlsSetupError(`could not read ${option} file "${path}": ${e.message}`);
  }
}

function parsePrivateKey(bytes: Buffer, path: string): KeyObject {
  const text = bytes.toString('latin1');
  const isPem = text.includes('-----BEGIN');
  if (isPem && /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(text)) {
    throw new TlsSetupError(`the private key in "${path}" is encrypted; pgscope cannot ask for a passphrase (decrypt it with: openssl pkey -in ${path} -out KEY.pem)`);
  }
  if (isPem && !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new TlsSetupError(`no private key found in "${path}" (expected a PEM "BEGIN PRIVATE KEY" block)`);
  }
  const attempts: Parameters<typeof createPrivateKey>[0][] = isPem
    ? [bytes]
    : [
        { key: bytes, format: 'der', type: 'pkcs8' },
        { key: bytes, format: 'der', type: 'pkcs1' },
        { key: bytes, format: 'der', type: 'sec1' },
      ];
  let firstError: unknown = null;
  for (const a of attempts) {
    try {
      return createPrivateKey(a);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ERR_MISSING_PASSPHRASE') {
        throw new TlsSetupError(`the private key in "${path}" is encrypted; pgscope cannot ask for a passphrase (decrypt it with: openssl pkey -in ${path} -out KEY.pem)`);
      }
      firstError ??= err;
    }
  }
  throw new TlsSetupError(`the private key in "${path}" cannot be read: ${(firstError as Error).message}`);
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}
