/**
 * What the analysis layer concludes about one connection: its completed statements and its
 * security verdict. The session emits them as 'statement' and 'security' events.
 */

/**
 * What pgscope concludes about the client's exposure to a man in the middle, once per
 * connection after authentication (see src/analysis/verdict.ts).
 */
export interface SecurityVerdict {
  /** How the client leg was protected: 'none' (plaintext), or how its certificate could be checked. */
  tls: 'none' | 'self-signed' | 'local-ca' | 'user-certificate';
  /** The GS2 flag the client sent in SASLInitialResponse ('n', 'y' or 'p'), or null: no SCRAM with the client. */
  gs2Flag: 'n' | 'y' | 'p' | null;
  /** The mechanism the client chose, if SASL; 'password' / 'md5' for those; null if none (trust). */
  clientAuth: string | null;
  /** The server offered SCRAM-SHA-256-PLUS to pgscope (or to the client). */
  serverOfferedPlus: boolean;
  /**
   * exposed: the client would accept any man in the middle; unknown: pgscope cannot see
   * whether the client verified the certificate (local CA, the user's certificate) or
   * insists on channel binding. No client that completes a session through a man in the
   * middle can be called safe from what the wire shows.
   */
  exposure: 'exposed' | 'unknown';
  /** pgscope authenticated to the server itself (--override-auth). */
  overrideAuth: boolean;
  /** One plain sentence. */
  sentence: string;
}

/**
 * One completed statement, as the query log, the summary and JSON lines report it. Made by
 * the statement tracker (src/protocol/statements) from the client's conversation.
 * Times are milliseconds since the epoch with a fractional part (microseconds).
 */
export interface StatementRecord {
  conn: number;
  /** When the client's request (Query, or the Execute/Bind/Parse that started it) was seen. */
  start: number;
  /** ms from the request to its CommandComplete / ErrorResponse / EmptyQueryResponse / PortalSuspended. */
  duration: number;
  /** ms from the request to the ReadyForQuery that ended its cycle; null when the connection ended first. */
  untilReady: number | null;
  protocol: 'simple' | 'extended';
  /** The SQL text (extended protocol: resolved through the prepared statement and portal). */
  sql: string;
  /** Extended protocol: the prepared statement's and the portal's names ('' = unnamed); null for simple. */
  statement: string | null;
  portal: string | null;
  /** Bound parameters, in order: type name (or null), format, and the value as text (bounded; null = SQL NULL). */
  params: { type: string | null; format: 'text' | 'binary'; value: string | null }[];
  /** DataRows returned; null when none were expected (no RowDescription). */
  rows: number | null;
  /** The CommandComplete tag (SELECT 3, INSERT 0 1, …), null on error. */
  tag: string | null;
  /** Rows affected or returned, from the tag, when it has a count. */
  affected: number | null;
  error: { severity: string; code: string; message: string } | null;
}
