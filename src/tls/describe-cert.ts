/**
 * Human-readable certificate summaries (--log-certs) and the certificate facts channel
 * binding needs. Parsing is Node's (OpenSSL) except for the signature algorithm, which
 * Node does not expose: that comes from @peculiar/x509.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { x509 } from './x509.js';

export type CertificateInput = string | Buffer | PeerCertificate | X509Certificate;

/**
 * One line per fact: subject, issuer, subjectAltName, validity (ISO 8601, with a note when
 * expired or not yet valid), serial, signature algorithm, public key type and size,
 * SHA-256 fingerprint. A string or Buffer may be PEM (the first certificate is described)
 * or DER; a tls.PeerCertificate is described from its `raw` bytes.
 */
export function describeCertificate(input: CertificateInput, now: Date = new Date()): string[] {
  const cert = toX509(input);
  const lines: string[] = [];
  lines.push(`subject: ${oneLine(cert.subject)}`);
  lines.push(`issuer: ${oneLine(cert.issuer)}${cert.issuer === cert.subject ? ' (self-issued)' : ''}`);
  lines.push(`subjectAltName: ${cert.subjectAltName ?? '(none)'}`);
  const from = parseOpenSslDate(cert.validFrom);
  const to = parseOpenSslDate(cert.validTo);
  let validity = `valid: ${isoOr(from, cert.validFrom)} to ${isoOr(to, cert.validTo)}`;
  if (to && to.getTime() < now.getTime()) validity += ' (EXPIRED)';
  else if (from && from.getTime() > now.getTime()) validity += ' (NOT YET VALID)';
  lines.push(validity);
  lines.push(`serial: ${colonHex(cert.serialNumber)}`);
  lines.push(`signature algorithm: ${signatureAlgorithmName(cert)}`);
  lines.push(`public key: ${publicKeyDescription(cert)}`);
  lines.push(`SHA-256 fingerprint: ${cert.fingerprint256}`);
  if (cert.ca) lines.push('CA: yes');
  return lines;
}

/**
 * RFC 5929 tls-server-end-point: the hash function to apply to the server certificate is
 * the one its signature algorithm uses, except that MD5 and SHA-1 become SHA-256.
 * Throws (plain Error) when the signature algorithm has no such hash (Ed25519, Ed448:
 * PostgreSQL's server cannot do channel binding with those either) or uses one outside
 * MD5/SHA-1/SHA-256/384/512, e.g. SHA-224, which is refused rather than mapped to a hash
 * the server would not use.
 */
export function signatureHashForChannelBinding(cert: X509Certificate | Buffer): 'sha256' | 'sha384' | 'sha512' {
  const der = cert instanceof X509Certificate ? cert.raw : toX509(cert).raw;
  const alg = peculiarSignatureAlgorithm(der);
  const hash = alg?.hash?.name?.toUpperCase();
  switch (hash) {
    case 'SHA-1':
    case 'SHA-256':
      return 'sha256';
    case 'SHA-384':
      return 'sha384';
    case 'SHA-512':
      return 'sha512';
    case undefined:
      break;
    default:
      throw new Error(`channel binding is not possible with a certificate signed with ${describeAlgorithm(alg!)} (no SHA-256/384/512 hash)`);
  }
  // Algorithms @peculiar/x509 does not know come back as their OID.
  const oid = alg?.name ?? '';
  if (MD5_OIDS.has(oid)) return 'sha256';
  throw new Error(`channel binding is not possible with a certificate signed with ${alg ? describeAlgorithm(alg) : 'an unreadable algorithm'} (no hash function defined for tls-server-end-point)`);
}

// ---------------------------------------------------------------------------------------

function toX509(input: CertificateInput): X509Certificate {
  if (input instanceof X509Certificate) return input;
  if (typeof input === 'string') return new X509Certificate(firstPemCertificate(input) ?? input);
  if (Buffer.isBuffer(input)) {
    if (input.includes('-----BEGIN')) {
      const block = firstPemCertificate(input.toString('latin1'));
      if (block) return new X509Certificate(block);
    }
    return new X509Certificate(input);
  }
  if (input && Buffer.isBuffer(input.raw)) return new X509Certificate(input.raw);
  throw new TypeError('describeCertificate: not a certificate (empty peer certificate?)');
}

function firstPemCertificate(text: string): string | null {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text);
  return m ? m[0] : null;
}

/** Node gives DNs as one attribute per line. */
function oneLine(dn: string): string {
  return dn.split('\n').filter((s) => s !== '').join(', ');
}

/** Node 20's X509Certificate gives dates as OpenSSL prints them: "Nov 20 00:03:49 2026 GMT". */
function parseOpenSslDate(s: string): Date | null {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4,}) GMT$/.exec(s);
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return null;
  return new Date(Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])));
}
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function isoOr(d: Date | null, fallback: string): string {
  return d ? d.toISOString() : fallback;
}

function colonHex(hex: string): string {
  const h = hex.length % 2 ? '0' + hex : hex;
  return (h.match(/../g) ?? []).join(':').toUpperCase();
}

function publicKeyDescription(cert: X509Certificate): string {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType ?? 'unknown';
  const d = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case 'rsa':
      return `RSA ${d.modulusLength ?? '?'} bits`;
    case 'rsa-pss':
      return `RSA-PSS ${d.modulusLength ?? '?'} bits`;
    case 'dsa':
      return `DSA ${d.modulusLength ?? '?'} bits`;
    case 'ec': {
      const curve = d.namedCurve ?? '?';
      const bits = CURVE_BITS[curve];
      return `EC ${CURVE_NAMES[curve] ?? curve}${bits ? ` (${bits} bits)` : ''}`;
    }
    case 'ed25519':
      return 'Ed25519 (256 bits)';
    case 'ed448':
      return 'Ed448 (456 bits)';
    default:
      return type;
  }
}
const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 };

interface SigAlg {
  name: string;
  hash?: { name: string };
}

function peculiarSignatureAlgorithm(der: Buffer): SigAlg | null {
  try {
    return new x509.X509Certificate(der).signatureAlgorithm as SigAlg;
  } catch {
    return null;
  }
}

function signatureAlgorithmName(cert: X509Certificate): string {
  const alg = peculiarSignatureAlgorithm(cert.raw);
  return alg ? describeAlgorithm(alg) : 'unknown';
}

function describeAlgorithm(alg: SigAlg): string {
  if (OID_NAMES[alg.name]) return OID_NAMES[alg.name]!;
  const name = WEB_NAMES[alg.name] ?? alg.name;
  return alg.hash?.name ? `${name} with ${alg.hash.name}` : name;
}

const WEB_NAMES: Record<string, string> = { 'RSASSA-PKCS1-v1_5': 'RSA PKCS#1 v1.5', 'RSA-PSS': 'RSA-PSS' };

const MD5_OIDS = new Set(['1.2.840.113549.1.1.4' /* md5WithRSAEncryption */, '1.2.840.113549.1.1.3' /* md4 */, '1.2.840.113549.1.1.2' /* md2 */]);

/** Signature algorithms @peculiar/x509 reports only by OID. */
const OID_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.3': 'md4WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-SHA256',
  '1.3.101.113': 'Ed448',
};
