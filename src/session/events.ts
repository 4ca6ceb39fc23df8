import type { CodecEvent } from '../protocol/types.js';

/**
 * Who sent a message and who received it. "script" is pgscope itself (Elephantshark's
 * word): `client -> script` is a client message pgscope consumed (SSLRequest), `script ->
 * server` one pgscope sent on its own behalf.
 */
export type Label = 'client -> server' | 'server -> client' | 'client -> script' | 'script -> client' | 'script -> server' | 'server -> script';

/** What sessions report to the output sinks. Every sink is fed from these. */
export type ProxyEvent =
  | { kind: 'status'; conn: number | null; time: number; level: 'info' | 'warn' | 'error' | 'debug'; text: string }
  | { kind: 'codec'; conn: number; time: number; label: Label; event: CodecEvent }
  | { kind: 'forwarded'; conn: number; time: number; label: Label; bytes: number; elapsed: number };

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
