/**
 * pgscope's local certificate authority (--client-ca): a CA made once per user and kept in
 * a folder of its own, which signs a leaf certificate for every host name a client asks for
 * (SNI). A client that trusts the CA file (sslrootcert=…) can then use sslmode=verify-full
 * through pgscope, for any name, without trusting each generated certificate by hand.
 *
 * The CA key is ECDSA P-256 rather than RSA-2048: generated instantly, about 128-bit
 * security (RSA-2048 gives 112) for a key meant to last ten years, and supported by every
 * OpenSSL libpq links against. Leaves use one ECDSA P-256 key per process (made once, so a
 * new name costs only a signature).
 *
 * The file rules (owner-only folder and key, no symlinks, one winner when two pgscopes
 * create the CA together) are in local-ca-files.ts.
 */
import { createPrivateKey, KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { hostname, homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  commonName,
  DAY_MS,
  fitCommonName,
  generateKey,
  normaliseName,
  randomSerial,
  serverKeyUsage,
  subjectAltNames,
  type CertPair,
  type CryptoKeyPairLike,
  type KeyMaterial,
  type PublicKeyLike,
} from './certificates.js';
import { TlsSetupError } from './errors.js';
import { ensureCaDir, existsNoFollow, publishCaFiles, readCaFile } from './local-ca-files.js';
import { x509 } from './x509.js';

export const CA_CERT_FILE = 'pgscope-ca.crt';
export const CA_KEY_FILE = 'pgscope-ca.key';

/** Leaf lifetime: within the 398 days browsers and Apple's TLS stack accept. */
const LEAF_DAYS = 365;
const CA_YEARS = 10;
/** Leaves kept per process: a client cycling through names must not grow memory without bound. */
const MAX_LEAVES = 1000;
/** How long a loser of the creation race waits for the winner's certificate to appear. */
const RACE_WAIT_MS = 3000;

/** $XDG_DATA_HOME/pgscope/ca, else ~/.local/share/pgscope/ca (XDG ignores a relative $XDG_DATA_HOME). */
export function defaultCaDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'pgscope', 'ca');
  return join(env['HOME'] || homedir(), '.local', 'share', 'pgscope', 'ca');
}

/** What signing needs from the CA, loaded or freshly made. */
interface CaMaterial {
  certificate: X509Certificate;
  certPem: string;
  /** The CA's subject, as encoded in its certificate (copied verbatim into each leaf's issuer). */
  subject: x509.Name;
  /** Its subjectKeyIdentifier, which each leaf names as authorityKeyIdentifier. */
  keyId: string;
  signingKey: webcrypto.CryptoKey;
  signingAlgorithm: KeyMaterial['signingAlgorithm'];
}

// The DOM CryptoKey type @peculiar/x509 declares (see CryptoKeyPairLike in certificates.ts).
type SigningKeyLike = Extract<Parameters<typeof x509.X509CertificateGenerator.create>[0], { signingKey: unknown }>['signingKey'];

/** Why loading failed in a way a racing creator could explain (retried for a moment). */
class NotReadyYet extends TlsSetupError {}

export class LocalCa {
  readonly #ca: CaMaterial;
  #leafKey: Promise<KeyMaterial> | null = null;
  readonly #leaves = new Map<string, Promise<CertPair>>();

  private constructor(
    readonly dir: string,
    readonly certPath: string,
    readonly keyPath: string,
    ca: CaMaterial,
  ) {
    this.#ca = ca;
  }

  /** The CA certificate (subject, fingerprint256, validity: for `pgscope ca`). */
  get certificate(): X509Certificate {
    return this.#ca.certificate;
  }

  /**
   * Load the CA from `dir` (null: defaultCaDir()), creating folder (0700), key (0600) and
   * certificate on first use. A TlsSetupError saying how to fix it when the folder or the
   * files are unusable: too wide permissions, someone else's, a symlink, corrupt, a key
   * that does not match the certificate, an expired CA.
   */
  static async open(dir: string | null): Promise<{ ca: LocalCa; created: boolean }> {
    const abs = resolve(dir ?? defaultCaDir());
    ensureCaDir(abs);
    const certPath = join(abs, CA_CERT_FILE);
    const keyPath = join(abs, CA_KEY_FILE);
    let created = false;
    if (!existsNoFollow(keyPath)) {
      const fresh = await createCa();
      created = publishCaFiles(abs, keyPath, fresh.keyPem, certPath, fresh.certPem);
    }
    const material = await loadWaitingForCreator(certPath, keyPath);
    return { ca: new LocalCa(abs, certPath, keyPath, material), created };
  }

  /**
   * A leaf certificate for `name` (null or '': no SNI → 'localhost', which also names
   * 127.0.0.1 and ::1), signed by the CA; certPem is the leaf then the CA certificate.
   * Cached per name (case-insensitively) for the process; one leaf key per process.
   */
  issue(name: string | null): Promise<CertPair> {
    const key = normaliseName(name);
    let pair = this.#leaves.get(key);
    if (!pair) {
      pair = this.#sign(key);
      this.#leaves.set(key, pair);
      // A failure is not cached: the next connection tries again.
      pair.catch(() => {
        if (this.#leaves.get(key) === pair) this.#leaves.delete(key);
      });
      if (this.#leaves.size > MAX_LEAVES) {
        const oldest = this.#leaves.keys().next().value;
        if (oldest !== undefined) this.#leaves.delete(oldest);
      }
    }
    return pair;
  }

  #leafKeyMaterial(): Promise<KeyMaterial> {
    if (!this.#leafKey) {
      this.#leafKey = generateKey('ecdsa');
      this.#leafKey.catch(() => {
        this.#leafKey = null;
      });
    }
    return this.#leafKey;
  }

  async #sign(name: string): Promise<CertPair> {
    const leaf = await this.#leafKeyMaterial();
    const ca = this.#ca;
    const now = Date.now();
    // Never outlive the CA: a chain is only as valid as its shortest-lived link.
    const caEnd = Date.parse(ca.certificate.validTo);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [commonName(name)] }],
      issuer: ca.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(Math.min(now + LEAF_DAYS * DAY_MS, caEnd)),
      publicKey: leaf.keys.publicKey as unknown as PublicKeyLike,
      signingKey: ca.signingKey as unknown as SigningKeyLike,
      signingAlgorithm: ca.signingAlgorithm,
      extensions: [
        new x509.SubjectAlternativeNameExtension(subjectAltNames(name), false),
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(serverKeyUsage('ecdsa'), true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.AuthorityKeyIdentifierExtension(ca.keyId, false),
        await x509.SubjectKeyIdentifierExtension.create(leaf.keys.publicKey as unknown as PublicKeyLike),
      ],
    });
    return { certPem: cert.toString('pem') + '\n' + ca.certPem, keyPem: leaf.keyPem };
  }
}

/** `pgscope local CA (<user>@<host>)`: which CA this is when several show up in a trust store. */
function caCommonName(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers running under an arbitrary uid).
    user = process.env['USER'] || (typeof process.getuid === 'function' ? `uid${process.getuid()}` : 'user');
  }
  return fitCommonName(`pgscope local CA (${user}@${hostname()})`);
}

async function createCa(): Promise<{ keyPem: string; certPem: string }> {
  const { keys, keyPem, signingAlgorithm } = await generateKey('ecdsa');
  const now = Date.now();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [caCommonName()] }],
    // Back-dated a day: a client whose clock runs behind still accepts it.
    notBefore: new Date(now - DAY_MS),
    notAfter,
    keys: keys as unknown as CryptoKeyPairLike,
    signingAlgorithm,
    extensions: [
      // pathLen 0: this CA signs leaves only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as PublicKeyLike),
    ],
  });
  return { keyPem, certPem: cert.toString('pem') + '\n' };
}

/**
 * Load the CA; while the key is there but the certificate is missing or belongs to another
 * key, another pgscope may be between publishing the two: wait a little for it.
 */
async function loadWaitingForCreator(certPath: string, keyPath: string): Promise<CaMaterial> {
  const deadline = Date.now() + RACE_WAIT_MS;
  for (;;) {
    try {
      return await loadCa(certPath, keyPath);
    } catch (err) {
      if (!(err instanceof NotReadyYet) || Date.now() >= deadline) throw err;
    }
    await sleep(50);
  }
}

function remake(dir: string): string {
  return `remove ${join(dir, CA_KEY_FILE)} and ${join(dir, CA_CERT_FILE)} to make a new CA (clients must then trust the new ${CA_CERT_FILE})`;
}

async function loadCa(certPath: string, keyPath: string): Promise<CaMaterial> {
  const dir = dirname(certPath);
  const keyBytes = readCaFile(keyPath, 'the CA key', { private: true });
  if (!keyBytes) throw new TlsSetupError(`the CA key "${keyPath}" has disappeared (was the CA folder removed while pgscope started?)`);
  const certBytes = readCaFile(certPath, 'the CA certificate', { private: false });
  if (!certBytes) throw new NotReadyYet(`the CA key "${keyPath}" exists but its certificate "${certPath}" does not: ${remake(dir)}`);

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certBytes);
  } catch (err) {
    throw new TlsSetupError(`the CA certificate "${certPath}" cannot be read (${(err as Error).message}): ${remake(dir)}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBytes);
  } catch (err) {
    throw new TlsSetupError(`the CA key "${keyPath}" cannot be read (${(err as Error).message}): ${remake(dir)}`);
  }
  if (!certificate.ca) throw new TlsSetupError(`"${certPath}" is not a CA certificate (no basicConstraints CA:TRUE): ${remake(dir)}`);
  if (!certificate.checkPrivateKey(key)) throw new NotReadyYet(`the CA key "${keyPath}" does not belong to the certificate "${certPath}": ${remake(dir)}`);
  if (Date.parse(certificate.validTo) <= Date.now()) throw new TlsSetupError(`the CA certificate "${certPath}" expired on ${certificate.validTo}: ${remake(dir)}`);

  const signingAlgorithm = signingAlgorithmFor(key, keyPath, dir);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), signingAlgorithm.importParams, false, ['sign']);
  const parsed = new x509.X509Certificate(certificate.raw);
  const ski = parsed.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyId = ski ? ski.keyId : (await x509.SubjectKeyIdentifierExtension.create(parsed.publicKey)).keyId;
  return {
    certificate,
    certPem: certificate.toString().trimEnd() + '\n',
    subject: parsed.subjectName,
    keyId,
    signingKey,
    signingAlgorithm: signingAlgorithm.sign,
  };
}

/** The CA pgscope makes is ECDSA P-256; an RSA key (put there by hand) also works. */
function signingAlgorithmFor(key: KeyObject, keyPath: string, dir: string): { importParams: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams; sign: KeyMaterial['signingAlgorithm'] } {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
  }
  if (key.asymmetricKeyType === 'rsa') {
    return { importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
  }
  throw new TlsSetupError(`the CA key "${keyPath}" is of a type pgscope does not sign with (${key.asymmetricKeyType ?? 'unknown'}; expected ECDSA P-256 or RSA): ${remake(dir)}`);
}
