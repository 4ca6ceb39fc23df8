import { createHash } from 'node:crypto';
import { signatureHashForChannelBinding } from '../../tls/describe-cert.js';

/**
 * tls-server-end-point channel binding data (RFC 5929, section 4.1): the hash of the
 * server's certificate (DER), with the hash function of the certificate's signature
 * algorithm, except that MD5 and SHA-1 become SHA-256. PostgreSQL's server computes the
 * same from its own certificate (be_tls_get_certificate_hash), so a proxy can pass this
 * check only with the certificate of the TLS connection it actually holds to the server.
 */
export function tlsServerEndPoint(certificateDer: Buffer): Buffer {
  const hash = signatureHashForChannelBinding(certificateDer);
  return createHash(hash).update(certificateDer).digest();
}
