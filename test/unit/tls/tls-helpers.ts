/**
 * Shared by the TLS unit tests: a temp dir with certificates made by the openssl CLI, and
 * loopback TLS servers (127.0.0.1, port 0) that are always closed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';

export class TempDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'pgscope-tls-'));
  path(name: string): string {
    return join(this.dir, name);
  }
  write(name: string, text: string | Buffer): string {
    const p = this.path(name);
    writeFileSync(p, text);
    return p;
  }
  read(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }
  /** Run openssl in the temp dir; throws with its stderr on failure. */
  openssl(...args: string[]): string {
    try {
      return execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
    }
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A self-signed certificate for `key` (made with -newkey spec or an existing key file). */
  selfSigned(base: string, keySpec: string[], opts: { digest?: string; san?: string; cn?: string } = {}): { cert: string; key: string } {
    const cert = this.path(`${base}.crt`);
    const key = this.path(`${base}.key`);
    const args = ['req', '-x509', ...keySpec, '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${opts.cn ?? base}`, '-days', '2'];
    if (opts.digest) args.push(`-${opts.digest}`);
    if (opts.san) args.push('-addext', `subjectAltName=${opts.san}`);
    this.openssl(...args);
    return { cert, key };
  }

  /** A CA, and a leaf it signed with the given SAN (e.g. "DNS:db.test,IP:127.0.0.1"). */
  caAndLeaf(base: string, san: string): { caCert: string; caKey: string; cert: string; key: string } {
    const caCert = this.path(`${base}-ca.crt`);
    const caKey = this.path(`${base}-ca.key`);
    this.openssl(
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert,
      '-subj', `/CN=${base} test CA`, '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    );
    const key = this.path(`${base}.key`);
    const csr = this.path(`${base}.csr`);
    const cert = this.path(`${base}.crt`);
    const ext = this.write(`${base}.ext`, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    this.openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${base}`);
    this.openssl('x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert);
    return { caCert, caKey, cert, key };
  }
}

export interface LoopbackTlsServer {
  port: number;
  /** The SNI names clients sent, in order (false when none). */
  servernames: (string | false)[];
  close(): Promise<void>;
}

/** A TLS server on 127.0.0.1 that completes the handshake, then ends each connection. */
export async function startTlsServer(options: tls.TlsOptions): Promise<LoopbackTlsServer> {
  const servernames: (string | false)[] = [];
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer(options, (s) => {
    servernames.push((s as tls.TLSSocket & { servername?: string | false }).servername ?? false);
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    servernames,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connect to 127.0.0.1:port; resolves after 'secureConnect', rejects on 'error'. */
export function connectTls(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ ...options, host: '127.0.0.1', port });
    s.once('secureConnect', () => {
      s.removeListener('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
    s.once('error', (err) => {
      s.destroy();
      reject(err);
    });
  });
}

/**
 * Close a client connection gracefully (flushes the client Finished, so the server sees
 * the handshake complete; destroy() right after 'secureConnect' can drop it under TLS 1.3).
 */
export function endTls(s: tls.TLSSocket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once('close', () => resolve());
    s.end();
  });
}
