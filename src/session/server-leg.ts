import { Conversation } from '../protocol/conversation.js';
import { encodeSslRequest } from '../protocol/encode.js';
import { errorFields } from '../protocol/inspect.js';
import { clip, SERVER_TEXT_MAX } from '../protocol/clip.js';
import type { Authenticating } from './authenticating.js';
import { describeInto } from './client-startup.js';
import { MAX_PENDING_BYTES, type SessionCore } from './core.js';
import type { TlsInfo } from './events.js';
import { fmtHostPort } from './host-port.js';
import { CANCEL_WAIT_MS } from './io.js';

/**
 * pgscope's leg to the server: the TCP connection, pgscope's own SSLRequest or direct TLS
 * (libpq's sslmode and sslnegotiation rules), then the start of forwarding: the client's
 * bytes held meanwhile go first. A CancelRequest's connection then waits for the server to
 * close it (phase 'cancel-waiting'). Phases 'server-connecting', 'server-negotiating',
 * 'server-tls'.
 */
export class ServerLeg {
  /** pgscope's own negotiation with the server (its SSLRequest and the answer). */
  private readonly negotiation = new Conversation();

  constructor(
    private readonly core: SessionCore,
    private readonly auth: Authenticating,
  ) {}

  connected(address: string, port: number, localAddress: string, localPort: number): void {
    const core = this.core;
    core.log({ kind: 'connection', conn: core.id, time: core.now(), phase: 'server-connected', host: core.target?.host ?? address, port: core.target?.port ?? port, why: core.targetWhy, remote: { address, port }, local: { address: localAddress, port: localPort } });
    // "at" only when the address differs from the target as named (a host name, not the address itself).
    const at = fmtHostPort(address, port);
    core.status('info', `connected to server ${core.describeTarget()}${at === core.describeTarget() ? '' : ` at ${at}`}`);
    const tls = core.settings.serverTls;
    if (!tls.attempt) {
      this.startForwarding();
      return;
    }
    const sslneg = core.settings.serverSslnegotiation;
    const mode = sslneg === 'mimic' ? (core.clientTls?.direct ? 'direct' : 'postgres') : sslneg;
    core.status('debug', `server TLS: --server-sslmode ${tls.mode}, negotiation ${mode}${sslneg === 'mimic' ? ' (mimicking the client)' : ''}`);
    if (mode === 'direct') {
      core.phase = 'server-tls';
      core.status('info', 'starting direct TLS with the server (ALPN postgresql)');
      core.act({ type: 'start-server-tls', host: core.target!.host, alpn: true });
      return;
    }
    core.phase = 'server-negotiating';
    const req = encodeSslRequest();
    for (const ev of this.negotiation.push('frontend', req)) core.codec('script -> server', ev);
    core.act({ type: 'send-server', bytes: req, forwarded: false });
  }

  /** The server's answer to pgscope's SSLRequest. */
  answer(bytes: Buffer): void {
    const core = this.core;
    const events = this.negotiation.push('backend', bytes);
    for (const ev of events) core.codec('server -> script', ev);
    const first = String.fromCharCode(bytes[0]!);
    if (first === 'S') {
      if (bytes.length > 1) {
        // CVE-2021-23222: never treat bytes that came before the handshake as encrypted.
        core.fail(`the server sent ${bytes.length - 1} unencrypted byte(s) after agreeing to SSL`);
        return;
      }
      core.phase = 'server-tls';
      core.act({ type: 'start-server-tls', host: core.target!.host, alpn: false });
      return;
    }
    if (first === 'N') {
      if (core.settings.serverTls.requireEncryption) {
        core.fail(`the server does not support SSL, but --server-sslmode ${core.settings.serverTls.mode} requires it`);
        return;
      }
      core.status('info', `the server refused SSL: continuing unencrypted (--server-sslmode ${core.settings.serverTls.mode})`);
      this.startForwarding();
      return;
    }
    const msg = events.find((e) => e.kind === 'message');
    const text = msg && msg.kind === 'message' && msg.message.name === 'ErrorResponse' ? errorFields(msg.message)['M'] : undefined;
    core.fail(`the server answered SSLRequest with ${JSON.stringify(first)} instead of S or N${text ? `: ${clip(text, SERVER_TEXT_MAX)}` : ''}`);
  }

  tlsReady(info: TlsInfo, certificate: Buffer | null): void {
    const core = this.core;
    if (core.settings.logCerts && certificate) describeInto(core, 'server certificate', certificate);
    core.serverTls = info;
    core.serverCertificate = certificate;
    core.log({ kind: 'connection', conn: core.id, time: core.now(), phase: 'server-tls', tls: info });
    core.status('info', `${info.protocol ?? 'TLS'}/${info.cipher ?? '?'} connection established with server${info.alpn ? ` (ALPN ${info.alpn})` : ''}`);
    this.startForwarding();
  }

  tlsFailed(error: string, certificate: Buffer | null | undefined): void {
    const core = this.core;
    if (core.settings.logCerts && certificate) describeInto(core, 'server certificate', certificate);
    core.fail(`TLS with server ${core.describeTarget()} failed: ${error}`);
  }

  /**
   * Client bytes between its StartupMessage and the server being ready (rare: clients wait
   * for the authentication request). Logged now, forwarded in order once the server is
   * ready; bounded, so a client cannot make pgscope hold gigabytes while a server is slow.
   */
  hold(bytes: Buffer): void {
    const core = this.core;
    if (core.cancelOnly) {
      core.status('warn', `${bytes.length} byte(s) after the CancelRequest ignored`);
      return;
    }
    core.pendingBytes += bytes.length;
    if (core.pendingBytes > MAX_PENDING_BYTES) {
      core.fail(`the client sent more than ${MAX_PENDING_BYTES} bytes before the server was ready for them`, '08P01');
      return;
    }
    core.pendingToServer.push(bytes);
    const offset = core.conv.frontend.offset;
    for (const ev of core.conv.push('frontend', bytes)) core.codec('client -> server', ev);
    core.wire('client -> server', 'frontend', offset, bytes);
  }

  private startForwarding(): void {
    const core = this.core;
    core.phase = 'forwarding';
    const override = core.settings.overrideAuth;
    const startup = core.startupFrame;
    if (override && startup && !core.cancelOnly) {
      // Only the StartupMessage goes now: anything the client sent after it must wait until
      // pgscope has authenticated, or the server would read it as an authentication reply.
      const held = Buffer.concat(core.pendingToServer);
      core.pendingToServer = held.length > startup.length ? [held.subarray(startup.length)] : [];
      core.act({ type: 'send-server', bytes: held.subarray(0, startup.length), forwarded: true });
      core.forwarded('client -> server', startup.length);
      this.auth.begin(override.channelBinding, startup);
      return;
    }
    core.sendHeldToServer();
    core.act({ type: 'clear-timer', name: 'setup' });
    if (core.cancelOnly) {
      // libpq's PQcancel returns only once the server has closed the cancel connection,
      // which PostgreSQL does after signalling the backend: only then may the client's next
      // statement go, safe from this cancel. So the client's side stays open until then.
      core.phase = 'cancel-waiting';
      core.status('info', 'CancelRequest forwarded: waiting for the server to close the cancel connection');
      core.act({ type: 'set-timer', name: 'cancel', ms: CANCEL_WAIT_MS });
    }
  }
}
