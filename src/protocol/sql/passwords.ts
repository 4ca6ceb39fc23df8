import { isWord, tokenize } from './lexer.js';

/**
 * Which SQL and which values carry a password: what decoding marks secret (a Query's or
 * Parse's SQL, a Bind parameter) when the conversation is told to (--redact-passwords), and
 * what the statement records' redaction (src/analysis/statements/redact.ts) replaces.
 */

/** A postgres:// or postgresql:// URI with a password in its user part (user:secret@). */
const URI_WITH_PASSWORD = /postgres(?:ql)?:\/\/[^@/?#\s]*:[^@/?#\s]*@/i;

/**
 * True when text (a string constant's contents, a parameter's value) holds a password the
 * way connection strings do: `password=…` (any key ending in password, as sslpassword)
 * or a postgresql://user:secret@host URI.
 */
export function connInfoCarriesPassword(text: string): boolean {
  return /password\s*=/i.test(text) || URI_WITH_PASSWORD.test(text);
}

/** Cheap test before tokenizing: SQL without these words carries no password. */
export const MAYBE_PASSWORD = /password|postgres(?:ql)?:\/\//i;

/**
 * True when the SQL carries a password: CREATE/ALTER ROLE/USER/GROUP … [ENCRYPTED]
 * PASSWORD '…' (psql's \password sends the SCRAM verifier this way), OPTIONS (password
 * '…') of user mappings and foreign servers, and a string constant holding a connection
 * string with a password (CREATE SUBSCRIPTION … CONNECTION '…', dblink_connect('…')).
 * Its parameters, if any, are then secret too.
 */
export function carriesPassword(sql: string): boolean {
  if (!MAYBE_PASSWORD.test(sql)) return false;
  return tokenize(sql).some((t) => isWord(t, 'PASSWORD') || ((t.kind === 'string' || t.kind === 'dollar') && connInfoCarriesPassword(t.text)));
}
