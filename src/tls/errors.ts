/** A problem with TLS configuration given by the user (files, modes): reported once, cleanly, at startup. */
export class TlsSetupError extends Error {
  override name = 'TlsSetupError';
}
