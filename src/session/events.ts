import type { CodecEvent } from '../protocol/types.js';

/**
 * Who sent a message and who received it. "script" is pgscope itself (Elephantshark's
 * word): `client -> script` is a client message pgscope consumed (SSLRequest), `script ->
 * server` one pgscope sent on its own behalf.
 */
export type Label = 'client -> server' | 'server -> client' | 'client -> script' | 'script -> client' | 'script -> server' | 'server -> script';

export interface TlsInfo {
  /** e.g. TLSv1.3 */
  protocol: string | null;
  /** e.g. TLS_AES_256_GCM_SHA384 */
  cipher: string | null;
  /** The server name the client asked for (SNI), if any. */
  sni: string | null;
  /** The negotiated ALPN protocol, or null. */
  alpn: string | null;
}

export interface Endpoint {
  address: string;
  port: number;
}

/**
 * The life of one connection, as structured facts (the same facts the text log states in
 * words). Sinks that need addresses or TLS details (JSON lines, pcapng, summary) read these.
 */
export type ConnectionFact =
  /** A client connected: its address, and the address it reached pgscope on. */
  | { phase: 'opened'; client: Endpoint; local: Endpoint }
  /** TLS with the client is up (`direct`: PostgreSQL 17 direct TLS, no SSLRequest). */
  | { phase: 'client-tls'; tls: TlsInfo; direct: boolean }
  /** The server was chosen and the TCP connection made: `host` as chosen, `remote` as connected. */
  | { phase: 'server-connected'; host: string; port: number; why: string; remote: Endpoint; local: Endpoint }
  /** TLS with the server is up. */
  | { phase: 'server-tls'; tls: TlsInfo }
  /** Both legs are closed. Byte counts are what each side sent (decrypted). */
  | { phase: 'closed'; reason: string; bytesFromClient: number; bytesFromServer: number };

/**
 * What pgscope concludes about the client's exposure to a man in the middle, once per
 * connection after authentication (see src/session/verdict.ts).
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

/** What sessions report to the output sinks. Every sink is fed from these. */
export type ProxyEvent =
  | { kind: 'status'; conn: number | null; time: number; level: 'info' | 'warn' | 'error' | 'debug'; text: string }
  | { kind: 'codec'; conn: number; time: number; label: Label; event: CodecEvent }
  | { kind: 'forwarded'; conn: number; time: number; label: Label; bytes: number; elapsed: number }
  | ({ kind: 'connection'; conn: number; time: number } & ConnectionFact)
  | { kind: 'security'; conn: number; time: number; verdict: SecurityVerdict }
  /** A statement completed (emitted by the statement stage, src/output/statement-stage.ts, in completion order). */
  | { kind: 'statement'; conn: number; time: number; record: StatementRecord }
  /**
   * The plaintext bytes of the client's conversation, in order, as the client sent or
   * received them (after the client's TLS, without SSLRequest/GSSENCRequest and their
   * answers). Emitted only when a sink asks for them (SessionSettings.wire: pcapng), after
   * the codec events of the same bytes, so a sink knows any secret ranges in them first.
   * `offset` is the absolute offset of `bytes[0]` in its direction's stream.
   */
  | { kind: 'wire'; conn: number; time: number; label: Label; direction: 'frontend' | 'backend'; offset: number; bytes: Buffer };

/** An output: fed every event in order; flush() at least at exit; close() once at the end. */
export interface Sink {
  write(ev: ProxyEvent): void;
  flush(): void;
  close(): void | Promise<void>;
}
