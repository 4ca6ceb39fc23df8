/**
 * `pgscope ca`: make the local CA if it is missing (src/tls/local-ca.ts) and say where its
 * certificate is, so that a client can trust it: `--print-path` for scripts
 * (sslrootcert=$(pgscope ca --print-path)), else a short description and the exact usage.
 */
import { TlsSetupError } from '../../tls/errors.js';
import { LocalCa } from '../../tls/local-ca.js';

/** Resolves to the exit status: 0, or 1 (message on err) when the CA folder or files are unusable. */
export async function caCommand(opts: { printPath: boolean; caDir: string | null }, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let opened: Awaited<ReturnType<typeof LocalCa.open>>;
  try {
    opened = await LocalCa.open(opts.caDir);
  } catch (e) {
    if (e instanceof TlsSetupError) {
      err(`pgscope: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { ca, created } = opened;
  // On err, so that --print-path's output stays just the path.
  if (created) err(`pgscope: created a new CA in ${ca.dir}\n`);
  if (opts.printPath) {
    out(`${ca.certPath}\n`);
    return 0;
  }
  const cert = ca.certificate;
  // Name the folder only when it is not the default, which pgscope --client-ca finds by itself.
  const caDirFlag = opts.caDir === null ? '' : ` --ca-dir ${shellWord(ca.dir)}`;
  out(
    [
      `CA certificate: ${ca.certPath}`,
      `subject:        ${cert.subject.split('\n').join(', ')}`,
      `SHA-256:        ${cert.fingerprint256}`,
      `valid:          ${isoDate(cert.validFrom)} to ${isoDate(cert.validTo)}`,
      ``,
      `Start pgscope with it signing the certificates clients see:`,
      `  pgscope --client-ca${caDirFlag} BACKEND`,
      `then let clients verify them against this CA, e.g.:`,
      `  psql "host=localhost port=5432 sslmode=verify-full sslrootcert=${conninfoValue(ca.certPath)} channel_binding=disable user=… dbname=…"`,
      ``,
    ].join('\n'),
  );
  return 0;
}

/** OpenSSL's "Nov 20 00:03:49 2026 GMT" → "2026-11-20T00:03:49Z". */
function isoDate(openssl: string): string {
  const t = Date.parse(openssl);
  return Number.isNaN(t) ? openssl : new Date(t).toISOString().replace('.000Z', 'Z');
}

/** A libpq connection-string value: quoted (single quotes, backslash escapes) when it has to be. */
function conninfoValue(v: string): string {
  return /^[^\s'\\"$`]+$/.test(v) ? v : `'${v.replace(/[\\']/g, (c) => '\\' + c)}'`;
}

/** A POSIX shell word: single-quoted when it has anything a shell would interpret. */
function shellWord(v: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}
