import type { SecurityVerdict } from './records.js';

export interface VerdictInput {
  /** How the client leg was protected (see SecurityVerdict.tls). */
  tls: SecurityVerdict['tls'];
  /** What the client authenticated with toward pgscope or, passed through, the server: 'cleartext password', 'MD5', a SASL mechanism; null: it was not asked (trust). */
  clientAuth: string | null;
  gs2Flag: 'n' | 'y' | 'p' | null;
  serverOfferedPlus: boolean;
  overrideAuth: boolean;
}

/**
 * Whether this client, as it is configured, would notice a man in the middle. pgscope is
 * one; a client that completed a session through it without being told to trust pgscope
 * would have accepted any other one too. The Ruby tool's README warns about this in
 * general; pgscope says it about each real connection, once, after authentication.
 */
export function securityVerdict(v: VerdictInput): SecurityVerdict {
  const base = { tls: v.tls, gs2Flag: v.gs2Flag, clientAuth: v.clientAuth, serverOfferedPlus: v.serverOfferedPlus, overrideAuth: v.overrideAuth };
  const fix = 'use sslmode=verify-full (with the server\'s CA as sslrootcert) or channel_binding=require';
  const gave = v.clientAuth === 'cleartext password' ? ' and handed its password over in cleartext (require_auth=scram-sha-256 would have refused)' : '';
  if (v.gs2Flag === 'p') {
    // Channel binding succeeded through pgscope: only possible when pgscope showed the
    // server's own certificate (--client-ssl-cert/--client-ssl-key with the server's key).
    // The wire does not show whether the client insists on binding (channel_binding=require)
    // or merely uses it when offered (prefer, libpq's default): a 'prefer' client would
    // still give its password in cleartext to a man in the middle that asks for it that way.
    return { ...base, exposure: 'unknown', sentence: 'the client used channel binding (SCRAM-SHA-256-PLUS), which passed only because pgscope holds the server\'s own certificate and key. If the client insists on it (channel_binding=require), a man in the middle without that key is detected; with libpq\'s default (prefer) it would still hand its password to one that asks for it in cleartext' };
  }
  const binding = v.clientAuth?.startsWith('SCRAM')
    ? v.gs2Flag === 'y'
      ? ' It supports channel binding but used none (it was not offered SCRAM-SHA-256-PLUS).'
      : v.serverOfferedPlus
        ? ' It did not use channel binding although SCRAM-SHA-256-PLUS was offered.'
        : ' It did not use channel binding.'
    : '';
  switch (v.tls) {
    case 'none':
      return { ...base, exposure: 'exposed', sentence: `this client sent everything unencrypted${gave}: it would accept any man in the middle; ${fix}.${binding}` };
    case 'self-signed':
      return { ...base, exposure: 'exposed', sentence: `this client accepted pgscope's self-signed certificate without verifying it${gave}: it would accept any man in the middle; ${fix}.${binding}` };
    case 'local-ca':
      return { ...base, exposure: 'unknown', sentence: `the client accepted a certificate from pgscope's local CA${gave}: either it verifies against that CA because you told it to (sslrootcert), or it verifies nothing and would accept any man in the middle — pgscope cannot tell which.${binding}` };
    case 'user-certificate':
      return { ...base, exposure: 'unknown', sentence: `the client accepted the certificate given with --client-ssl-cert${gave}; whether it verified it cannot be seen from here.${binding} To be safe against a man in the middle, ${fix}.`.replace(/\s+$/, '') };
  }
}
