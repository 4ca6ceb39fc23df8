/**
 * TLS material and TLS probes for the proxy end-to-end tests, through the openssl CLI:
 * self-signed certificates with chosen key types and subjectAltNames, and `openssl
 * s_client` against pgscope's client leg (SSLRequest style with -starttls postgres, or
 * direct TLS) returning the certificates it was shown.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from './proc.js';

export type KeyType = 'rsa' | 'ec' | 'ed25519';

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

/**
 * A self-signed server certificate (CN = the first name) with the given DNS names and IP
 * addresses as subjectAltName, and its unencrypted private key, written under `dir` as
 * `<base>.crt` / `<base>.key`.
 */
export async function makeSelfSigned(dir: string, base: string, o: { key: KeyType; dns?: string[]; ips?: string[] }): Promise<CertFiles> {
  const certFile = join(dir, `${base}.crt`);
  const keyFile = join(dir, `${base}.key`);
  const cnf = join(dir, `${base}.cnf`);
  const san = [...(o.dns ?? []).map((d) => `DNS:${d}`), ...(o.ips ?? []).map((i) => `IP:${i}`)].join(', ');
  const cn = o.dns?.[0] ?? o.ips?.[0] ?? 'pgscope test';
  writeFileSync(
    cnf,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = ext',
      '[dn]',
      `CN = ${cn}`,
      '[ext]',
      'basicConstraints = critical, CA:FALSE',
      `keyUsage = critical, digitalSignature${o.key === 'rsa' ? ', keyEncipherment' : ''}`,
      'extendedKeyUsage = serverAuth',
      ...(san ? [`subjectAltName = ${san}`] : []),
      '',
    ].join('\n'),
  );
  const keyArgs = o.key === 'rsa' ? ['-newkey', 'rsa:2048'] : o.key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'ed25519'];
  await run('openssl', ['req', '-x509', '-config', cnf, ...keyArgs, '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30']);
  return { certFile, keyFile };
}

/** Every PEM certificate in a text, parsed. */
export function pemCertificates(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

export interface ProbeOptions {
  /** SNI name to send (default: none). */
  servername?: string;
  /** Direct TLS (no SSLRequest first); default false: `-starttls postgres`. */
  direct?: boolean;
  /** ALPN protocols to offer (comma-separated, as s_client takes them). */
  alpn?: string;
  timeoutMs?: number;
}

export interface ProbeResult extends RunResult {
  /** The certificates the server showed (leaf first), from -showcerts. */
  certs: X509Certificate[];
}

/** `openssl s_client` to 127.0.0.1:port with empty stdin: handshake, show certificates, hang up. */
export async function probeTls(port: number, o: ProbeOptions = {}): Promise<ProbeResult> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-showcerts'];
  if (!o.direct) args.push('-starttls', 'postgres');
  args.push(...(o.servername ? ['-servername', o.servername] : ['-noservername']));
  if (o.alpn) args.push('-alpn', o.alpn);
  const r = await run('openssl', args, { allowFailure: true, timeoutMs: o.timeoutMs ?? 30_000, input: '' });
  return { ...r, certs: pemCertificates(r.stdout) };
}

/** The DER SubjectPublicKeyInfo of a certificate (to compare keys). */
export function spki(cert: X509Certificate): Buffer {
  return cert.publicKey.export({ type: 'spki', format: 'der' });
}
