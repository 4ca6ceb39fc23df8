import type { MessageCodec } from '../decoder.js';
import type { Reader } from '../reader.js';
import { readScramAttributes } from '../scram.js';
import { bytesFrom, bytesOf, isMessage, maybeSpan, num, span, spansNamed, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
import { lookup } from './lookup.js';
import { EncodeError } from '../errors.js';

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

/** AuthenticationOk (code 0): "Specifies that the authentication was successful." */
export interface AuthenticationOk {
  code: 0;
}
/** AuthenticationKerberosV5 (code 2). */
export interface AuthenticationKerberosV5 {
  code: 2;
}
/** AuthenticationCleartextPassword (code 3). */
export interface AuthenticationCleartextPassword {
  code: 3;
}
/** AuthenticationMD5Password (code 5): Byte4 — "The salt to use when encrypting the password." */
export interface AuthenticationMD5Password {
  code: 5;
  salt: Buffer;
}
/** AuthenticationGSS (code 7). */
export interface AuthenticationGSS {
  code: 7;
}
/** AuthenticationGSSContinue (code 8): Byten — "GSSAPI or SSPI authentication data." */
export interface AuthenticationGSSContinue {
  code: 8;
  data: Buffer;
}
/** AuthenticationSSPI (code 9). */
export interface AuthenticationSSPI {
  code: 9;
}
/** AuthenticationSASL (code 10): the SASL mechanisms, in the server's order of preference. */
export interface AuthenticationSASL {
  code: 10;
  mechanisms: string[];
}
/** AuthenticationSASLContinue (code 11): Byten — "SASL data, specific to the SASL mechanism being used." */
export interface AuthenticationSASLContinue {
  code: 11;
  data: Buffer;
}
/** AuthenticationSASLFinal (code 12): Byten — SASL outcome "additional data". */
export interface AuthenticationSASLFinal {
  code: 12;
  data: Buffer;
}

/** The fields of an Authentication ('R') message: one of the requests, told apart by `code`. */
export type Authentication =
  | AuthenticationOk
  | AuthenticationKerberosV5
  | AuthenticationCleartextPassword
  | AuthenticationMD5Password
  | AuthenticationGSS
  | AuthenticationGSSContinue
  | AuthenticationSSPI
  | AuthenticationSASL
  | AuthenticationSASLContinue
  | AuthenticationSASLFinal;

export const authentication: MessageCodec<Authentication> = {
  name: 'Authentication',
  readsContext: false,
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
  fields(m) {
    const spans = wholeSpans(m, 'Authentication', isMessage(m, 'backend', 'R'));
    const codeSpan = span(m, spans, 'code');
    const code = num(m, codeSpan) as Authentication['code'];
    switch (code) {
      case 5:
        return { code, salt: bytesOf(m, span(m, spans, 'salt')) };
      case 8:
      case 11:
      case 12:
        // The data, whether the decoder split it into SCRAM attributes or not.
        return { code, data: bytesFrom(m, codeSpan.end) };
      case 10:
        return { code, mechanisms: spansNamed(spans, 'mechanism').map((s) => text(m, s)) };
      default:
        return { code };
    }
  },
  encode(f) {
    const req = REQUESTS[f.code];
    if (!req) throw new EncodeError('Authentication', 'code', `an authentication request code (${Object.keys(REQUESTS).join(', ')}), got ${f.code}`);
    return writeMessage('R', req.name, (w) => {
      w.int32(f.code, 'code');
      switch (f.code) {
        case 5:
          if (f.salt.length !== 4) w.fail('salt', `4 bytes, got ${f.salt.length}`);
          w.bytes(f.salt, 'salt');
          break;
        case 8:
        case 11:
        case 12:
          w.bytes(f.data, 'data');
          break;
        case 10:
          for (const mech of f.mechanisms) {
            // An empty name would read as the list's terminator.
            if (mech === '') w.fail('mechanism', 'a mechanism name cannot be empty');
            w.cstring(mech, 'mechanism');
          }
          w.uint8(0, 'terminator');
          break;
      }
    });
  },
};

/**
 * The request code of an authentication message, even a malformed one (undefined when
 * it was not read): what the context tracker keeps to know what the client's next 'p' is.
 */
export function authenticationCode(m: DecodedMessage): number | undefined {
  const v = maybeSpan(m.spans, 'code')?.value;
  return typeof v === 'number' ? v : undefined;
}

/**
 * The SASL mechanisms an AuthenticationSASL offers, as far as they were read (a
 * malformed list still gives the names before the fault). Empty for other messages.
 */
export function offeredMechanisms(m: DecodedMessage): string[] {
  return spansNamed(m.spans, 'mechanism').flatMap((s) => (typeof s.value === 'string' ? [s.value] : []));
}

/** The salt of an AuthenticationMD5Password, if it was read. */
export function md5Salt(m: DecodedMessage): Buffer | undefined {
  const v = maybeSpan(m.spans, 'salt')?.value;
  return Buffer.isBuffer(v) ? v : undefined;
}
