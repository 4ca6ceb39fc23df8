import { authenticationCode, offeredMechanisms } from '../protocol/backend/authentication.js';
import { saslChannelBindingFlag, saslMechanism } from '../protocol/frontend/sasl-initial-response.js';
import { errorFields } from '../protocol/inspect.js';
import type { DecodedMessage } from '../protocol/types.js';
import { clip, SERVER_TEXT_MAX } from '../protocol/clip.js';
import type { SecurityVerdict } from './records.js';
import { securityVerdict } from './verdict.js';

/** What the watch tells its session: status lines to log, and the verdict once it is given. */
export interface SecurityNotes {
  warnings: string[];
  verdict: SecurityVerdict | null;
}

export interface SecurityWatchFacts {
  /** The certificate pgscope shows the client, or 'none' when the client leg is plaintext (asked when needed: TLS may come later). */
  clientLeg: () => SecurityVerdict['tls'];
  /** pgscope's leg to the server is TLS. */
  serverTls: () => boolean;
  overrideAuth: boolean;
  /** The authentication request the server made last ('R' code), as the codec's context knows it. */
  authRequest: () => number | null;
}

const NO_NOTES: SecurityNotes = Object.freeze({ warnings: [], verdict: null }) as SecurityNotes;

/**
 * One connection's authentication, watched until AuthenticationOk: how the client
 * authenticated and what the server offered, then the verdict on the client's exposure to
 * a man in the middle (verdict.ts). On the way, the hints that explain a failure the user
 * would otherwise not understand: a plaintext client leg offered SCRAM-SHA-256-PLUS, and a
 * server refusing the client's channel binding (bound to pgscope's certificate).
 */
export class SecurityWatch {
  private clientAuth: string | null = null;
  private clientGs2: 'n' | 'y' | 'p' | null = null;
  private serverOfferedPlus = false;
  private given = false;
  private channelBindingHinted = false;

  constructor(private readonly facts: SecurityWatchFacts) {}

  /** The verdict was given: nothing more to watch. */
  get done(): boolean {
    return this.given;
  }

  /** --override-auth: pgscope asked the client for a cleartext password, and the server offered -PLUS or not. */
  clientGavePassword(): void {
    this.clientAuth = 'cleartext password';
  }

  serverOffered(plus: boolean): void {
    if (plus) this.serverOfferedPlus = true;
  }

  /** A message of the client's conversation (either direction), before AuthenticationOk. */
  observe(m: DecodedMessage): SecurityNotes {
    if (this.given) return NO_NOTES;
    const f = m.frame;
    if (f.direction === 'frontend') {
      if (m.name === 'SASLInitialResponse') {
        this.clientAuth = saslMechanism(m) ?? 'SASL';
        const flag = saslChannelBindingFlag(m);
        if (typeof flag === 'string') this.clientGs2 = flag.startsWith('p') ? 'p' : flag === 'y' ? 'y' : 'n';
      } else if (m.name === 'PasswordMessage') {
        this.clientAuth = this.facts.authRequest() === 5 ? 'MD5' : 'cleartext password';
      }
      return NO_NOTES;
    }
    if (f.type === 'E' && this.clientGs2 === 'p' && !this.channelBindingHinted) {
      const fields = errorFields(m);
      if (!/channel.binding/i.test(fields['M'] ?? '')) return NO_NOTES;
      // psql's default channel_binding=prefer over TLS: the client bound its SCRAM proof
      // to pgscope's certificate, and the server, which checks it against its own, refuses.
      this.channelBindingHinted = true;
      return {
        warnings: [
          `the server refused the client's SCRAM channel binding (${clip(fields['M'] ?? '', SERVER_TEXT_MAX)}): the client bound its proof to pgscope's certificate, not the server's (catching a man in the middle is what channel binding is for; libpq uses it whenever the server offers SCRAM-SHA-256-PLUS, channel_binding=prefer). Ways through: channel_binding=disable on the client; --override-auth (pgscope authenticates to the server itself); or --client-ssl-cert/--client-ssl-key with the server's own certificate and key`,
        ],
        verdict: null,
      };
    }
    if (f.type !== 'R') return NO_NOTES;
    const warnings: string[] = [];
    const code = authenticationCode(m);
    if (code === 10 && offeredMechanisms(m).includes('SCRAM-SHA-256-PLUS')) {
      this.serverOfferedPlus = true;
      if (this.facts.clientLeg() === 'none' && this.facts.serverTls()) {
        // The server offers -PLUS because pgscope's leg to it is TLS; libpq on a plaintext
        // leg refuses that offer ("server offered SCRAM-SHA-256-PLUS authentication over a
        // non-SSL connection") and the connection fails with nothing said here otherwise.
        warnings.push('the server offers SCRAM-SHA-256-PLUS (pgscope reaches it over TLS) to a client on a plaintext leg: libpq refuses that; use TLS on the client leg, --override-auth, or --server-sslmode disable');
      }
    }
    if (code !== 0) return { warnings, verdict: null };
    this.given = true;
    const verdict = securityVerdict({
      tls: this.facts.clientLeg(),
      clientAuth: this.clientAuth,
      gs2Flag: this.clientGs2,
      serverOfferedPlus: this.serverOfferedPlus,
      overrideAuth: this.facts.overrideAuth,
    });
    return { warnings, verdict };
  }
}
