import type { StatementAnalysisOptions } from '../analysis/connection-statements.js';
import type { SecurityVerdict } from '../analysis/records.js';
import type { ChannelBindingPolicy } from './auth/choose-mechanism.js';
import type { ProxyEvent, TlsInfo } from './events.js';
import type { DecodeItem } from './decode-elsewhere.js';
import type { MessageHook } from './message-hook.js';

/**
 * What a session and its I/O shell say to each other: inputs (socket facts) in, actions
 * out. Nothing here touches a socket.
 */

/**
 * The session's timers, carried out by the I/O shell: `setup` (the client must finish its
 * startup in time, as PostgreSQL's authentication_timeout), `cancel` (how long pgscope waits
 * for the server to close a forwarded CancelRequest's connection), `delay:frontend` and
 * `delay:backend` (a message held back by a hook's decision, in that direction).
 */
/**
 * A delay as a timer can run it: at least 0, and at most 2^31 - 1 ms (about 24.8 days; a
 * longer timer fires at once in Node).
 */
export function timerMs(ms: number): number {
  return Math.min(Math.max(0, ms), 2 ** 31 - 1);
}

export type TimerName = 'setup' | 'cancel' | 'delay:frontend' | 'delay:backend';

/** PostgreSQL's default authentication_timeout: a client must finish its startup by then. */
export const SETUP_TIMEOUT_MS = 60_000;
/**
 * How long a forwarded CancelRequest's connection waits for the server to close it.
 * PostgreSQL closes it at once after signalling the backend; generous, for a loaded server.
 */
export const CANCEL_WAIT_MS = 30_000;

/** What the I/O shell tells a session. */
export type SessionInput =
  /** The client's TCP connection was accepted: its address, and the address it reached pgscope on. */
  | { type: 'client-connected'; address: string; port: number; localAddress: string; localPort: number }
  | { type: 'client-data'; bytes: Buffer }
  | { type: 'client-tls-ready'; info: TlsInfo }
  /** --log-certs: the certificate pgscope showed the client (PEM), once the shell has it; or why it has not. */
  | { type: 'client-certificate'; pem: string | null; error?: string }
  /**
   * The TLS handshake with the client did not finish. `error`: the TLS library's message
   * (e.g. an alert the client sent), or null when the client just closed the connection;
   * `certificateSent`: pgscope's first flight, with its certificate, had gone out.
   */
  | { type: 'client-tls-failed'; error: string | null; direct: boolean; certificateSent: boolean }
  | { type: 'client-closed'; error?: string }
  | { type: 'server-connected'; address: string; port: number; localAddress: string; localPort: number }
  | { type: 'server-connect-failed'; error: string }
  | { type: 'server-data'; bytes: Buffer }
  /** `certificate`: the server's certificate (DER), for channel binding under --override-auth and --log-certs. */
  | { type: 'server-tls-ready'; info: TlsInfo; certificate: Buffer | null }
  /** `certificate`: the server's certificate (DER), when it got that far (for --log-certs). */
  | { type: 'server-tls-failed'; error: string; certificate?: Buffer | null }
  | { type: 'server-closed'; error?: string }
  /** A timer the session set (set-timer) went off. */
  | { type: 'timer'; name: TimerName }
  /** A leg's socket cannot take more: reading from the other leg is paused until it drains. */
  | { type: 'backpressure'; full: 'client' | 'server' }
  /** Both sockets are gone (closed, reset or destroyed): the connection is over. */
  | { type: 'ended' }
  /** The shell caught an error of its own or of the session's (a bug): this connection is given up. */
  | { type: 'internal-error'; error: string };

/** What a session asks the I/O shell to do, in order. */
export type SessionAction =
  /** Write bytes to the client; `forwarded` bytes obey --send-chunking. */
  | { type: 'send-client'; bytes: Buffer; forwarded: boolean }
  | { type: 'send-server'; bytes: Buffer; forwarded: boolean }
  /** Start TLS as the server on the client socket; `initial` bytes were already read (direct TLS). */
  | { type: 'start-client-tls'; initial: Buffer; direct: boolean }
  | { type: 'connect-server'; host: string; port: number }
  /** Start TLS as the client on the server socket (SNI = host unless an IP). */
  | { type: 'start-server-tls'; host: string; alpn: boolean }
  | { type: 'log'; event: ProxyEvent }
  /** For the decode thread (settings.decodeElsewhere): in order with the `log` actions around it. */
  | { type: 'decode-elsewhere'; item: DecodeItem }
  /** Start (or restart) a timer: after `ms`, hand in `{ type: 'timer', name }`. The shell clears all timers when the connection ends. */
  | { type: 'set-timer'; name: TimerName; ms: number }
  | { type: 'clear-timer'; name: TimerName }
  /** End both legs once pending writes are flushed. */
  | { type: 'close'; reason: string }
  /** End both legs at once, with a TCP reset where the platform allows (a hook's decision). */
  | { type: 'reset'; reason: string };

export interface SessionSettings {
  serverHost: string | null;
  serverDeleteSuffix: string;
  serverConnectPort: number;
  serverSslnegotiation: 'mimic' | 'direct' | 'postgres';
  clientDenySsl: boolean;
  /** From the server-leg TLS policy (libpq sslmode rules). */
  serverTls: { attempt: boolean; requireEncryption: boolean; mode: string };
  /** Bytes of each message kept for decoding. */
  retain?: number;
  /** --override-auth: authenticate to the server as pgscope with this channel-binding policy. */
  overrideAuth?: { channelBinding: ChannelBindingPolicy } | null;
  /** Which certificate pgscope shows clients (for the security verdict). */
  clientCertificate?: Exclude<SecurityVerdict['tls'], 'none'>;
  /** Emit 'wire' events (the plaintext bytes) for sinks that need them (pcapng). */
  wire?: boolean;
  /** No output shows forwarded messages: decode only what the session itself needs (see Conversation). */
  essentialOnly?: boolean;
  /**
   * Decode the conversation on another thread once the forwarding phase reaches a quiet
   * point (see decode-elsewhere.ts): the session emits `decode-elsewhere` actions instead
   * of the events of what it forwards. Not with a hook (it decides on decoded messages).
   */
  decodeElsewhere?: boolean;
  /** --log-certs: describe both legs' certificates in status lines. */
  logCerts?: boolean;
  /** Statement tracking: typed values, statement records, SQL password marks (null: none; an output that needs it asks). */
  statements?: StatementAnalysisOptions | null;
  /** Decides per forwarded message (fault rules, test suites): see message-hook.ts. None: every message passes as it came. */
  hook?: MessageHook | null;
}
