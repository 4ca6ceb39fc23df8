import { Conversation } from '../protocol/conversation.js';
import { encodeAuthenticationCleartextPassword } from '../protocol/encode.js';
import { passwordMessage } from '../protocol/frontend/password-message.js';
import { tryFields } from '../protocol/registry.js';
import type { Direction } from '../protocol/types.js';
import { describeServerError, OverrideAuth } from './auth/override-auth.js';
import type { ChannelBindingPolicy } from './auth/choose-mechanism.js';
import { MAX_PENDING_BYTES, type SessionCore } from './core.js';

/**
 * --override-auth: pgscope authenticates to the server itself (phase 'authenticating'),
 * with the password it asks the client for in cleartext. The server's requests are
 * answered by OverrideAuth; what the server says to the client (NegotiateProtocolVersion,
 * a refusal) is passed on; the client's bytes after its password wait until pgscope is in.
 */
export class Authenticating {
  private auth: OverrideAuth | null = null;
  /** pgscope's own view of its exchange with the server. */
  private conv: Conversation | null = null;
  /** pgscope asked the client for its password and waits for it. */
  awaitingPassword = false;

  constructor(
    private readonly core: SessionCore,
    /** Forwarding's way to pass the server's bytes on to the client as its own. */
    private readonly forward: (direction: Direction, bytes: Buffer) => void,
  ) {
    core.onClose.push(() => this.forget());
  }

  begin(channelBinding: ChannelBindingPolicy, startup: Buffer): void {
    const core = this.core;
    core.phase = 'authenticating';
    const user = core.conv.ctx.startupParams?.['user'] ?? '';
    this.auth = new OverrideAuth({ user, policy: channelBinding, serverTls: core.serverTls !== null, serverCertificate: core.serverCertificate });
    // pgscope's own view of its exchange with the server: it starts with the client's
    // StartupMessage (already logged as forwarded), so that the 'p' messages pgscope sends
    // are decoded against the server's requests.
    this.conv = new Conversation();
    this.conv.push('frontend', startup);
  }

  /** The server's authentication messages while pgscope authenticates. */
  serverData(bytes: Buffer): void {
    const core = this.core;
    const conv = this.conv!;
    const auth = this.auth!;
    for (const ev of conv.push('backend', bytes)) {
      if (ev.kind === 'message-start') continue;
      if (ev.kind !== 'message') {
        core.codec('server -> script', ev);
        core.fail('the server sent malformed data during authentication', '08P01');
        return;
      }
      const m = ev.message;
      const step = auth.onServerMessage(m);
      core.security.serverOffered(auth.facts.offered.includes('SCRAM-SHA-256-PLUS'));
      if (step.kind === 'pass' || step.kind === 'done') {
        if (!m.frame.complete) {
          core.fail(`the server's ${m.name} is too large to pass on during authentication`, '08P01');
          return;
        }
        // Passed on as the server sent it: the client sees it as the server's own.
        if (step.kind === 'pass') {
          if (m.name === 'ErrorResponse') core.status('warn', `the server refused: ${describeServerError(m)}`);
          this.forward('backend', m.frame.bytes);
          continue;
        }
        if (this.awaitingPassword) {
          // The server let pgscope in while the client's password was still to come: the
          // client's PasswordMessage would then reach the server as a query.
          core.fail('the server sent AuthenticationOk before pgscope had answered its password request', '08P01');
          return;
        }
        core.status('info', `${step.summary} (--override-auth)`);
        core.phase = 'forwarding';
        this.forget();
        core.sendHeldToServer();
        // AuthenticationOk and whatever follows it in this chunk: ordinary forwarded traffic now.
        const after = m.frame.offset + m.frame.size - (conv.backend.offset - bytes.length);
        this.forward('backend', Buffer.concat([m.frame.bytes, bytes.subarray(Math.max(0, after))]));
        return;
      }
      core.codec('server -> script', ev);
      switch (step.kind) {
        case 'ask-client':
          core.status('info', `${step.why}: asking the client for its password in cleartext (--override-auth)`);
          this.awaitingPassword = true;
          core.reply(encodeAuthenticationCleartextPassword());
          break;
        case 'send-server':
          this.send(step.bytes);
          break;
        case 'wait':
          break;
        case 'fail':
          core.fail(step.message, step.code);
          return;
      }
    }
  }

  /** The client's messages while pgscope authenticates: its PasswordMessage, or a goodbye. */
  clientData(bytes: Buffer): void {
    const core = this.core;
    const chunkStart = core.conv.frontend.offset;
    // From this absolute offset on, the client's bytes are for the server, held until pgscope
    // has authenticated (a client that does not wait for AuthenticationOk). Raw bytes are
    // held, not decoded frames, so a message split across chunks stays whole.
    let holdFrom: number | null = this.awaitingPassword ? null : chunkStart;
    for (const ev of core.conv.push('frontend', bytes)) {
      if (ev.kind === 'message-start') continue;
      if (holdFrom !== null) {
        core.codec('client -> server', ev);
        continue;
      }
      core.codec('client -> script', ev);
      if (ev.kind !== 'message') {
        core.fail('malformed data from the client during authentication', '08P01');
        return;
      }
      const m = ev.message;
      if (m.name === 'Terminate') {
        core.status('info', 'the client ended the connection at the password prompt');
        core.close('client terminated during authentication');
        return;
      }
      const given = m.name === 'PasswordMessage' ? tryFields(passwordMessage, m) : null;
      if (!given) {
        core.fail(`expected the client's PasswordMessage (pgscope asked for a cleartext password), got ${m.name}`, '08P01');
        return;
      }
      this.awaitingPassword = false;
      core.security.clientGavePassword();
      holdFrom = m.frame.offset + m.frame.size;
      // The password's bytes (a copy: OverrideAuth wipes it when done).
      const step = this.auth!.onClientPassword(Buffer.from(given.password));
      if (step.kind === 'send-server') this.send(step.bytes);
      else if (step.kind === 'fail') {
        core.fail(step.message, step.code);
        return;
      }
    }
    const holdAt = holdFrom === null ? bytes.length : holdFrom - chunkStart;
    if (holdAt > 0) core.wire('client -> script', 'frontend', chunkStart, bytes.subarray(0, holdAt));
    if (holdAt < bytes.length) this.hold(bytes.subarray(holdAt), chunkStart + holdAt);
  }

  /** Client bytes for the server while pgscope authenticates: kept in order, bounded like ServerLeg.hold's. */
  private hold(bytes: Buffer, offset: number): void {
    const core = this.core;
    core.pendingBytes += bytes.length;
    if (core.pendingBytes > MAX_PENDING_BYTES) {
      core.fail(`the client sent more than ${MAX_PENDING_BYTES} bytes before authentication finished`, '08P01');
      return;
    }
    core.pendingToServer.push(Buffer.from(bytes));
    core.wire('client -> server', 'frontend', offset, bytes);
  }

  /** pgscope's own authentication message to the server, decoded into its own conversation. */
  private send(bytes: Buffer): void {
    for (const ev of this.conv!.push('frontend', bytes)) this.core.codec('script -> server', ev);
    this.core.act({ type: 'send-server', bytes, forwarded: false });
  }

  private forget(): void {
    this.auth?.forget();
    this.auth = null;
    this.conv = null;
  }
}
