import type { Direction } from './types.js';

export type ProtocolErrorCode =
  /** A length word below the minimum (4, or 8 for startup packets). */
  | 'length-too-short'
  /** A length word above the configured maximum. */
  | 'length-too-long'
  /** A field claims bytes beyond the end of its frame. */
  | 'past-end'
  /** Bytes left in a frame after its last field. */
  | 'trailing-bytes'
  /** A type byte that no message of this direction and phase uses. */
  | 'unknown-type'
  /** A field whose value is impossible (negative count, missing terminator, bad code). */
  | 'bad-value'
  /** A decoder failed in a way it did not foresee (a codec bug, reported not thrown). */
  | 'internal';

/**
 * A malformed-input report. It names the message, the direction and the absolute stream
 * offset, and says what was expected. The codec returns these; it never throws them out.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    /** Message name ("DataRow") or a description ("startup packet") when unknown. */
    readonly messageName: string,
    readonly direction: Direction,
    /** Absolute offset in the direction's stream where the problem was found. */
    readonly offset: number,
    /** What was expected, in plain words. */
    readonly expected: string,
  ) {
    super(`${messageName} (${direction === 'frontend' ? 'client → server' : 'server → client'}) at offset ${offset}: ${expected}`);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.messageName, direction: this.direction, offset: this.offset, expected: this.expected };
  }
}
