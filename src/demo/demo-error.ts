/** A problem starting the demo: pgscope prints the message (no stack trace) and exits 1. */
export class DemoError extends Error {
  override readonly name = 'DemoError';
}
