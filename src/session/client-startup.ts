import { Conversation } from '../protocol/conversation.js';
import { cancelRequest } from '../protocol/frontend/cancel-request.js';
import { tryFields } from '../protocol/registry.js';
import type { DecodedMessage } from '../protocol/types.js';
import { describeCertificate } from '../tls/describe-cert.js';
import type { SessionCore } from './core.js';
import { timerMs } from './io.js';
import type { TlsInfo } from './events.js';
import { describeDecision, type MessageDecision } from './message-hook.js';
import { serverHostFor } from './routing.js';

/**
 * The client's side of the startup: SSLRequest and GSSENCRequest (answered by pgscope),
 * direct TLS (PostgreSQL 17+), then the StartupMessage (the server is chosen and connected
 * to) or a CancelRequest (routed to the server that owns its key). Phases 'client-startup'
 * and 'client-tls'.
 */
export class ClientStartup {
  /** Raw bytes of a startup packet still arriving (it may span several chunks). */
  private carry: Buffer = Buffer.alloc(0);
  /** SSLRequest / GSSENCRequest already answered: PostgreSQL accepts each once. */
  private sslDone = false;
  private gssDone = false;
  /** The StartupMessage and what followed it in its chunk, for the 'wire' event after that chunk's codec events. */
  private startupWire: { offset: number; bytes: Buffer } | null = null;

  /** The server connection a hook's delay holds back (see delayOver). */
  private delayedConnect: (() => void) | null = null;

  constructor(private readonly core: SessionCore) {}

  /** The delay a hook put on the StartupMessage is over: connect to the server now. */
  delayOver(): void {
    const connect = this.delayedConnect;
    this.delayedConnect = null;
    if (connect && this.core.phase === 'server-connecting') connect();
  }

  /** The hook's decision about the StartupMessage, if it wants to make one. */
  private askHook(m: DecodedMessage): MessageDecision | null {
    const hook = this.core.settings.hook;
    if (!hook?.startup || !m.frame.complete) return null;
    return hook.startup({ conn: this.core.id, direction: 'frontend', message: m, bytes: m.frame.bytes, sql: null }) ?? null;
  }

  /** A direct-TLS ClientHello where a startup packet would begin (PostgreSQL 17+). */
  startsDirectTls(bytes: Buffer): boolean {
    const fe = this.core.conv.frontend;
    return bytes[0] === 0x16 && fe.idle && fe.mode === 'startup' && !this.core.clientTls;
  }

  data(bytes: Buffer): void {
    const core = this.core;
    const fe = core.conv.frontend;
    // Direct TLS (PostgreSQL 17+): a TLS record where a startup packet would begin.
    if (this.startsDirectTls(bytes)) {
      const hello = new Conversation();
      for (const ev of hello.push('frontend', bytes)) if (ev.kind === 'message') core.codec('client -> script', ev);
      if (core.settings.clientDenySsl) {
        // No plaintext answer can reach a client that is mid-handshake; PostgreSQL without
        // SSL closes the connection too.
        core.status('error', 'the client started TLS directly (direct TLS), but --client-deny-ssl keeps the client leg unencrypted: closing the connection');
        core.close('direct TLS refused (--client-deny-ssl)');
        return;
      }
      core.phase = 'client-tls';
      core.act({ type: 'start-client-tls', initial: bytes, direct: true });
      return;
    }
    // Slices below are taken from `raw`: the bytes of a packet that began in an earlier
    // chunk followed by this chunk, so a packet split by TCP is forwarded whole.
    const raw = this.carry.length ? Buffer.concat([this.carry, bytes]) : bytes;
    const rawStart = fe.offset - this.carry.length;
    const events = core.conv.push('frontend', bytes);
    const partial = fe.partial;
    this.carry = partial ? Buffer.from(raw.subarray(partial.offset - rawStart)) : Buffer.alloc(0);
    for (const ev of events) {
      if (core.phase !== 'client-startup') {
        // The StartupMessage moved us on: later events in this chunk are forwarded traffic.
        if (core.phase !== 'closed') core.codec('client -> server', ev);
        continue;
      }
      if (ev.kind === 'error' || ev.kind === 'unparsed') {
        core.codec('client -> script', ev);
        core.fail(ev.kind === 'error' ? `invalid startup packet: ${ev.error.expected}` : 'invalid startup packet', '08P01');
        return;
      }
      if (ev.kind !== 'message') continue;
      const m = ev.message;
      if (m.error) {
        core.codec('client -> script', ev);
        core.fail(`invalid startup packet: ${m.error.expected}`, '08P01');
        return;
      }
      switch (m.name) {
        case 'SSLRequest': {
          core.codec('client -> script', ev);
          if (this.sslDone) {
            core.fail('unsupported frontend protocol: the client sent SSLRequest again after it was answered (PostgreSQL refuses this too)', '08P01');
            return;
          }
          this.sslDone = true;
          if (core.settings.clientDenySsl) {
            core.reply(Buffer.from('N'));
            core.status('info', 'refused SSL to the client (--client-deny-ssl): the client leg stays unencrypted');
            break;
          }
          const end = m.frame.offset + m.frame.size;
          if (fe.offset > end) {
            // CVE-2021-23214: bytes sent before the handshake must not be trusted as if
            // they had come over TLS. PostgreSQL closes the connection; so do we.
            core.status('error', `received ${fe.offset - end} unencrypted byte(s) after SSLRequest, before the TLS handshake: closing the connection (CVE-2021-23214)`);
            core.close('unencrypted data after SSLRequest');
            return;
          }
          core.reply(Buffer.from('S'));
          core.phase = 'client-tls';
          core.act({ type: 'start-client-tls', initial: Buffer.alloc(0), direct: false });
          return;
        }
        case 'GSSENCRequest':
          // pgscope cannot terminate GSSAPI encryption: answer N, the client goes on with
          // SSLRequest or plaintext (as libpq does with gssencmode=prefer).
          core.codec('client -> script', ev);
          if (this.gssDone) {
            core.fail('unsupported frontend protocol: the client sent GSSENCRequest again after it was answered (PostgreSQL refuses this too)', '08P01');
            return;
          }
          this.gssDone = true;
          core.reply(Buffer.from('N'));
          break;
        case 'CancelRequest': {
          core.codec('client -> server', ev);
          const from = m.frame.offset - rawStart;
          core.pendingToServer.push(Buffer.from(raw.subarray(from, from + m.frame.size)));
          core.wire('client -> server', 'frontend', m.frame.offset, raw.subarray(from, from + m.frame.size));
          const extra = raw.length - (from + m.frame.size);
          this.routeCancel(m);
          // A CancelRequest is the whole conversation: anything after it is not forwarded.
          if (extra > 0) core.status('warn', `${extra} byte(s) after the CancelRequest ignored`);
          return;
        }
        case 'StartupMessage': {
          const d = this.askHook(m);
          if (d && (d.close || (d.reply && d.reply.length > 0) || (d.forward && d.forward.length === 0))) {
            // Refused by a hook (a fault rule): answered by pgscope, the server never hears of it.
            core.codec('client -> script', ev);
            if (d.note) core.status('info', `${d.note}: ${describeDecision(m, d)}`);
            for (const b of d.reply ?? []) core.reply(b);
            core.close(d.note ?? 'refused by a hook', d.close === 'reset' ? 'reset' : 'close');
            return;
          }
          core.codec('client -> server', ev);
          core.startupFrame = m.frame.complete ? m.frame.bytes : null;
          // From here on, every byte goes to the server as it came.
          const rest = raw.subarray(m.frame.offset - rawStart);
          core.pendingToServer.push(Buffer.from(rest));
          core.pendingBytes = rest.length;
          this.startupWire = { offset: m.frame.offset, bytes: Buffer.from(rest) };
          const r = serverHostFor(core.settings.serverHost, core.clientTls?.sni ?? null, core.settings.serverDeleteSuffix);
          if (d?.delayMs !== undefined) {
            // A slow startup: the server is connected to when the delay is over.
            if (d.note) core.status('info', `${d.note}: ${describeDecision(m, d)}`);
            core.phase = 'server-connecting';
            this.delayedConnect = () => core.connect(r.host, core.settings.serverConnectPort, r.why);
            if (d.delayMs !== Infinity) core.act({ type: 'set-timer', name: 'delay:frontend', ms: timerMs(d.delayMs) });
            break;
          }
          core.connect(r.host, core.settings.serverConnectPort, r.why);
          break;
        }
        default:
          core.codec('client -> script', ev);
          core.fail(`unexpected ${m.name} during startup`, '08P01');
          return;
      }
    }
    const w = this.startupWire;
    this.startupWire = null;
    if (w && core.phase !== 'closed') core.wire('client -> server', 'frontend', w.offset, w.bytes);
  }

  tlsReady(info: TlsInfo): void {
    const core = this.core;
    const direct = core.phase === 'client-tls' && core.conv.frontend.offset === 0 && core.conv.frontend.idle;
    core.clientTls = { ...info, direct };
    this.sslDone = true;
    this.gssDone = true;
    core.conv.encryptionEstablished();
    core.phase = 'client-startup';
    core.log({ kind: 'connection', conn: core.id, time: core.now(), phase: 'client-tls', tls: info, direct });
    core.status('info', `${info.protocol ?? 'TLS'}/${info.cipher ?? '?'} connection established with client${direct ? ' (direct TLS)' : ''}`);
    core.status('info', info.sni ? `server name via SNI: ${info.sni}` : 'no SNI from the client');
    if (direct && info.alpn !== 'postgresql') {
      // PostgreSQL 17 refuses direct TLS without ALPN "postgresql" (it guards against
      // cross-protocol attacks); a proxy that accepted it would hide that from the user.
      core.fail('direct TLS connection without ALPN "postgresql": PostgreSQL servers refuse these', '08P01');
    }
  }

  tlsFailed(error: string | null, direct: boolean, certificateSent: boolean): void {
    const core = this.core;
    const how = direct ? ' (direct TLS)' : '';
    if (error !== null) {
      core.status('error', `TLS handshake with the client failed${how}: ${error}`);
      if (rejectedCertificate(error)) core.status('warn', this.certificateHint(`the client rejected pgscope's certificate (${tlsAlert(error)})`));
    } else if (certificateSent) {
      // node-postgres with ssl: true checks the certificate when the server's first flight
      // arrives and, failing, closes without an alert.
      core.status('warn', this.certificateHint(`the client hung up during the TLS handshake${how}, after pgscope had sent its certificate, without a TLS alert: it most likely rejected pgscope's certificate`));
    } else {
      core.status('info', `the client hung up before the TLS handshake${how} got under way`);
    }
    core.close(error !== null ? 'TLS handshake with the client failed' : 'the client hung up during the TLS handshake');
  }

  /** What happened when a client refused pgscope's certificate, and the ways through, for the certificate pgscope showed. */
  certificateHint(what: string): string {
    const through = 'or let the client accept it for this debugging session (libpq: sslmode=require instead of verify-ca/verify-full; node-postgres: ssl: { rejectUnauthorized: false })';
    switch (this.core.settings.clientCertificate ?? 'self-signed') {
      case 'local-ca':
        return `${what}, signed by pgscope's local CA (--client-ca), which the client does not trust (or the certificate does not name the host it connected to: it names the host name the client sent by SNI, else localhost, 127.0.0.1 and ::1): give it that CA as its root (libpq: sslrootcert=$(pgscope ca --print-path); node-postgres: ssl: { ca }), ${through}`;
      case 'user-certificate':
        return `${what}, given with --client-ssl-cert, which the client does not trust or which does not name the host it connected to: make the client trust its issuer and connect by a name it carries, ${through}`;
      default:
        return `${what}, self-signed, which a verifying client cannot trust. Ways through: run pgscope with --client-ca and have the client trust that CA (libpq: sslmode=verify-full sslrootcert=$(pgscope ca --print-path)), ${through}`;
    }
  }

  private routeCancel(m: DecodedMessage): void {
    const core = this.core;
    core.cancelOnly = true;
    const f = tryFields(cancelRequest, m);
    const known = f ? core.cancels.lookup(f.processId, f.secretKey) : undefined;
    if (known) {
      core.connect(known.host, known.port, `the key of connection #${known.conn}`);
      return;
    }
    const r = serverHostFor(core.settings.serverHost, core.clientTls?.sni ?? null, core.settings.serverDeleteSuffix);
    core.connect(r.host, core.settings.serverConnectPort, `${r.why} (the key was not seen by this pgscope)`);
  }
}

/** --log-certs: a certificate (PEM or DER) described in status lines, `what: …` each. */
export function describeInto(core: SessionCore, what: string, certificate: string | Buffer): void {
  try {
    for (const line of describeCertificate(certificate)) core.status('info', `${what}: ${line}`);
  } catch (e) {
    core.status('warn', `cannot describe the ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * TLS alerts a client sends when it does not accept the server's certificate (OpenSSL's
 * texts, as Node reports them: "… tlsv1 alert unknown ca … SSL alert number 48").
 */
const CERTIFICATE_ALERTS = /alert (unknown ca|bad certificate|certificate unknown|unsupported certificate|certificate expired|certificate revoked)|alert number (42|43|44|45|46|48)\b/i;

function rejectedCertificate(error: string): boolean {
  return CERTIFICATE_ALERTS.test(error);
}

/** The alert's name, for the hint ("tlsv1 alert unknown ca"). */
function tlsAlert(error: string): string {
  const m = /(?:sslv3|tlsv1)? ?alert [a-z ]+?(?=:| \(|$|,)/i.exec(error) ?? /alert number \d+/i.exec(error);
  return m ? m[0].trim() : 'a TLS alert';
}
