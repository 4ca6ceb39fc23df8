/**
 * A --filter expression that cannot be used. The message names the character position,
 * what was found and what was expected, so the start-up error alone says how to fix it.
 */
export class FilterError extends Error {
  override readonly name = 'FilterError';
  constructor(
    /** The whole expression as given. */
    readonly expression: string,
    /** 0-based index of the offending character in `expression`. */
    readonly position: number,
    /** What was there, in words ("the word \"DataRoww\"", "the end"). */
    readonly found: string,
    /** What would have been accepted, in words. */
    readonly expected: string,
    /** Extra advice (close message names, how to write an operator), or ''. */
    readonly hint = '',
  ) {
    super(`bad --filter ${JSON.stringify(expression)}: at character ${position + 1}, ${found}: expected ${expected}${hint ? `. ${hint}` : ''}`);
  }
}
