/**
 * One PostgreSQL server, several authentication methods: pg_hba.conf lines that pick the
 * method by user name (placed before the harness's default line, which stays the server's
 * `auth`), and the roles behind them. Used by the --override-auth, security-verdict and
 * --redact-passwords end-to-end tests, so that one server covers cleartext `password`,
 * `md5` (with an MD5-stored password: an MD5 line with a SCRAM-stored one would quietly
 * use SCRAM), `scram-sha-256`, `trust` and `gss`.
 */
import { startPgServer, type PgServer, type PgServerOptions } from './pg-server.js';

/** Role names, one per method (the superuser `postgres` uses the server's default, scram-sha-256). */
export const AUTH_USERS = {
  password: 'pw_user',
  md5: 'md5_user',
  trust: 'trust_user',
  gss: 'gss_user',
} as const;

/** pg_hba.conf lines for AUTH_USERS over TCP from 127.0.0.1. */
export function authHba(): string[] {
  return [
    `host all ${AUTH_USERS.password} 127.0.0.1/32 password`,
    `host all ${AUTH_USERS.md5} 127.0.0.1/32 md5`,
    `host all ${AUTH_USERS.trust} 127.0.0.1/32 trust`,
    `host all ${AUTH_USERS.gss} 127.0.0.1/32 gss`,
  ];
}

function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * A server (scram-sha-256 by default for everyone else) with AUTH_USERS created, all with
 * the server's password; md5_user's is stored as an MD5 hash.
 */
export async function startAuthServer(opts: PgServerOptions = {}): Promise<PgServer> {
  const server = await startPgServer({ ...opts, hba: [...authHba(), ...(opts.hba ?? [])] });
  try {
    const pw = lit(server.password);
    // Over the Unix socket (trust), so that setting up does not depend on TCP authentication.
    await server.psql(
      [
        `CREATE ROLE ${AUTH_USERS.password} LOGIN PASSWORD ${pw}`,
        `CREATE ROLE ${AUTH_USERS.trust} LOGIN`,
        `CREATE ROLE ${AUTH_USERS.gss} LOGIN`,
        `SET password_encryption = 'md5'`,
        `CREATE ROLE ${AUTH_USERS.md5} LOGIN PASSWORD ${pw}`,
      ].join('; '),
      [],
      { host: server.socketDir },
    );
    const stored = await server.psql(`SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = '${AUTH_USERS.md5}'`, [], { host: server.socketDir });
    if (stored !== 'md5') throw new Error(`${AUTH_USERS.md5}'s password is not stored as MD5 (${stored})`);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}
