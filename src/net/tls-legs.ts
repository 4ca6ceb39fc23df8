import net from 'node:net';
import tls from 'node:tls';
import type { TlsInfo } from '../session/events.js';
import type { KeyLogWriter } from '../tls/keylog.js';
import { serverTlsOptions, verifyServerCertificate, type ServerTlsPolicy } from '../tls/server-leg.js';
import type { ClientTlsContexts } from './client-tls.js';
import { errorText } from './error-text.js';

/**
 * How many bytes each socket buffers for writing before write() says "full" and pgscope
 * pauses the other leg (Node's default is 16 KiB). Bulk traffic (COPY, large results) arrives
 * as 16 KiB TLS records: with the default, nearly every chunk filled the buffer, so reading
 * paused and resumed once per chunk. 256 KiB per leg keeps bulk transfers flowing and memory
 * bounded (two legs per connection).
 */
export const SOCKET_BUFFER_BYTES = 256 * 1024;
/** TLSSocket takes `highWaterMark` (Node 20) though its option types do not list it. */
export const BUFFER_OPTION = { highWaterMark: SOCKET_BUFFER_BYTES } as object;

export interface ClientTlsEvents {
  /** The handshake finished; `socket` carries the decrypted conversation from now on. */
  secure(info: TlsInfo): void;
  /**
   * It did not: `error` is the TLS library's message (an alert the client sent), or null
   * when the client just closed; `certificateSent`: pgscope's first flight had gone out.
   */
  failed(error: string | null, certificateSent: boolean): void;
}

/**
 * TLS as the server on an accepted client socket, with pgscope's certificate for the name
 * the client asks for (SNI) and ALPN as PostgreSQL 17 does it. `initial`: bytes already
 * read from the socket (direct TLS's ClientHello), handed back to TLS.
 */
export function acceptClientTls(raw: net.Socket, initial: Buffer, contexts: ClientTlsContexts, keylog: KeyLogWriter | null, on: ClientTlsEvents): tls.TLSSocket {
  const t = serverSideTls(raw, initial, contexts, keylog);
  let secured = false;
  t.on('secure', () => {
    secured = true;
    on.secure({ protocol: t.getProtocol(), cipher: t.getCipher()?.name ?? null, sni: (t as tls.TLSSocket & { servername?: string | false }).servername || null, alpn: t.alpnProtocol || null });
  });
  // Whether pgscope's first flight (ServerHello … its certificate) went out: a client that
  // hangs up after it without an alert (node-postgres with ssl: true) most likely refused it.
  const wroteBefore = raw.bytesWritten;
  let failedOnce = false;
  const failed = (e: Error | null): void => {
    if (secured || failedOnce) return;
    failedOnce = true;
    on.failed(e ? errorText(e) : null, raw.bytesWritten > wroteBefore);
  };
  t.once('error', failed);
  t.once('close', () => failed(null));
  // No raw.resume(): the TLS socket now owns the handle and reads the unshifted bytes
  // (direct TLS's ClientHello) from raw's buffer on the next tick. Resuming raw here, inside
  // its own 'data' event, would let its flow loop emit those bytes to no listener: lost,
  // and the handshake would hang.
  return t;
}

/**
 * The TLS socket pgscope serves a client with (the proxy's connections, and the clients
 * --max-connections refuses): pgscope's certificate for the SNI name, ALPN as PostgreSQL 17.
 */
export function serverSideTls(raw: net.Socket, initial: Buffer, contexts: ClientTlsContexts, keylog: KeyLogWriter | null): tls.TLSSocket {
  raw.pause();
  if (initial.length) raw.unshift(initial);
  const t = new tls.TLSSocket(raw, {
    isServer: true,
    ...BUFFER_OPTION,
    secureContext: contexts.defaultContext,
    SNICallback: (name, cb) => {
      contexts.contextFor(name).then(
        (ctx) => cb(null, ctx),
        (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))),
      );
    },
    // PostgreSQL 17 accepts ALPN "postgresql" only; a client offering something else
    // gets the no_application_protocol alert, as from a real server.
    ALPNCallback: ({ protocols }) => (protocols.includes('postgresql') ? 'postgresql' : undefined),
  });
  if (keylog) t.on('keylog', (line) => keylog.write(line));
  return t;
}

export interface ServerTlsEvents {
  /** The handshake finished and the certificate passed the policy's checks. */
  secure(info: TlsInfo, certificate: Buffer | null): void;
  /** It did not; `certificate`: the server's certificate (DER) when the handshake got that far. */
  failed(error: string, certificate: Buffer | null): void;
}

/** TLS as the client on pgscope's socket to the server, checked by the sslmode policy. */
export function connectServerTls(raw: net.Socket, host: string, alpn: boolean, policy: ServerTlsPolicy, keylog: KeyLogWriter | null, on: ServerTlsEvents): tls.TLSSocket {
  const t = tls.connect({ ...serverTlsOptions(policy, host, alpn), ...BUFFER_OPTION, socket: raw });
  if (keylog) t.on('keylog', (line) => keylog.write(line));
  let secured = false;
  t.once('secureConnect', () => {
    secured = true;
    let certificate: Buffer | null = null;
    try {
      certificate = t.getPeerCertificate()?.raw ?? null;
    } catch {
      certificate = null;
    }
    const problem = verifyServerCertificate(policy, t, host);
    if (problem) {
      on.failed(problem, certificate);
      t.destroy();
      return;
    }
    on.secure({ protocol: t.getProtocol(), cipher: t.getCipher()?.name ?? null, sni: null, alpn: t.alpnProtocol || null }, certificate);
  });
  t.once('error', (e) => {
    if (!secured) on.failed(describeServerTlsError(e, alpn), null);
  });
  t.once('close', () => {
    if (!secured) on.failed('the server closed the connection during the TLS handshake' + (alpn ? ' (servers before PostgreSQL 17 do not accept direct TLS: try --server-sslnegotiation postgres)' : ''), null);
  });
  return t;
}

function describeServerTlsError(e: Error, direct: boolean): string {
  const text = errorText(e);
  if (direct && /ECONNRESET|wrong version|packet length|EPIPE|unexpected eof/i.test(text)) {
    return `${text} (servers before PostgreSQL 17 do not accept direct TLS: try --server-sslnegotiation postgres)`;
  }
  return text;
}
