/**
 * Leaf certificates issued by the local CA (LocalCa.issue): they chain to the CA (Node's
 * and OpenSSL's verifiers), name the host (DNS or IP SAN), carry a server certificate's
 * extensions, are cached per name, and pass a real TLS handshake with host-name checking
 * through ClientTlsContexts({ kind: 'ca' }).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { ClientTlsContexts } from '../../../src/net/client-tls.js';
import { LocalCa } from '../../../src/tls/local-ca.js';
import { connectTls, endTls, startTlsServer, TempDir, type LoopbackTlsServer } from './tls-helpers.js';

const DAY = 86_400_000;
const tmp = new TempDir();
let ca: LocalCa;
let caCert: X509Certificate;

before(async () => {
  ca = (await LocalCa.open(join(tmp.dir, 'ca'))).ca;
  caCert = ca.certificate;
});
after(() => tmp.remove());

/** The PEM blocks of a chain, parsed. */
function chain(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
}

describe('LocalCa.issue', () => {
  it('a DNS name: leaf then CA certificate, signed by the CA, SAN = the name, key matches', async () => {
    const pair = await ca.issue('db.example.com');
    const [leaf, second, ...rest] = chain(pair.certPem);
    assert.ok(leaf && second);
    assert.equal(rest.length, 0);
    assert.equal(second.fingerprint256, caCert.fingerprint256, 'the CA certificate follows the leaf');
    assert.ok(leaf.checkIssued(caCert), 'issuer matches the CA subject');
    assert.ok(leaf.verify(caCert.publicKey), 'signature by the CA key');
    assert.equal(leaf.verify(leaf.publicKey), false, 'not self-signed');
    assert.equal(leaf.ca, false);
    assert.equal(leaf.subjectAltName, 'DNS:db.example.com');
    assert.equal(leaf.subject, 'CN=pgscope db.example.com');
    assert.ok(leaf.checkHost('db.example.com'));
    assert.equal(leaf.checkHost('other.example.com'), undefined);
    assert.ok(leaf.checkPrivateKey(createPrivateKey(pair.keyPem)));
  });

  it('IP literals get an IP address SAN (what libpq verify-full wants for an IP host)', async () => {
    const v4 = chain((await ca.issue('10.1.2.3')).certPem)[0]!;
    assert.equal(v4.subjectAltName, 'IP Address:10.1.2.3');
    assert.equal(v4.checkIP('10.1.2.3'), '10.1.2.3');
    const v6 = chain((await ca.issue('fd00::1')).certPem)[0]!;
    assert.equal(v6.checkIP('fd00::1'), 'fd00::1');
    assert.ok(v6.checkIssued(caCert) && v6.verify(caCert.publicKey));
  });

  it('no SNI (null or empty) → localhost, which also names 127.0.0.1 and ::1', async () => {
    const pair = await ca.issue(null);
    const leaf = chain(pair.certPem)[0]!;
    assert.equal(leaf.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(await ca.issue(''), pair);
    assert.equal(await ca.issue('localhost'), pair);
  });

  it('caches per name, case-insensitively; one leaf key for every name', async () => {
    const a = await ca.issue('Cache.Example');
    assert.equal(await ca.issue('cache.example'), a);
    assert.equal(await ca.issue('CACHE.EXAMPLE'), a);
    const other = await ca.issue('other.example');
    assert.notEqual(other, a);
    assert.equal(other.keyPem, a.keyPem);
    assert.equal(chain(a.certPem)[0]!.subjectAltName, 'DNS:cache.example');
  });

  it("has a server certificate's extensions, the CA's key id, a validity within 397 days", async () => {
    const before = Date.now();
    const pair = await ca.issue('ext.example');
    const leafPem = pair.certPem.slice(0, pair.certPem.indexOf('-----END CERTIFICATE-----') + 26);
    const leafFile = tmp.write('ext-leaf.pem', leafPem);
    const text = tmp.openssl('x509', '-in', leafFile, '-noout', '-text');
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
    const caText = tmp.openssl('x509', '-in', ca.certPath, '-noout', '-text');
    const ski = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(caText)?.[1];
    assert.ok(ski, caText);
    assert.match(text, new RegExp(`Authority Key Identifier: \\n\\s+(keyid:)?${ski}\\n`));
    const leaf = chain(pair.certPem)[0]!;
    const from = Date.parse(leaf.validFrom);
    const to = Date.parse(leaf.validTo);
    assert.ok(Math.abs(from - (before - DAY)) < 60_000, leaf.validFrom);
    assert.ok(to - from <= 397 * DAY, `${leaf.validFrom} .. ${leaf.validTo}`);
    assert.ok(to > before + 300 * DAY, leaf.validTo);
  });

  it('OpenSSL verifies the chain strictly for TLS server use, with the CA file as the only root', async () => {
    await ca.issue('strict.example');
    const leafPem = (await ca.issue('strict.example')).certPem;
    const leafFile = tmp.write('strict-leaf.pem', leafPem.slice(0, leafPem.indexOf('-----END CERTIFICATE-----') + 26));
    const out = tmp.openssl('verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'strict.example', '-CAfile', ca.certPath, leafFile);
    assert.match(out, /: OK\n$/);
    // And not for another name: the check can fail.
    assert.throws(() => tmp.openssl('verify', '-purpose', 'sslserver', '-verify_hostname', 'other.example', '-CAfile', ca.certPath, leafFile), /hostname mismatch/);
  });
});

describe("ClientTlsContexts({ kind: 'ca' }): a TLS client that trusts only the CA", () => {
  let server: LoopbackTlsServer;
  before(async () => {
    const contexts = new ClientTlsContexts({ kind: 'ca', ca });
    await contexts.prepare();
    server = await startTlsServer({
      SNICallback: (name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => {
        contexts.contextFor(name).then((ctx) => cb(null, ctx), (err: Error) => cb(err));
      },
      // tls.createServer takes no ready-made context for the no-SNI case: the same pair.
      cert: (await ca.issue(null)).certPem,
      key: (await ca.issue(null)).keyPem,
    });
  });
  after(() => server.close());

  const caPem = (): string => ca.certificate.toString();

  it('verifies the certificate for the SNI name it sent', async () => {
    const s = await connectTls(server.port, { servername: 'db.sni.example', ca: caPem() });
    assert.equal(s.authorized, true);
    assert.equal(s.getPeerCertificate().subjectaltname, 'DNS:db.sni.example');
    await endTls(s);
  });

  it('verifies 127.0.0.1 without SNI (the default certificate)', async () => {
    // Node sends no SNI for an IP host; checkServerIdentity then wants an IP SAN.
    const s = await connectTls(server.port, { ca: caPem() });
    assert.equal(s.authorized, true);
    await endTls(s);
  });

  it('fails verification against another root', async () => {
    const other = tmp.selfSigned('other-root', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    await assert.rejects(connectTls(server.port, { servername: 'db.sni.example', ca: readFileSync(other.cert) }), /unable to get local issuer certificate|self.signed/i);
  });
});
