import saslprepLib from '@mongodb-js/saslprep';

/**
 * The password as SCRAM hashes it: SASLprep (RFC 4013) of its UTF-8 text. PostgreSQL's
 * pg_saslprep() falls back to the raw bytes when the password is not valid UTF-8 or
 * SASLprep refuses it (prohibited or unassigned characters, bidi rule): "In case of an
 * error, the password is used as it is" (src/common/scram-common.c). So does this, or
 * pgscope would fail where libpq succeeds.
 */
export function saslprepPassword(password: Buffer): Buffer {
  const text = password.toString('utf8');
  // Not valid UTF-8: the decoder replaced something, and re-encoding does not round-trip.
  if (!Buffer.from(text, 'utf8').equals(password)) return password;
  try {
    return Buffer.from(saslprepLib(text), 'utf8');
  } catch {
    return password;
  }
}
