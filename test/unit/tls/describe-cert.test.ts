import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { GeneratedCertificates } from '../../../src/tls/certificates.js';
import { describeCertificate, signatureHashForChannelBinding } from '../../../src/tls/describe-cert.js';
import { connectTls, startTlsServer, TempDir } from './tls-helpers.js';

describe('describeCertificate', () => {
  let tmp: TempDir;
  before(() => {
    tmp = new TempDir();
  });
  after(() => tmp.remove());

  it('describes a generated RSA certificate, field by field', async () => {
    const pair = await new GeneratedCertificates('rsa').forName('db.example.com');
    const x = new X509Certificate(pair.certPem);
    const lines = describeCertificate(pair.certPem);
    assert.equal(lines[0], 'subject: CN=pgscope db.example.com');
    assert.equal(lines[1], 'issuer: CN=pgscope db.example.com (self-issued)');
    assert.equal(lines[2], 'subjectAltName: DNS:db.example.com');
    assert.match(lines[3]!, /^valid: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    assert.equal(lines[3], `valid: ${new Date(Date.parse(x.validFrom)).toISOString()} to ${new Date(Date.parse(x.validTo)).toISOString()}`);
    assert.equal(lines[4], `serial: ${x.serialNumber.match(/../g)!.join(':')}`);
    assert.equal(lines[5], 'signature algorithm: RSA PKCS#1 v1.5 with SHA-256');
    assert.equal(lines[6], 'public key: RSA 2048 bits');
    assert.equal(lines[7], `SHA-256 fingerprint: ${x.fingerprint256}`);
    assert.equal(lines.length, 8);
  });

  it('describes a generated ECDSA certificate', async () => {
    const pair = await new GeneratedCertificates('ecdsa').forName(null);
    const lines = describeCertificate(pair.certPem);
    assert.ok(lines.includes('signature algorithm: ECDSA with SHA-256'), lines.join('\n'));
    assert.ok(lines.includes('public key: EC P-256 (256 bits)'), lines.join('\n'));
    assert.ok(lines.includes('subjectAltName: DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'));
  });

  it('gives the same lines for PEM text, PEM and DER buffers, X509Certificate and a peer certificate', async () => {
    const pair = await new GeneratedCertificates('ecdsa').forName('same.example');
    const x = new X509Certificate(pair.certPem);
    const expected = describeCertificate(pair.certPem);
    assert.deepEqual(describeCertificate(Buffer.from(pair.certPem)), expected);
    assert.deepEqual(describeCertificate(x.raw), expected);
    assert.deepEqual(describeCertificate(x), expected);
    const server = await startTlsServer({ cert: pair.certPem, key: pair.keyPem });
    try {
      const s = await connectTls(server.port, { rejectUnauthorized: false, servername: 'same.example' });
      assert.deepEqual(describeCertificate(s.getPeerCertificate()), expected);
      s.destroy();
    } finally {
      await server.close();
    }
  });

  it('describes certificates made by openssl: CA, subject with several attributes, other key types', () => {
    const rsa = tmp.selfSigned('multi', ['-newkey', 'rsa:3072'], { cn: 'multi/O=Example Org/C=DE', digest: 'sha512' });
    const lines = describeCertificate(readFileSync(rsa.cert, 'utf8'));
    assert.equal(lines[0], 'subject: CN=multi, O=Example Org, C=DE');
    assert.equal(lines[2], 'subjectAltName: (none)');
    assert.ok(lines.includes('signature algorithm: RSA PKCS#1 v1.5 with SHA-512'));
    assert.ok(lines.includes('public key: RSA 3072 bits'));
    assert.ok(lines.includes('CA: yes'), 'openssl req -x509 makes CA certificates');

    const ed = tmp.selfSigned('ed', ['-newkey', 'ed25519']);
    const edLines = describeCertificate(readFileSync(ed.cert));
    assert.ok(edLines.includes('signature algorithm: Ed25519'), edLines.join('\n'));
    assert.ok(edLines.includes('public key: Ed25519 (256 bits)'));

    const p384 = tmp.selfSigned('p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], { digest: 'sha384' });
    const pLines = describeCertificate(readFileSync(p384.cert));
    assert.ok(pLines.includes('signature algorithm: ECDSA with SHA-384'), pLines.join('\n'));
    assert.ok(pLines.includes('public key: EC P-384 (384 bits)'));
  });

  it('flags expired and not-yet-valid certificates', async () => {
    const pem = (await new GeneratedCertificates('ecdsa').forName('when.example')).certPem;
    const valid = describeCertificate(pem)[3]!;
    assert.ok(!valid.includes('EXPIRED') && !valid.includes('NOT YET'));
    assert.match(describeCertificate(pem, new Date(Date.now() + 2 * 365 * 86400_000))[3]!, / \(EXPIRED\)$/);
    assert.match(describeCertificate(pem, new Date(Date.now() - 2 * 86400_000))[3]!, / \(NOT YET VALID\)$/);
  });
});

describe('signatureHashForChannelBinding', () => {
  let tmp: TempDir;
  before(() => {
    tmp = new TempDir();
  });
  after(() => tmp.remove());

  const cert = (path: string): X509Certificate => new X509Certificate(readFileSync(path));

  it('RSA with SHA-256 → sha256', () => {
    const { cert: p } = tmp.selfSigned('rsa256', ['-newkey', 'rsa:2048'], { digest: 'sha256' });
    assert.equal(signatureHashForChannelBinding(cert(p)), 'sha256');
    assert.equal(signatureHashForChannelBinding(cert(p).raw), 'sha256');
  });

  it('ECDSA with SHA-384 → sha384', () => {
    const { cert: p } = tmp.selfSigned('ec384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], { digest: 'sha384' });
    assert.equal(signatureHashForChannelBinding(cert(p)), 'sha384');
  });

  it('RSA with SHA-512 → sha512', () => {
    const { cert: p } = tmp.selfSigned('rsa512', ['-newkey', 'rsa:2048'], { digest: 'sha512' });
    assert.equal(signatureHashForChannelBinding(cert(p)), 'sha512');
  });

  it('RSA with SHA-1 → sha256 (RFC 5929)', () => {
    const { cert: p } = tmp.selfSigned('rsa1', ['-newkey', 'rsa:2048'], { digest: 'sha1' });
    assert.match(describeCertificate(cert(p)).join('\n'), /signature algorithm: RSA PKCS#1 v1\.5 with SHA-1/);
    assert.equal(signatureHashForChannelBinding(cert(p)), 'sha256');
  });

  it('RSA with MD5 → sha256 (RFC 5929)', () => {
    // OpenSSL may refuse to sign with MD5, so take a real SHA-1 certificate and rewrite its
    // signature algorithm OID (sha1WithRSAEncryption 1.2.840.113549.1.1.5 → md5WithRSAEncryption
    // …1.1.4, same length): parsing does not check the signature, which is all this needs.
    const { cert: p } = tmp.selfSigned('md5', ['-newkey', 'rsa:2048'], { digest: 'sha1' });
    const der = Buffer.from(readFileSync(p, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const sha1 = Buffer.from('06092a864886f70d010105', 'hex');
    const md5 = Buffer.from('06092a864886f70d010104', 'hex');
    let n = 0;
    for (let i = der.indexOf(sha1); i !== -1; i = der.indexOf(sha1, i + 1)) {
      md5.copy(der, i);
      n++;
    }
    assert.equal(n, 2, 'the OID appears in tbsCertificate.signature and signatureAlgorithm');
    assert.match(describeCertificate(der).join('\n'), /signature algorithm: md5WithRSAEncryption/);
    assert.equal(signatureHashForChannelBinding(der), 'sha256');
  });

  it('RSA-PSS uses the hash in its parameters', () => {
    const { cert: p } = tmp.selfSigned('pss', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'], { digest: 'sha384' });
    assert.equal(signatureHashForChannelBinding(cert(p)), 'sha384');
  });

  it('generated certificates → sha256', async () => {
    for (const sig of ['rsa', 'ecdsa'] as const) {
      const pem = (await new GeneratedCertificates(sig).forName(null)).certPem;
      assert.equal(signatureHashForChannelBinding(new X509Certificate(pem)), 'sha256');
    }
  });

  it('throws for Ed25519 (no hash to use)', () => {
    const { cert: p } = tmp.selfSigned('ed', ['-newkey', 'ed25519']);
    assert.throws(() => signatureHashForChannelBinding(cert(p)), /channel binding is not possible with a certificate signed with Ed25519/);
  });
});
