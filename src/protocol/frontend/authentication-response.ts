import type { MessageCodec, MessageDecoder } from '../decoder.js';
import { bodyOf, isMessage, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';
import { renameMessage } from './fields.js';
import { gssResponse } from './gss-response.js';
import { passwordMessage } from './password-message.js';
import { saslInitialResponse } from './sasl-initial-response.js';
import { saslResponse } from './sasl-response.js';

/** Authentication request codes (the server's 'R' message) and the 'p' message each expects. */
const BY_REQUEST: Record<number, MessageDecoder> = {
  3: passwordMessage, // AuthenticationCleartextPassword
  5: passwordMessage, // AuthenticationMD5Password
  7: gssResponse, // AuthenticationGSS
  8: gssResponse, // AuthenticationGSSContinue
  9: gssResponse, // AuthenticationSSPI
  10: saslInitialResponse, // AuthenticationSASL
  11: saslResponse, // AuthenticationSASLContinue
};

const REQUEST_NAMES: Record<number, string> = {
  0: 'AuthenticationOk',
  2: 'AuthenticationKerberosV5',
  6: 'AuthenticationSCMCredential',
  12: 'AuthenticationSASLFinal',
};

/**
 * The 'p' type byte: "Identifies the message as a password response. Note that this is
 * also used for GSSAPI, SSPI and SASL response messages. The exact message type can be
 * deduced from the context." The context is the last authentication request the server
 * sent. Without it (a capture that began mid-way) the message is not guessed: its body is
 * one span, marked secret since it may be a password.
 */
/** Any 'p' message as its undecided body (see the four codecs above for the decided ones). */
export interface AuthenticationResponse {
  /** The message body: a password, SASL or GSSAPI data, depending on the request it answers. */
  data: Buffer;
}

/** The codec of a 'p' message by its decoded name (the context chose it); the generic one otherwise. */
export function authenticationResponseCodec(name: string): MessageCodec | undefined {
  return Object.prototype.hasOwnProperty.call(BY_NAME, name) ? BY_NAME[name] : undefined;
}

const BY_NAME: Record<string, MessageCodec> = {
  PasswordMessage: passwordMessage,
  SASLInitialResponse: saslInitialResponse,
  SASLResponse: saslResponse,
  GSSResponse: gssResponse,
};

export const authenticationResponse: MessageCodec<AuthenticationResponse> = {
  name: 'PasswordMessage',
  // What a 'p' message is depends on the authentication request before it.
  readsContext: true,
  decode(r, ctx) {
    const req = ctx.authRequest;
    const dec = req === null ? undefined : BY_REQUEST[req];
    if (dec) return dec.decode(r, ctx);
    if (req === null) {
      renameMessage(r, 'PasswordMessage (authentication request not seen)');
      r.rest('data', 'authentication response, not decoded: the authentication request it answers was not seen (a password, SASL or GSSAPI message)', {
        secret: true,
      });
    } else {
      const what = REQUEST_NAMES[req] ?? `authentication request code ${req}`;
      renameMessage(r, `PasswordMessage (unexpected after ${what})`);
      r.rest('data', `authentication response, not decoded: the last request (${what}) does not ask for one`, { secret: true });
    }
  },
  /** Any 'p' message's body, decided or not. */
  fields(m) {
    wholeSpans(m, 'authentication response', isMessage(m, 'frontend', 'p'));
    return { data: bodyOf(m) };
  },
  encode(f) {
    return writeMessage('p', 'PasswordMessage', (w) => w.bytes(f.data, 'data'), 5 + f.data.length);
  },
};
