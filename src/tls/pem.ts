/** Reading certificates from files the user gave (PEM bundles or one DER certificate). */
import { X509Certificate } from 'node:crypto';
import { TlsSetupError } from './errors.js';

const PEM_CERT_RE = /-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----[\s\S]*?-----END (?:X509 |TRUSTED )?CERTIFICATE-----/g;

/** Parses one or more certificates from PEM text (or one DER certificate). */
export function parseCertificates(bytes: Buffer, path: string): X509Certificate[] {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = text.match(PEM_CERT_RE) ?? [];
    if (blocks.length === 0) throw new TlsSetupError(`no certificate found in "${path}" (expected a PEM "BEGIN CERTIFICATE" block)`);
    return blocks.map((block, i) => {
      if (block.includes('TRUSTED CERTIFICATE')) {
        throw new TlsSetupError(`certificate ${i + 1} in "${path}" is an OpenSSL "TRUSTED CERTIFICATE"; convert it with: openssl x509 -in FILE -out FILE.pem`);
      }
      try {
        return new X509Certificate(block);
      } catch (err) {
        throw new TlsSetupError(`certificate ${i + 1} in "${path}" cannot be parsed: ${(err as Error).message}`);
      }
    });
  }
  try {
    return [new X509Certificate(bytes)];
  } catch (err) {
    throw new TlsSetupError(`"${path}" is neither a PEM nor a DER certificate: ${(err as Error).message}`);
  }
}
