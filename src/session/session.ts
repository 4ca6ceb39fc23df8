import { Authenticating } from './authenticating.js';
import type { CancelRegistry } from './cancel-registry.js';
import { ClientStartup, describeInto } from './client-startup.js';
import { preciseNow } from './clock.js';
import { SessionCore } from './core.js';
import { Forwarding, isFatal } from './forwarding.js';
import { fmtHostPort } from './host-port.js';
import { CANCEL_WAIT_MS, SETUP_TIMEOUT_MS, type SessionAction, type SessionInput, type SessionSettings, type TimerName } from './io.js';
import { ServerLeg } from './server-leg.js';

export { CANCEL_WAIT_MS, SETUP_TIMEOUT_MS } from './io.js';
export type { SessionAction, SessionInput, SessionSettings, TimerName } from './io.js';

/**
 * One proxied connection, sans-I/O: inputs in (socket facts, from the I/O shell), actions
 * out (write, start TLS, connect, set a timer, close, log). It decides what to forward,
 * what to answer itself (SSLRequest, GSSENCRequest), when to start TLS on each leg, where
 * to connect, and what to log: it is the only author of a connection's events. It never
 * touches a socket.
 *
 * The phases live in their own files: client-startup.ts, server-leg.ts, authenticating.ts
 * (--override-auth), forwarding.ts (message by message, with a hook); core.ts holds what
 * they share.
 */
export class Session {
  private readonly core: SessionCore;
  private readonly startup: ClientStartup;
  private readonly serverLeg: ServerLeg;
  private readonly auth: Authenticating;
  private readonly forwarding: Forwarding;
  private ended = false;

  constructor(id: number, settings: SessionSettings, cancels: CancelRegistry, now: () => number = preciseNow) {
    this.core = new SessionCore(id, settings, cancels, now);
    this.startup = new ClientStartup(this.core);
    this.forwarding = new Forwarding(this.core);
    this.auth = new Authenticating(this.core, (direction, bytes) => this.forwarding.passThrough(direction, bytes));
    this.serverLeg = new ServerLeg(this.core, this.auth);
  }

  get id(): number {
    return this.core.id;
  }

  /** The server the connection was routed to, once known. */
  get server(): { host: string; port: number } | null {
    return this.core.target;
  }

  /** Why the session closed, once it has. */
  get closeReason(): string | null {
    return this.core.closeReason;
  }

  get isClosed(): boolean {
    return this.core.phase === 'closed';
  }

  /**
   * Every byte the client sent, decrypted: SSLRequest/GSSENCRequest, the startup packet or
   * CancelRequest, and everything after, forwarded or not. Not counted: TLS records
   * themselves (a direct-TLS ClientHello included).
   */
  get bytesFromClient(): number {
    return this.core.clientBytes;
  }

  /**
   * Every byte the server sent to pgscope, decrypted: its answer to pgscope's SSLRequest
   * ('S'/'N'), what pgscope consumed (--override-auth) and what it forwarded. Not counted:
   * TLS records themselves, and bytes pgscope itself wrote to the client (its answer to
   * the client's SSLRequest, its own ErrorResponses, its password request).
   */
  get bytesFromServer(): number {
    return this.core.serverBytes;
  }

  /** One input; its actions, in order (for tests and tools: the shell uses step()). */
  handle(input: SessionInput): SessionAction[] {
    const out: SessionAction[] = [];
    this.step(input, (a) => out.push(a));
    return out;
  }

  /**
   * One input; each action is handed to `perform` as soon as it is decided, so that bytes
   * the session forwards are written before it decodes and logs them.
   */
  step(input: SessionInput, perform: (a: SessionAction) => void): void {
    const core = this.core;
    // An action may hand in an input of its own (a write that fills a socket reports
    // backpressure): the outer step's remaining actions still go where they were going.
    const outer = core.act;
    core.act = perform;
    try {
      this.dispatch(input);
    } finally {
      core.act = outer;
    }
  }

  private dispatch(input: SessionInput): void {
    const core = this.core;
    if (input.type === 'client-data') {
      if (!(core.phase === 'client-startup' && this.startup.startsDirectTls(input.bytes))) core.clientBytes += input.bytes.length;
      if (core.clientTls) core.clientSpokeOverTls = true;
    } else if (input.type === 'server-data') {
      core.serverBytes += input.bytes.length;
    }
    if (input.type === 'ended') return this.onEnded();
    if (input.type === 'internal-error') {
      core.status('error', `internal error, closing this connection: ${input.error}`);
      core.close('internal error');
      return;
    }
    if (core.phase === 'closed') return;
    switch (input.type) {
      case 'client-connected': {
        const client = { address: input.address, port: input.port };
        core.log({ kind: 'connection', conn: core.id, time: core.started, phase: 'opened', client, local: { address: input.localAddress, port: input.localPort } });
        core.status('info', `connected from ${fmtHostPort(input.address, input.port)} at t0 = ${new Date(core.started).toISOString()}`, core.started);
        core.act({ type: 'set-timer', name: 'setup', ms: SETUP_TIMEOUT_MS });
        const d = core.settings.hook?.connected?.(core.id);
        if (d?.close) {
          // Refused by a hook (a fault rule): closed before a byte was read.
          if (d.note) core.status('info', `${d.note}: the connection is refused`);
          core.close(d.note ?? 'refused by a hook', d.close === 'reset' ? 'reset' : 'close');
        }
        return;
      }
      case 'client-data':
        if (core.phase === 'forwarding') this.forwarding.data('frontend', input.bytes);
        else if (core.phase === 'client-startup') this.startup.data(input.bytes);
        else if (core.phase === 'authenticating') this.auth.clientData(input.bytes);
        else this.serverLeg.hold(input.bytes);
        return;
      case 'client-tls-ready':
        this.startup.tlsReady(input.info);
        return;
      case 'client-certificate':
        if (input.pem) describeInto(core, 'client-leg certificate', input.pem);
        else core.status('warn', `cannot describe the client-leg certificate: ${input.error ?? 'no certificate'}`);
        return;
      case 'client-tls-failed':
        this.startup.tlsFailed(input.error, input.direct, input.certificateSent);
        return;
      case 'client-closed':
        this.clientClosed(input.error);
        return;
      case 'server-connected':
        this.serverLeg.connected(input.address, input.port, input.localAddress, input.localPort);
        return;
      case 'server-connect-failed':
        core.fail(`could not connect to server ${core.describeTarget()}: ${input.error}`);
        return;
      case 'server-data':
        if (core.phase === 'forwarding') this.forwarding.data('backend', input.bytes);
        else if (core.phase === 'cancel-waiting') core.status('warn', `the server sent ${input.bytes.length} byte(s) on the cancel connection (PostgreSQL sends none): not forwarded`);
        else if (core.phase === 'authenticating') this.auth.serverData(input.bytes);
        else if (core.phase === 'server-negotiating') this.serverLeg.answer(input.bytes);
        else core.fail(`the server sent ${input.bytes.length} unexpected byte(s) before pgscope was ready for them`);
        return;
      case 'server-tls-ready':
        this.serverLeg.tlsReady(input.info, input.certificate);
        return;
      case 'server-tls-failed':
        this.serverLeg.tlsFailed(input.error, input.certificate);
        return;
      case 'server-closed':
        this.serverClosed(input.error);
        return;
      case 'timer':
        this.timer(input.name);
        return;
      case 'backpressure': {
        const other = input.full === 'client' ? 'server' : 'client';
        core.status('debug', `the ${input.full} leg is full: reading from the ${other} paused until it drains`);
        return;
      }
    }
  }

  private clientClosed(error: string | undefined): void {
    const core = this.core;
    if (core.phase === 'cancel-waiting') {
      core.status('info', error ? `the client's cancel connection ended with an error before the server closed it: ${error}` : 'the client closed the cancel connection before the server did');
      core.close('client hung up');
      return;
    }
    if (core.clientTls && !core.clientSpokeOverTls && core.phase === 'client-startup') {
      // node-postgres with ssl: true (rejectUnauthorized), or libpq's host name check
      // under verify-full, finish the handshake, check the certificate, then hang up
      // without a word: a bare "client hung up" would not say why.
      core.status('warn', this.startup.certificateHint(`the client ${error ? `ended the connection (${error})` : 'hung up'} right after the TLS handshake without sending a byte: it most likely rejected pgscope's certificate`));
      core.close('client hung up after the TLS handshake');
      return;
    }
    if (core.phase === 'authenticating' && this.auth.awaitingPassword && !error) {
      // psql does this when it has no password yet: it hangs up, prompts the user, and
      // connects again with the password. A normal event, not an error.
      core.status('info', 'the client hung up at the password prompt (psql does this: it asks the user for the password, then connects again)');
    } else {
      core.status(error ? 'warn' : 'info', error ? `client connection ended with an error: ${error}` : 'client hung up');
    }
    core.close('client hung up');
  }

  private serverClosed(error: string | undefined): void {
    const core = this.core;
    if (core.phase === 'cancel-waiting') {
      core.status(error ? 'warn' : 'info', `the server closed the cancel connection${error ? ` with an error (${error})` : ''}: closing the client's side`);
      core.close('CancelRequest forwarded; the server closed the connection');
      return;
    }
    core.status(error ? 'warn' : 'info', error ? `server connection ended with an error: ${error}` : 'server hung up');
    const last = core.lastServerMessage;
    if (core.phase === 'authenticating' && last !== null && isFatal(last)) {
      // The server's own refusal (a wrong password: 28P01) already reached the client.
      core.close('server hung up');
      return;
    }
    if (core.phase !== 'forwarding') {
      if (!core.cancelOnly) core.fail(`the server ${core.describeTarget()} closed the connection during setup${error ? `: ${error}` : ''}`);
      else core.close('server hung up');
      return;
    }
    // (It closes, once what waits behind a delay toward the client has gone out.)
    this.forwarding.serverClosed(error);
  }

  private timer(name: TimerName): void {
    const core = this.core;
    switch (name) {
      case 'setup':
        // PostgreSQL drops a client that has not finished its startup after
        // authentication_timeout; pgscope does the same before it starts forwarding.
        if (core.phase !== 'forwarding' && core.phase !== 'cancel-waiting') core.fail(`the connection did not finish its startup within ${SETUP_TIMEOUT_MS / 1000} s`, '08006');
        return;
      case 'cancel':
        if (core.phase !== 'cancel-waiting') return;
        core.status('warn', `the server did not close the cancel connection within ${CANCEL_WAIT_MS / 1000} s: closing it anyway (the client may now send its next statement before the cancel has reached the server's backend)`);
        core.close('the server did not close the cancel connection in time');
        return;
      case 'delay:frontend':
      case 'delay:backend':
        if (core.phase === 'forwarding') this.forwarding.delayOver(name === 'delay:frontend' ? 'frontend' : 'backend');
        else if (name === 'delay:frontend') this.startup.delayOver();
        return;
    }
  }

  /** Both sockets are gone: the connection's last words. */
  private onEnded(): void {
    if (this.ended) return;
    this.ended = true;
    const core = this.core;
    // However it ended (even destroyed after an internal error), its keys cancel nothing now.
    core.cancels.forget(core.id);
    try {
      core.settings.hook?.ended?.(core.id);
    } catch (e) {
      core.status('warn', `the message hook failed when the connection ended: ${e instanceof Error ? e.message : String(e)}`);
    }
    core.status('info', 'connection end');
    core.ended();
  }
}
