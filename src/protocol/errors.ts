import type { Direction } from './direction.js';

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

export type FieldsErrorCode =
  /** The message was decoded with an error: its fields are not all known. */
  | 'malformed'
  /** The framer kept only a prefix of the message (a huge one): its fields are not all known. */
  | 'not-retained'
  /** The codec was asked about a message that is not its own. */
  | 'not-this-message'
  /** A String field is not valid UTF-8: as a JS string it would not encode back to the same bytes. */
  | 'not-utf8';

/**
 * Thrown by a codec's `fields(m)` when the message cannot be given as typed fields that
 * encode back to exactly its bytes. Names the message and the absolute stream offset of
 * the problem (the error's offset, the first byte not retained, the bad field).
 */
export class FieldsError extends Error {
  override readonly name = 'FieldsError';
  constructor(
    readonly code: FieldsErrorCode,
    readonly messageName: string,
    /** Absolute offset in the direction's stream. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${messageName} at offset ${offset}: no typed fields (${code}): ${reason}`);
  }
}

/**
 * Thrown by a codec's `encode(f)` for fields no well-formed message can carry (a zero byte
 * inside a String, a format code other than 0 or 1, a number out of its field's range…):
 * what an encoder returns always decodes with no error.
 */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  constructor(
    readonly messageName: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`cannot encode ${messageName}: ${field}: ${reason}`);
  }
}
