import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { GeneratedCertificates } from '../../../src/tls/certificates.js';
import { TlsSetupError } from '../../../src/tls/errors.js';
import {
  serverTlsOptions,
  serverTlsPolicy,
  sniName,
  verifyServerCertificate,
  type ServerSslMode,
  type ServerTlsPolicy,
} from '../../../src/tls/server-leg.js';
import { connectTls, endTls, startTlsServer, TempDir, type LoopbackTlsServer } from './tls-helpers.js';

const MODES: ServerSslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];

type Flags = Pick<ServerTlsPolicy, 'attempt' | 'requireEncryption' | 'verifyChain' | 'verifyHostName'> & { roots: 'pem' | 'system' | null };

function flags(p: ServerTlsPolicy): Flags {
  return {
    attempt: p.attempt,
    requireEncryption: p.requireEncryption,
    verifyChain: p.verifyChain,
    verifyHostName: p.verifyHostName,
    roots: p.roots === null ? null : p.roots === 'system' ? 'system' : 'pem',
  };
}
const F = (attempt: boolean, requireEncryption: boolean, verifyChain: boolean, verifyHostName: boolean, roots: Flags['roots']): Flags => ({
  attempt,
  requireEncryption,
  verifyChain,
  verifyHostName,
  roots,
});

describe('serverTlsPolicy', () => {
  let rootPem: string;
  before(async () => {
    rootPem = (await new GeneratedCertificates('ecdsa').forName('root.example')).certPem;
  });

  const full = F(true, true, true, true, 'system');
  // mode → [no root, a root file, system]
  const expected: Record<ServerSslMode, [Flags | RegExp, Flags | RegExp, Flags | RegExp]> = {
    disable: [F(false, false, false, false, null), F(false, false, false, false, null), /weak sslmode "disable" may not be used with sslrootcert=system/],
    prefer: [F(true, false, false, false, null), F(true, false, false, false, null), full],
    require: [F(true, true, false, false, null), F(true, true, true, false, 'pem'), full],
    'verify-ca': [/--server-sslmode verify-ca needs trusted root certificates/, F(true, true, true, false, 'pem'), full],
    'verify-full': [/--server-sslmode verify-full needs trusted root certificates/, F(true, true, true, true, 'pem'), full],
  };

  for (const mode of MODES) {
    const roots: [string, string | null][] = [
      ['no root', null],
      ['a root file', '/roots/ca.pem'],
      ['system', 'system'],
    ];
    roots.forEach(([label, root], i) => {
      it(`${mode} with ${label}`, () => {
        const reads: string[] = [];
        const readFile = (p: string): string => {
          reads.push(p);
          return rootPem;
        };
        const want = expected[mode][i]!;
        if (want instanceof RegExp) {
          assert.throws(() => serverTlsPolicy(mode, root, readFile), (err: Error) => err instanceof TlsSetupError && want.test(err.message));
          return;
        }
        const policy = serverTlsPolicy(mode, root, readFile);
        assert.deepEqual(flags(policy), want);
        if (want.roots === 'pem') {
          assert.equal(policy.roots, rootPem);
          assert.deepEqual(reads, ['/roots/ca.pem']);
        } else {
          assert.deepEqual(reads, [], 'the root file is only read when it is used');
        }
        assert.equal(policy.sslmode, root === 'system' ? 'verify-full' : mode);
        assert.equal(policy.sslrootcert, root);
      });
    });
  }

  it('a missing root file is an error under verify-* (libpq wording) and ignored under require', () => {
    const tmp = new TempDir();
    try {
      const missing = tmp.path('missing.crt');
      for (const mode of ['verify-ca', 'verify-full'] as const) {
        assert.throws(() => serverTlsPolicy(mode, missing), (err: Error) => {
          assert.ok(err instanceof TlsSetupError);
          assert.ok(err.message.startsWith(`root certificate file "${missing}" does not exist\n`), err.message);
          return true;
        });
      }
      assert.deepEqual(flags(serverTlsPolicy('require', missing)), F(true, true, false, false, null));
      // A real file, read through the default readFile.
      const ca = tmp.caAndLeaf('real', 'DNS:db.test');
      const policy = serverTlsPolicy('verify-ca', ca.caCert);
      assert.equal(policy.roots, readFileSync(ca.caCert, 'utf8').trimEnd() + '\n');
    } finally {
      tmp.remove();
    }
  });

  it('an unreadable or certificate-less root file is an error under require and verify-*', () => {
    const eacces = (): never => {
      throw Object.assign(new Error("EACCES: permission denied, open '/roots/ca.pem'"), { code: 'EACCES' });
    };
    for (const mode of ['require', 'verify-ca', 'verify-full'] as const) {
      assert.throws(() => serverTlsPolicy(mode, '/roots/ca.pem', eacces), /^TlsSetupError: could not read root certificate file "\/roots\/ca.pem": EACCES: permission denied/);
      assert.throws(() => serverTlsPolicy(mode, '/roots/ca.pem', () => 'hello'), /could not read root certificate file "\/roots\/ca.pem": .*neither a PEM nor a DER/);
      assert.throws(() => serverTlsPolicy(mode, '/roots/ca.pem', () => '-----BEGIN PRIVATE KEY-----\n'), /could not read root certificate file "\/roots\/ca.pem": no certificate found/);
    }
  });

  it('rejects an unknown mode', () => {
    assert.throws(() => serverTlsPolicy('allow' as ServerSslMode, null), /invalid sslmode value: "allow"/);
  });
});

describe('serverTlsOptions', () => {
  const policy: ServerTlsPolicy = { attempt: true, requireEncryption: true, verifyChain: true, verifyHostName: true, roots: null };

  it('sends SNI for host names only, never for IP literals', () => {
    assert.equal(serverTlsOptions(policy, 'db.example.com', false).servername, 'db.example.com');
    assert.equal(serverTlsOptions(policy, 'db.example.com.', false).servername, 'db.example.com');
    for (const ip of ['127.0.0.1', '::1', '[::1]', 'fe80::1%lo', '']) {
      assert.equal('servername' in serverTlsOptions(policy, ip, false), false, ip);
      assert.equal(sniName(ip), null);
    }
  });

  it('offers ALPN postgresql when asked and never rejects by itself', () => {
    const o = serverTlsOptions(policy, 'h', true);
    assert.deepEqual(o.ALPNProtocols, ['postgresql']);
    assert.equal(o.rejectUnauthorized, false);
    assert.equal(o.checkServerIdentity?.('h', {} as never), undefined);
    assert.equal('ALPNProtocols' in serverTlsOptions(policy, 'h', false), false);
  });

  it('makes one SecureContext per policy, shared by all its connections (the roots are in it, not per connection)', () => {
    const system: ServerTlsPolicy = { ...policy, roots: 'system' };
    const a = serverTlsOptions(system, 'h', false);
    assert.ok(a.secureContext instanceof Object && 'context' in a.secureContext);
    assert.equal(serverTlsOptions(system, 'other', true).secureContext, a.secureContext);
  });
});

describe('verifyServerCertificate against real TLS servers', () => {
  let tmp: TempDir;
  let ca: ReturnType<TempDir['caAndLeaf']>;
  let selfSigned: LoopbackTlsServer;
  let caSigned: LoopbackTlsServer;

  before(async () => {
    tmp = new TempDir();
    ca = tmp.caAndLeaf('db', 'DNS:db.test,IP:127.0.0.1');
    caSigned = await startTlsServer({ cert: readFileSync(ca.cert), key: readFileSync(ca.key) });
    const own = await new GeneratedCertificates('ecdsa').forName('db.test');
    selfSigned = await startTlsServer({ cert: own.certPem, key: own.keyPem });
  });
  after(async () => {
    await selfSigned.close();
    await caSigned.close();
    tmp.remove();
  });

  /** Handshake with the policy's options, as the proxy does; then the verdict. */
  async function verdict(server: LoopbackTlsServer, policy: ServerTlsPolicy, host: string): Promise<string | null> {
    const s = await connectTls(server.port, serverTlsOptions(policy, host, false));
    try {
      return verifyServerCertificate(policy, s, host);
    } finally {
      await endTls(s);
    }
  }

  it('verify-ca: an untrusted self-signed certificate is refused, with the reason and the settings', async () => {
    const policy = serverTlsPolicy('verify-ca', ca.caCert);
    assert.equal(
      await verdict(selfSigned, policy, 'db.test'),
      `the server certificate is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate (--server-sslmode verify-ca with --server-sslrootcert ${ca.caCert})`,
    );
  });

  it('verify-ca passes a trusted chain whatever the host name; verify-full checks the name', async () => {
    const verifyCa = serverTlsPolicy('verify-ca', ca.caCert);
    assert.equal(await verdict(caSigned, verifyCa, 'db.test'), null);
    assert.equal(await verdict(caSigned, verifyCa, 'wrong.test'), null);

    const verifyFull = serverTlsPolicy('verify-full', ca.caCert);
    assert.equal(await verdict(caSigned, verifyFull, 'db.test'), null);
    const msg = await verdict(caSigned, verifyFull, 'wrong.test');
    assert.ok(msg?.startsWith(`the server certificate does not match host name "wrong.test": Hostname/IP does not match certificate's altnames: Host: wrong.test. is not in the cert's altnames: DNS:db.test, IP Address:127.0.0.1`), msg ?? 'null');
  });

  it('verify-full with an IP address: matched against IP SANs, no SNI sent', async () => {
    const verifyFull = serverTlsPolicy('verify-full', ca.caCert);
    const before = caSigned.servernames.length;
    assert.equal(await verdict(caSigned, verifyFull, '127.0.0.1'), null);
    await verdict(caSigned, verifyFull, 'db.test');
    assert.deepEqual(caSigned.servernames.slice(before), [false, 'db.test'], 'SNI for the name, none for the IP address');
    assert.match((await verdict(caSigned, verifyFull, '::1')) ?? '', /^the server certificate does not match host name "::1": Hostname\/IP does not match certificate's altnames: IP: ::1 is not in the cert's list: 127.0.0.1$/);
  });

  it('prefer and require (no root file) never verify', async () => {
    for (const mode of ['prefer', 'require'] as const) {
      const policy = serverTlsPolicy(mode, null);
      assert.equal(await verdict(selfSigned, policy, 'wrong.test'), null);
      assert.equal(await verdict(caSigned, policy, 'wrong.test'), null);
    }
  });

  it('require with a root file checks the chain (like libpq) but not the host name', async () => {
    const policy = serverTlsPolicy('require', ca.caCert);
    assert.equal(await verdict(caSigned, policy, 'wrong.test'), null);
    assert.equal(
      await verdict(selfSigned, policy, 'db.test'),
      `the server certificate is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate (--server-sslmode require with --server-sslrootcert ${ca.caCert})`,
    );
  });

  it('system roots: a private CA is not trusted', async () => {
    const policy = serverTlsPolicy('prefer', 'system');
    // The server sends only its leaf, so OpenSSL cannot even find the (private) issuer.
    assert.equal(
      await verdict(caSigned, policy, 'db.test'),
      'the server certificate is not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate (--server-sslmode verify-full with --server-sslrootcert system)',
    );
    assert.match((await verdict(selfSigned, policy, 'db.test')) ?? '', /^the server certificate is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/);
  });

  it('a policy built by hand (no sslmode/sslrootcert fields) still gets a message', async () => {
    const policy: ServerTlsPolicy = { attempt: true, requireEncryption: true, verifyChain: true, verifyHostName: false, roots: readFileSync(ca.caCert, 'utf8') };
    assert.equal(await verdict(selfSigned, policy, 'db.test'), 'the server certificate is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate (--server-sslmode verify-ca)');
  });
});
