import tls from 'node:tls';
import type { CertPair, GeneratedCertificates } from '../tls/certificates.js';
import type { LocalCa } from '../tls/local-ca.js';

/**
 * The certificates pgscope shows to clients, as TLS secure contexts: either the user's
 * (--client-ssl-cert/--client-ssl-key) for every name, or one per SNI name: generated
 * self-signed, or signed by pgscope's local CA (--client-ca); either way one key per
 * process, so a new connection costs no key generation.
 */
/**
 * Certificates kept per SNI name. Clients that cycle through names must not grow memory
 * without bound; the oldest names are forgotten first (and regenerated if asked again).
 */
const MAX_NAMES = 1000;

export class ClientTlsContexts {
  private readonly contexts = new Map<string, Promise<{ ctx: tls.SecureContext; pair: CertPair }>>();
  private defaultEntry: { ctx: tls.SecureContext; pair: CertPair } | null = null;

  constructor(private readonly source: { kind: 'generated'; certs: GeneratedCertificates } | { kind: 'ca'; ca: LocalCa } | { kind: 'files'; pair: CertPair }) {}

  /** Make the default context (no SNI) ready; call once before accepting connections. */
  async prepare(): Promise<void> {
    this.defaultEntry = await this.entry(null);
  }

  /** The context used when the client sends no SNI (ready after prepare()). */
  get defaultContext(): tls.SecureContext {
    if (!this.defaultEntry) throw new Error('ClientTlsContexts.prepare() was not awaited');
    return this.defaultEntry.ctx;
  }

  /** For SNICallback: a context whose certificate names the host the client asked for. */
  contextFor(name: string): Promise<tls.SecureContext> {
    return this.entry(name).then((e) => e.ctx);
  }

  /** The certificate PEM shown for a name (for --log-certs). */
  async pemFor(name: string | null): Promise<string> {
    return (await this.entry(name)).pair.certPem;
  }

  private entry(name: string | null): Promise<{ ctx: tls.SecureContext; pair: CertPair }> {
    const key = this.source.kind === 'files' ? '' : (name ?? '').toLowerCase();
    let e = this.contexts.get(key);
    if (!e) {
      const src = this.source;
      const pairP = src.kind === 'files' ? Promise.resolve(src.pair) : src.kind === 'ca' ? src.ca.issue(name) : src.certs.forName(name);
      e = pairP.then((pair) => ({ ctx: tls.createSecureContext({ cert: pair.certPem, key: pair.keyPem }), pair }));
      // A failure is not cached: the next connection tries again.
      e.catch(() => this.contexts.delete(key));
      this.contexts.set(key, e);
      if (this.contexts.size > MAX_NAMES) {
        // Map iteration is insertion order: the first key is the oldest name.
        const oldest = this.contexts.keys().next().value;
        if (oldest !== undefined) this.contexts.delete(oldest);
      }
    }
    return e;
  }
}
