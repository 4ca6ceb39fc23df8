/**
 * The proxy → server leg's TLS rules (libpq's sslmode/sslrootcert semantics) as data, so
 * the I/O code only applies them:
 *
 *   serverTlsPolicy(...)          once at startup (reads the root file, fails early)
 *   serverTlsOptions(policy, …)   options for tls.connect
 *   verifyServerCertificate(…)    after 'secureConnect': null, or why the server is refused
 *
 * Node is never asked to reject a certificate itself (rejectUnauthorized: false): the
 * handshake always completes and verifyServerCertificate explains the problem in words, so
 * the client can be sent an ErrorResponse saying what went wrong.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { TlsSetupError } from './errors.js';
import { parseCertificates } from './pem.js';

export type ServerSslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface ServerTlsPolicy {
  /** Whether to try TLS at all, and whether plaintext is acceptable if the server says N. */
  attempt: boolean;
  requireEncryption: boolean;
  /** Check the chain (verify-ca, verify-full, and require when a root cert file is given, as libpq does) and the host name (verify-full). */
  verifyChain: boolean;
  verifyHostName: boolean;
  /** PEM text of trusted roots, or 'system' for Node's default store. Null: no roots given. */
  roots: string | 'system' | null;
  /** The effective mode ('system' roots turn any mode into verify-full), for messages. */
  sslmode?: ServerSslMode;
  /** The --server-sslrootcert value as given ('system', a path, or null), for messages. */
  sslrootcert?: string | null;
}

/**
 * libpq's rules:
 * - disable: no TLS. prefer: try TLS, plaintext if the server answers N, no checks.
 * - require: TLS or fail; no checks, except that a root certificate file, if given,
 *   makes it check the chain (like verify-ca), as libpq does.
 * - verify-ca: TLS, chain checked against the roots. verify-full: and the host name.
 * - sslrootcert=system: Node's built-in root store, and implies verify-full (the CLI
 *   refuses an explicitly chosen weaker mode with it, as libpq 16+ does; here any mode but
 *   disable is simply upgraded, and disable is refused).
 *
 * Unlike libpq, ~/.postgresql/root.crt is NOT consulted when no root file is given: a
 * debugging proxy should not silently pick up the user's personal trust settings, so
 * verify-ca/verify-full without --server-sslrootcert is an error here, and require/prefer
 * without it do no checks. With prefer a root file is ignored (libpq would check the chain
 * and fall back to plaintext on failure; this proxy does not second-guess prefer).
 * A root file that does not exist is an error under verify-* and ignored under require,
 * as libpq does; a file that exists but cannot be read or holds no certificate is an
 * error under require and verify-*.
 */
export function serverTlsPolicy(
  sslmode: ServerSslMode,
  sslrootcert: string | null,
  readFile: (path: string) => string | Buffer = readFileSync,
): ServerTlsPolicy {
  if (!['disable', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) {
    throw new TlsSetupError(`invalid sslmode value: "${String(sslmode)}"`);
  }
  if (sslrootcert === '') sslrootcert = null;

  if (sslrootcert === 'system') {
    if (sslmode === 'disable') {
      throw new TlsSetupError('weak sslmode "disable" may not be used with sslrootcert=system (use "verify-full")');
    }
    return { attempt: true, requireEncryption: true, verifyChain: true, verifyHostName: true, roots: 'system', sslmode: 'verify-full', sslrootcert };
  }

  const base = { sslmode, sslrootcert };
  switch (sslmode) {
    case 'disable':
      return { attempt: false, requireEncryption: false, verifyChain: false, verifyHostName: false, roots: null, ...base };
    case 'prefer':
      return { attempt: true, requireEncryption: false, verifyChain: false, verifyHostName: false, roots: null, ...base };
    case 'require': {
      const roots = sslrootcert === null ? null : readRoots(sslrootcert, readFile, false);
      return { attempt: true, requireEncryption: true, verifyChain: roots !== null, verifyHostName: false, roots, ...base };
    }
    case 'verify-ca':
    case 'verify-full': {
      if (sslrootcert === null) {
        throw new TlsSetupError(
          `--server-sslmode ${sslmode} needs trusted root certificates: give --server-sslrootcert PATH, or system for the usual public roots (pgscope does not read ~/.postgresql/root.crt)`,
        );
      }
      const roots = readRoots(sslrootcert, readFile, true)!;
      return { attempt: true, requireEncryption: true, verifyChain: true, verifyHostName: sslmode === 'verify-full', roots, ...base };
    }
  }
}

/** The root file's certificates as PEM text; null if it does not exist and that is allowed. */
function readRoots(path: string, readFile: (path: string) => string | Buffer, mustExist: boolean): string | null {
  let content: string | Buffer;
  try {
    content = readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
      if (!mustExist) return null;
      throw new TlsSetupError(
        `root certificate file "${path}" does not exist\nEither provide the file, use the system's trusted roots with --server-sslrootcert system, or change --server-sslmode to disable server certificate verification.`,
      );
    }
    throw new TlsSetupError(`could not read root certificate file "${path}": ${e.message}`);
  }
  const bytes = typeof content === 'string' ? Buffer.from(content, 'latin1') : content;
  let certs;
  try {
    certs = parseCertificates(bytes, path);
  } catch (err) {
    throw new TlsSetupError(`could not read root certificate file "${path}": ${(err as Error).message}`);
  }
  return certs.map((c) => c.toString().trimEnd() + '\n').join('');
}

/**
 * Options for tls.connect to the server (add `socket` or host/port). Verification is
 * left to verifyServerCertificate: rejectUnauthorized is false and checkServerIdentity is
 * a no-op, so that `socket.authorized` reflects the chain alone (Node would otherwise fold
 * a host-name mismatch into it, which verify-ca must ignore).
 */
export function serverTlsOptions(policy: ServerTlsPolicy, host: string, alpn: boolean): tls.ConnectionOptions {
  const options: tls.ConnectionOptions = {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    secureContext: serverContext(policy),
  };
  // SNI carries host names only, never IP addresses (RFC 6066; libpq does the same).
  const sni = sniName(host);
  if (sni !== null) options.servername = sni;
  if (alpn) options.ALPNProtocols = ['postgresql'];
  return options;
}

const contexts = new WeakMap<ServerTlsPolicy, tls.SecureContext>();

/**
 * The server leg's SecureContext (TLS 1.2 or later, the policy's roots), made once per
 * policy: tls.connect would otherwise build one (an OpenSSL SSL_CTX, about 0.5 ms of CPU)
 * for every connection, on the path of its handshake.
 */
function serverContext(policy: ServerTlsPolicy): tls.SecureContext {
  let ctx = contexts.get(policy);
  if (ctx === undefined) {
    ctx = tls.createSecureContext({ minVersion: 'TLSv1.2', ...(policy.roots !== null && policy.roots !== 'system' ? { ca: policy.roots } : {}) });
    contexts.set(policy, ctx);
  }
  return ctx;
}

/** The SNI name for `host`, or null for an IP literal (or an empty name). A trailing dot is dropped. */
export function sniName(host: string): string | null {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === '' || isIP(h) !== 0 || isIP(h.split('%')[0]!) !== 0) return null;
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * After the handshake: null if the server's certificate is acceptable under the policy,
 * else one sentence saying why not (for the log and the client's ErrorResponse).
 */
export function verifyServerCertificate(policy: ServerTlsPolicy, socket: tls.TLSSocket, host: string): string | null {
  if (!policy.verifyChain && !policy.verifyHostName) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return 'the server sent no certificate';
  if (policy.verifyChain && !socket.authorized) {
    const code = String(socket.authorizationError ?? 'unknown error');
    const meaning = VERIFY_ERRORS[code];
    return `the server certificate is not trusted: ${code}${meaning ? `: ${meaning}` : ''} (${settingsText(policy)})`;
  }
  if (policy.verifyHostName) {
    const name = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const err = tls.checkServerIdentity(name, cert);
    if (err) return `the server certificate does not match host name "${name}": ${err.message}`;
  }
  return null;
}

function settingsText(policy: ServerTlsPolicy): string {
  const mode = policy.sslmode ?? (policy.verifyHostName ? 'verify-full' : policy.verifyChain ? 'verify-ca' : 'require');
  const root = policy.sslrootcert ?? (policy.roots === 'system' ? 'system' : null);
  return root === null ? `--server-sslmode ${mode}` : `--server-sslmode ${mode} with --server-sslrootcert ${root}`;
}

/** OpenSSL verification codes as Node reports them, in words. */
const VERIFY_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REVOKED: 'certificate revoked',
  INVALID_CA: 'invalid CA certificate',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  EE_KEY_TOO_SMALL: 'end-entity key too small',
  CA_KEY_TOO_SMALL: 'CA certificate key too small',
  CA_MD_TOO_WEAK: 'CA signature digest algorithm too weak',
};
