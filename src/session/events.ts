import type { SecurityVerdict, StatementRecord } from '../analysis/records.js';
import type { CodecEvent } from '../protocol/types.js';

export type { SecurityVerdict, StatementRecord };

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

/** What sessions report to the output sinks. Every sink is fed from these. */
export type ProxyEvent =
  | { kind: 'status'; conn: number | null; time: number; level: 'info' | 'warn' | 'error' | 'debug'; text: string }
  | { kind: 'codec'; conn: number; time: number; label: Label; event: CodecEvent }
  | { kind: 'forwarded'; conn: number; time: number; label: Label; bytes: number; elapsed: number }
  | ({ kind: 'connection'; conn: number; time: number } & ConnectionFact)
  | { kind: 'security'; conn: number; time: number; verdict: SecurityVerdict }
  /** A statement completed (emitted by the statement stage, the session, in completion order). */
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
