/**
 * The local CA's folder and files (src/tls/local-ca.ts, local-ca-files.ts): creation with
 * owner-only modes, loading the same CA again, two processes creating it at once, and every
 * refusal (wide permissions, symlinks, corrupt or mismatched files) with a message that
 * says how to fix it.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { TlsSetupError } from '../../../src/tls/errors.js';
import { CA_CERT_FILE, CA_KEY_FILE, defaultCaDir, LocalCa } from '../../../src/tls/local-ca.js';
import { TempDir } from './tls-helpers.js';

const tmp = new TempDir();
after(() => tmp.remove());

let n = 0;
/** A fresh, not yet existing CA folder (two levels down, so that parents get created too). */
function freshDir(): string {
  return join(tmp.dir, `case-${++n}`, 'ca');
}

const mode = (p: string): number => statSync(p).mode & 0o777;

async function refused(dir: string, re: RegExp): Promise<void> {
  await assert.rejects(LocalCa.open(dir), (err: unknown) => {
    assert.ok(err instanceof TlsSetupError, `expected a TlsSetupError, got ${String(err)}`);
    assert.match(err.message, re);
    return true;
  });
}

describe('defaultCaDir', () => {
  it('uses $XDG_DATA_HOME when it is absolute, else ~/.local/share', () => {
    assert.equal(defaultCaDir({ XDG_DATA_HOME: '/xdg/data', HOME: '/home/u' }), '/xdg/data/pgscope/ca');
    // XDG: a relative value is invalid and must be ignored.
    assert.equal(defaultCaDir({ XDG_DATA_HOME: 'rel/data', HOME: '/home/u' }), '/home/u/.local/share/pgscope/ca');
    assert.equal(defaultCaDir({ HOME: '/home/u' }), '/home/u/.local/share/pgscope/ca');
  });
});

describe('LocalCa.open', () => {
  it('creates the folder 0700, the key 0600 and a CA certificate on first use; re-opening loads the same CA', async () => {
    const dir = freshDir();
    const first = await LocalCa.open(dir);
    assert.equal(first.created, true);
    const ca = first.ca;
    assert.equal(ca.dir, dir);
    assert.equal(ca.certPath, join(dir, CA_CERT_FILE));
    assert.equal(ca.keyPath, join(dir, CA_KEY_FILE));
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(dir, '..')), 0o700, 'a parent pgscope created is owner-only too');
    assert.equal(mode(ca.keyPath), 0o600);
    assert.deepEqual(readdirSync(dir).sort(), [CA_CERT_FILE, CA_KEY_FILE], 'no temporary files left behind');

    const cert = new X509Certificate(readFileSync(ca.certPath));
    assert.equal(cert.ca, true);
    assert.match(cert.subject, /^CN=pgscope local CA \(.+@.+\)$/);
    assert.equal(cert.issuer, cert.subject);
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(ca.certificate.fingerprint256, cert.fingerprint256);

    const again = await LocalCa.open(dir);
    assert.equal(again.created, false);
    assert.equal(again.ca.certificate.fingerprint256, cert.fingerprint256);
  });

  it('has the CA extensions and ten years of validity, back-dated a day', async () => {
    const before = Date.now();
    const { ca } = await LocalCa.open(freshDir());
    const text = tmp.openssl('x509', '-in', ca.certPath, '-noout', '-text');
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
    assert.match(text, /X509v3 Subject Key Identifier:/);
    const from = Date.parse(ca.certificate.validFrom);
    const to = Date.parse(ca.certificate.validTo);
    assert.ok(Math.abs(from - (before - 86_400_000)) < 60_000, ca.certificate.validFrom);
    const tenYears = new Date(before);
    tenYears.setUTCFullYear(tenYears.getUTCFullYear() + 10);
    assert.ok(Math.abs(to - tenYears.getTime()) < 60_000, ca.certificate.validTo);
  });

  it('resolves a relative folder to an absolute path', async () => {
    const dir = freshDir();
    const { ca } = await LocalCa.open(relative(process.cwd(), dir));
    assert.equal(ca.dir, dir);
    assert.equal(ca.certPath, join(dir, CA_CERT_FILE));
  });

  it('two pgscopes creating the CA at the same moment end up with one CA', async () => {
    const dir = freshDir();
    const results = await Promise.all([LocalCa.open(dir), LocalCa.open(dir), LocalCa.open(dir)]);
    assert.equal(results.filter((r) => r.created).length, 1, 'exactly one creator');
    const prints = new Set(results.map((r) => r.ca.certificate.fingerprint256));
    assert.equal(prints.size, 1);
    assert.deepEqual(readdirSync(dir).sort(), [CA_CERT_FILE, CA_KEY_FILE]);
  });

  it('refuses a folder others can read (and says chmod 700)', async () => {
    const dir = freshDir();
    await LocalCa.open(dir);
    chmodSync(dir, 0o750);
    await refused(dir, /permissions 0750.*chmod 700 /);
  });

  it('refuses a group-readable key like ssh does (and says chmod 600)', async () => {
    const dir = freshDir();
    const { ca } = await LocalCa.open(dir);
    chmodSync(ca.keyPath, 0o640);
    await refused(dir, /the CA key ".*pgscope-ca\.key" has permissions 0640.*chmod 600 /);
  });

  it('refuses a symlinked key, even to a good key', async () => {
    const dir = freshDir();
    const { ca } = await LocalCa.open(dir);
    const elsewhere = join(tmp.dir, `moved-key-${n}`);
    renameSync(ca.keyPath, elsewhere);
    symlinkSync(elsewhere, ca.keyPath);
    await refused(dir, /the CA key ".*" is a symbolic link/);
  });

  it('refuses a dangling symlink where the key would be created, writing nothing through it', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const target = join(tmp.dir, `planted-${n}`);
    symlinkSync(target, join(dir, CA_KEY_FILE));
    await refused(dir, /is a symbolic link/);
    assert.equal(existsSync(target), false, 'nothing written where the link points');
  });

  it('refuses a symlinked folder', async () => {
    const real = freshDir();
    await LocalCa.open(real);
    const link = join(tmp.dir, `link-${n}`);
    symlinkSync(real, link);
    await refused(link, /the CA folder ".*" is a symbolic link/);
  });

  it('refuses a folder that is a file', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, '..'), { recursive: true });
    writeFileSync(dir, 'not a folder');
    await refused(dir, /exists but is not a directory/);
  });

  it('refuses a corrupt certificate or key, saying how to start over', async () => {
    const dir1 = freshDir();
    const a = await LocalCa.open(dir1);
    writeFileSync(a.ca.certPath, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    await refused(dir1, /the CA certificate ".*" cannot be read .*remove .*pgscope-ca\.key and .*pgscope-ca\.crt to make a new CA/);

    const dir2 = freshDir();
    const b = await LocalCa.open(dir2);
    writeFileSync(b.ca.keyPath, 'garbage');
    await refused(dir2, /the CA key ".*" cannot be read/);
  });

  it('refuses a certificate that is not a CA', async () => {
    const dir = freshDir();
    const { ca } = await LocalCa.open(dir);
    // A leaf signed by this CA, with the leaf key in the key file: they match, but it is no CA.
    const leaf = await ca.issue('db.test');
    writeFileSync(ca.certPath, leaf.certPem.slice(0, leaf.certPem.indexOf('-----END CERTIFICATE-----') + 26));
    writeFileSync(ca.keyPath, leaf.keyPem);
    await refused(dir, /is not a CA certificate/);
  });

  it('refuses a key that does not belong to the certificate (after waiting for a racing creator)', async () => {
    const dirA = freshDir();
    const dirB = freshDir();
    const a = await LocalCa.open(dirA);
    const b = await LocalCa.open(dirB);
    writeFileSync(a.ca.keyPath, readFileSync(b.ca.keyPath));
    const t0 = Date.now();
    await refused(dirA, /does not belong to the certificate/);
    assert.ok(Date.now() - t0 >= 2500, 'waited for a creator between publishing the key and the certificate');
  });

  it('a key without its certificate is an error once the wait is over', async () => {
    const dir = freshDir();
    const { ca } = await LocalCa.open(dir);
    unlinkSync(ca.certPath);
    await refused(dir, /exists but its certificate ".*" does not/);
  });

  it('a certificate without its key: a new CA replaces both', async () => {
    const dir = freshDir();
    const first = await LocalCa.open(dir);
    unlinkSync(first.ca.keyPath);
    const second = await LocalCa.open(dir);
    assert.equal(second.created, true);
    assert.notEqual(second.ca.certificate.fingerprint256, first.ca.certificate.fingerprint256);
    assert.equal(new X509Certificate(readFileSync(second.ca.certPath)).fingerprint256, second.ca.certificate.fingerprint256);
  });
});
