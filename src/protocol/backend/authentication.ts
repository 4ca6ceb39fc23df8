import type { MessageDecoder } from '../decoder.js';
import type { Reader } from '../reader.js';
import { readScramAttributes } from '../scram.js';
import { lookup } from './lookup.js';

/**
 * Authentication (B, 'R'): "Identifies the message as an authentication request." An Int32
 * code says which request it is; the documentation lists each as its own message
 * (AuthenticationOk, AuthenticationSASL, …), and so does r.messageName once the code is
 * read. The code's span is named exactly 'code': the conversation's context tracker reads
 * it to know what the client's next 'p' message is.
 */

interface Request {
  name: string;
  /** The documentation's "Specifies that …" sentence, shortened. */
  says: string;
  /** Fields after the code, if any. */
  body?: (r: Reader) => void;
}

const REQUESTS: Record<number, Request> = {
  0: { name: 'AuthenticationOk', says: 'the authentication was successful' },
  2: { name: 'AuthenticationKerberosV5', says: 'Kerberos V5 authentication is required' },
  3: { name: 'AuthenticationCleartextPassword', says: 'a clear-text password is required' },
  // Byte4 — "The salt to use when encrypting the password."
  5: { name: 'AuthenticationMD5Password', says: 'an MD5-encrypted password is required', body: (r) => void r.bytes('salt', 4, 'the salt to use when encrypting the password') },
  7: { name: 'AuthenticationGSS', says: 'GSSAPI authentication is required' },
  // Byten — "GSSAPI or SSPI authentication data."
  8: { name: 'AuthenticationGSSContinue', says: 'this message contains GSSAPI or SSPI data', body: (r) => void r.rest('authentication data', 'GSSAPI or SSPI authentication data') },
  9: { name: 'AuthenticationSSPI', says: 'SSPI authentication is required' },
  10: { name: 'AuthenticationSASL', says: 'SASL authentication is required', body: readMechanisms },
  // Byten — "SASL data, specific to the SASL mechanism being used."
  11: { name: 'AuthenticationSASLContinue', says: 'this message contains a SASL challenge', body: readSaslData },
  // Byten — "SASL outcome "additional data", specific to the SASL mechanism being used."
  12: { name: 'AuthenticationSASLFinal', says: 'SASL authentication has completed', body: readSaslData },
};

const MECHANISMS: Record<string, string> = {
  'SCRAM-SHA-256': 'SASL mechanism SCRAM-SHA-256',
  'SCRAM-SHA-256-PLUS': 'SASL mechanism SCRAM-SHA-256-PLUS (with channel binding)',
  OAUTHBEARER: 'SASL mechanism OAUTHBEARER (OAuth 2.0 bearer token)',
};

/**
 * AuthenticationSASL: "The message body is a list of SASL authentication mechanisms, in
 * the server's order of preference. A zero byte is required as terminator after the last
 * authentication mechanism name." Each is a String — "Name of a SASL authentication
 * mechanism."
 */
function readMechanisms(r: Reader): void {
  for (;;) {
    const next = r.peekByte();
    if (next === undefined) r.fail('past-end', 'a zero byte ending the list of SASL mechanisms');
    if (next === 0) {
      r.uint8('terminator', 'end of the mechanism list');
      return;
    }
    r.cstring('mechanism', (m) => lookup(MECHANISMS, m) ?? `SASL mechanism ${m} (not one PostgreSQL offers)`);
  }
}

/**
 * SASLContinue/SASLFinal data. With SCRAM-SHA-256 (the mechanism PostgreSQL uses for
 * passwords) it is the server-first-message (r=nonce,s=salt,i=iterations) or the
 * server-final-message (v=signature or e=error), read attribute by attribute. With
 * OAUTHBEARER (PostgreSQL 18) the only challenge is a JSON error status (RFC 7628,
 * section 3.2.2), which starts with '{' where a SCRAM message never does.
 */
function readSaslData(r: Reader): void {
  if (r.peekByte() === 0x7b) {
    r.rest('SASL data', 'OAUTHBEARER error status (JSON): the token was missing or rejected');
    return;
  }
  readScramAttributes(r, r.remaining);
}

export const authentication: MessageDecoder = {
  name: 'Authentication',
  decode(r) {
    const code = r.int32('code', (c) => {
      const req = REQUESTS[c];
      return req ? `${req.name}: ${req.says}` : `unknown authentication request code ${c}`;
    });
    const req = REQUESTS[code];
    if (!req) {
      const known = Object.keys(REQUESTS).join(', ');
      return r.fail('bad-value', `an authentication request code (${known}), got ${code}`, r.pos - 4);
    }
    r.messageName = req.name;
    req.body?.(r);
  },
};
