import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { GeneratedCertificates, loadCertificatePair, TlsSetupError, type CertSig } from '../../../src/tls/certificates.js';
import { connectTls, startTlsServer, TempDir } from './tls-helpers.js';

const DAY = 24 * 3600 * 1000;

function parseDate(s: string): number {
  // Node 20 gives "Nov 20 00:03:49 2026 GMT", which Date.parse understands.
  const t = Date.parse(s);
  assert.ok(!Number.isNaN(t), `unparseable date ${s}`);
  return t;
}

function spki(pem: string): string {
  return createPublicKey(pem).export({ type: 'spki', format: 'pem' }) as string;
}

for (const sig of ['rsa', 'ecdsa'] as CertSig[]) {
  describe(`GeneratedCertificates (${sig})`, () => {
    const certs = new GeneratedCertificates(sig);

    it('makes a parseable self-signed certificate whose key matches, with the DNS name as SAN', async () => {
      const before = Date.now();
      const pair = await certs.forName('db.example.com');
      const cert = new X509Certificate(pair.certPem);
      assert.equal(cert.subjectAltName, 'DNS:db.example.com');
      assert.equal(cert.subject, 'CN=pgscope db.example.com');
      assert.equal(cert.issuer, cert.subject);
      assert.equal(cert.ca, false);
      assert.ok(cert.checkPrivateKey(createPrivateKey(pair.keyPem)));
      assert.ok(cert.verify(cert.publicKey), 'self-signed');
      assert.match(pair.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
      if (sig === 'rsa') {
        assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
        assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
      } else {
        assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
        assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      }
      // Validity: a day back, a year ahead (to the second: X.509 times have no milliseconds).
      assert.ok(Math.abs(parseDate(cert.validFrom) - (before - DAY)) < 60_000, cert.validFrom);
      assert.ok(Math.abs(parseDate(cert.validTo) - (before + 365 * DAY)) < 60_000, cert.validTo);
      // Serial: 16 bytes, positive (top bit clear), no leading zero byte.
      assert.match(cert.serialNumber, /^[4-7][0-9A-F]{31}$/);
      assert.ok(cert.checkHost('db.example.com'));
      assert.equal(cert.checkHost('other.example.com'), undefined);
    });

    it('uses an IP address SAN for IP literals (v4 and v6)', async () => {
      const v4 = new X509Certificate((await certs.forName('10.1.2.3')).certPem);
      assert.equal(v4.subjectAltName, 'IP Address:10.1.2.3');
      assert.equal(v4.checkIP('10.1.2.3'), '10.1.2.3');
      const v6 = new X509Certificate((await certs.forName('fd00::1')).certPem);
      assert.equal(v6.subjectAltName, 'IP Address:FD00:0:0:0:0:0:0:1');
      assert.equal(v6.checkIP('fd00::1'), 'fd00::1');
    });

    it('keeps the CN within 64 characters for long names (the SAN has the whole name)', async () => {
      const long = `${'x'.repeat(60)}.example.com`;
      const cert = new X509Certificate((await certs.forName(long)).certPem);
      assert.equal(cert.subject, `CN=pgscope ${'x'.repeat(53)}...`);
      assert.equal(cert.subjectAltName, `DNS:${long}`);
    });

    it('names localhost, 127.0.0.1 and ::1 when the client sent no SNI', async () => {
      const pair = await certs.forName(null);
      const cert = new X509Certificate(pair.certPem);
      assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      assert.equal((await certs.forName('')).certPem, pair.certPem);
      assert.equal((await certs.forName('LocalHost')).certPem, pair.certPem);
    });

    it('uses one key for every name, and caches per name case-insensitively', async () => {
      const a = await certs.forName('a.example');
      const b = await certs.forName('b.example');
      assert.notEqual(a.certPem, b.certPem);
      assert.equal(a.keyPem, b.keyPem);
      assert.equal(spki(a.certPem), spki(b.certPem));
      const again = await certs.forName('A.Example');
      assert.equal(again.certPem, a.certPem);
      // Concurrent first requests share one generation.
      const [x, y] = await Promise.all([certs.forName('c.example'), certs.forName('C.EXAMPLE')]);
      assert.equal(x, y);
      // Another instance has its own key.
      const other = await new GeneratedCertificates(sig).forName('a.example');
      assert.notEqual(spki(other.certPem), spki(a.certPem));
    });

    it('completes a real TLS handshake that verifies for the name and only that name', async () => {
      const pair = await certs.forName('db.example.com');
      const server = await startTlsServer({ cert: pair.certPem, key: pair.keyPem });
      try {
        const ok = await connectTls(server.port, { ca: pair.certPem, servername: 'db.example.com' });
        assert.equal(ok.authorized, true);
        assert.equal(tls.checkServerIdentity('db.example.com', ok.getPeerCertificate()), undefined);
        ok.destroy();
        await assert.rejects(connectTls(server.port, { ca: pair.certPem, servername: 'other.example.com' }), (err: NodeJS.ErrnoException) => {
          assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
          return true;
        });
      } finally {
        await server.close();
      }
    });

    it('verifies by IP address for the default certificate (no SNI)', async () => {
      const pair = await certs.forName(null);
      const server = await startTlsServer({ cert: pair.certPem, key: pair.keyPem });
      try {
        // host 127.0.0.1 and no servername: Node checks the IP SAN.
        const s = await connectTls(server.port, { ca: pair.certPem });
        assert.equal(s.authorized, true);
        s.destroy();
      } finally {
        await server.close();
      }
    });
  });
}

describe('GeneratedCertificates timing (informational, not asserted)', () => {
  it('measures RSA warmUp and forName', async (t) => {
    const certs = new GeneratedCertificates('rsa');
    let t0 = performance.now();
    await certs.warmUp();
    const warm = performance.now() - t0;
    t0 = performance.now();
    await certs.forName('first.example');
    const first = performance.now() - t0;
    t0 = performance.now();
    await certs.forName('second.example');
    const second = performance.now() - t0;
    t0 = performance.now();
    await certs.forName('second.example');
    const cached = performance.now() - t0;
    t.diagnostic(`RSA warmUp ${warm.toFixed(1)} ms; forName new name ${first.toFixed(1)} ms, another ${second.toFixed(1)} ms, cached ${cached.toFixed(3)} ms`);
  });

  it('rejects an unknown signature type', () => {
    assert.throws(() => new GeneratedCertificates('dsa' as CertSig), TlsSetupError);
  });
});

describe('loadCertificatePair', () => {
  let tmp: TempDir;
  before(() => {
    tmp = new TempDir();
  });
  after(() => tmp.remove());

  async function handshakeWith(pair: { certPem: string; keyPem: string }, name: string): Promise<void> {
    const server = await startTlsServer({ cert: pair.certPem, key: pair.keyPem });
    try {
      const s = await connectTls(server.port, { ca: pair.certPem, servername: name });
      assert.equal(s.authorized, true);
      s.destroy();
    } finally {
      await server.close();
    }
  }

  it('loads RSA (PKCS#8 and PKCS#1) pairs', async () => {
    const { cert, key } = tmp.selfSigned('rsa', ['-newkey', 'rsa:2048'], { san: 'DNS:rsa.test' });
    const pair = loadCertificatePair(cert, key);
    assert.equal(new X509Certificate(pair.certPem).subjectAltName, 'DNS:rsa.test');
    assert.match(pair.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    await handshakeWith(pair, 'rsa.test');

    const pkcs1 = tmp.path('rsa-pkcs1.key');
    tmp.openssl('pkey', '-in', key, '-traditional', '-out', pkcs1);
    assert.match(readFileSync(pkcs1, 'utf8'), /BEGIN RSA PRIVATE KEY/);
    assert.equal(loadCertificatePair(cert, pkcs1).keyPem, pair.keyPem);
  });

  it('loads an EC pair whose key file is SEC1 with an EC PARAMETERS block', async () => {
    const key = tmp.path('ec.key');
    tmp.openssl('ecparam', '-genkey', '-name', 'prime256v1', '-out', key);
    assert.match(readFileSync(key, 'utf8'), /BEGIN EC PARAMETERS[\s\S]*BEGIN EC PRIVATE KEY/);
    const cert = tmp.path('ec.crt');
    tmp.openssl('req', '-x509', '-key', key, '-out', cert, '-subj', '/CN=ec', '-days', '2', '-addext', 'subjectAltName=DNS:ec.test');
    const pair = loadCertificatePair(cert, key);
    assert.equal(createPrivateKey(pair.keyPem).asymmetricKeyType, 'ec');
    await handshakeWith(pair, 'ec.test');
  });

  it('loads an Ed25519 pair', async () => {
    const { cert, key } = tmp.selfSigned('ed', ['-newkey', 'ed25519'], { san: 'DNS:ed.test' });
    const pair = loadCertificatePair(cert, key);
    assert.equal(createPrivateKey(pair.keyPem).asymmetricKeyType, 'ed25519');
    await handshakeWith(pair, 'ed.test');
  });

  it('loads DER files', () => {
    const { cert, key } = tmp.selfSigned('der', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const derCert = tmp.path('der.cer');
    const derKey = tmp.path('der.key.der');
    tmp.openssl('x509', '-in', cert, '-outform', 'DER', '-out', derCert);
    tmp.openssl('pkey', '-in', key, '-outform', 'DER', '-out', derKey);
    const pair = loadCertificatePair(derCert, derKey);
    assert.equal(new X509Certificate(pair.certPem).fingerprint256, new X509Certificate(readFileSync(cert)).fingerprint256);
  });

  it('keeps the whole chain, leaf first, dropping other text', () => {
    const { caCert, cert, key } = tmp.caAndLeaf('chain', 'DNS:chain.test');
    const bundle = tmp.write('bundle.pem', `Bag Attributes: junk\n${readFileSync(cert, 'utf8')}\n# comment\n${readFileSync(caCert, 'utf8')}`);
    const pair = loadCertificatePair(bundle, key);
    const blocks = pair.certPem.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    assert.equal(blocks.length, 2);
    assert.ok(!pair.certPem.includes('junk') && !pair.certPem.includes('comment'));
    assert.equal(new X509Certificate(pair.certPem).subjectAltName, 'DNS:chain.test');
  });

  it('refuses a key that does not belong to the certificate, naming both files', () => {
    const rsa = tmp.selfSigned('mis-rsa', ['-newkey', 'rsa:2048']);
    const ec = tmp.selfSigned('mis-ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    assert.throws(() => loadCertificatePair(rsa.cert, ec.key), (err: Error) => {
      assert.ok(err instanceof TlsSetupError);
      assert.ok(err.message.includes(rsa.cert) && err.message.includes(ec.key), err.message);
      assert.match(err.message, /does not match/);
      return true;
    });
  });

  it('refuses missing files, naming them', () => {
    const ok = tmp.selfSigned('missing', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const nope = tmp.path('nope.pem');
    assert.throws(() => loadCertificatePair(nope, ok.key), (err: Error) => err instanceof TlsSetupError && err.message === `--client-ssl-cert file "${nope}" does not exist`);
    assert.throws(() => loadCertificatePair(ok.cert, nope), (err: Error) => err instanceof TlsSetupError && err.message === `--client-ssl-key file "${nope}" does not exist`);
    assert.throws(() => loadCertificatePair(tmp.dir, ok.key), (err: Error) => err instanceof TlsSetupError && err.message.includes(tmp.dir));
  });

  it('refuses an encrypted key clearly', () => {
    const { cert, key } = tmp.selfSigned('enc', ['-newkey', 'rsa:2048']);
    const enc8 = tmp.path('enc-pkcs8.key');
    tmp.openssl('pkey', '-in', key, '-aes256', '-passout', 'pass:secret', '-out', enc8);
    const enc1 = tmp.path('enc-pkcs1.key');
    tmp.openssl('pkey', '-in', key, '-traditional', '-aes256', '-passout', 'pass:secret', '-out', enc1);
    for (const k of [enc8, enc1]) {
      assert.throws(() => loadCertificatePair(cert, k), (err: Error) => {
        assert.ok(err instanceof TlsSetupError);
        assert.match(err.message, /is encrypted/);
        assert.ok(err.message.includes(k));
        return true;
      });
    }
  });

  it('refuses files of the wrong kind', () => {
    const { cert, key } = tmp.selfSigned('kind', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    assert.throws(() => loadCertificatePair(key, key), /no certificate found in ".*kind\.key"/);
    assert.throws(() => loadCertificatePair(cert, cert), /no private key found in ".*kind\.crt"/);
    const junk = tmp.write('junk.bin', Buffer.from('not a certificate at all'));
    assert.throws(() => loadCertificatePair(junk, key), (err: Error) => err instanceof TlsSetupError && err.message.includes(junk));
    assert.throws(() => loadCertificatePair(cert, junk), (err: Error) => err instanceof TlsSetupError && err.message.includes(junk));
  });
});
