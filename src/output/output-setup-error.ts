/**
 * An output that cannot be set up as asked (a file that cannot be opened, two outputs on
 * one file): a mistake in the command line, which the CLI reports as one line, status 2.
 */
export class OutputSetupError extends Error {
  override readonly name = 'OutputSetupError';
}
