import type { MessageCodec } from '../decoder.js';
import { cstringBytes, isMessage, span, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';
import { renameMessage } from './fields.js';

export interface PasswordMessage {
  /**
   * "The password (encrypted, if requested)": the bytes as the client sent them (without
   * the terminating zero byte), in whatever encoding it used. A secret.
   */
  password: Buffer;
}

/** "md5" followed by 32 lowercase hex digits, as libpq and the server's md5 code write it. */
const MD5_HASH = /^md5[0-9a-f]{32}$/;

/**
 * PasswordMessage (F, 'p'): String — "The password (encrypted, if requested)." Which one
 * depends on the request it answers (ctx.authRequest): AuthenticationCleartextPassword (3)
 * asks for the password itself; AuthenticationMD5Password (5) for
 * concat('md5', md5(concat(md5(concat(password, username)), random-salt))).
 * Both are secrets: outputs redact them when asked.
 */
export const passwordMessage: MessageCodec<PasswordMessage> = {
  name: 'PasswordMessage',
  // Cleartext or MD5 hash: the authentication request it answers says which.
  readsContext: true,
  decode(r, ctx) {
    renameMessage(r, 'PasswordMessage');
    if (ctx.authRequest === 5) {
      r.cstring(
        'password',
        (p) =>
          MD5_HASH.test(p)
            ? "MD5 password hash: 'md5' + md5(md5(password + user name) + salt)"
            : "not an MD5 hash ('md5' + 32 hex digits), though AuthenticationMD5Password asked for one",
        { secret: true },
      );
    } else {
      r.cstring('password', 'cleartext password', { secret: true });
    }
  },
  fields(m) {
    const spans = wholeSpans(m, 'PasswordMessage', isMessage(m, 'frontend', 'p') && m.name === 'PasswordMessage');
    return { password: cstringBytes(m, span(m, spans, 'password')) };
  },
  encode(f) {
    return writeMessage('p', 'PasswordMessage', (w) => w.cbytes(f.password, 'password'), 6 + f.password.length);
  },
};
