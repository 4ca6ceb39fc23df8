import type { DecodeContext } from './context.js';
import type { Reader } from './reader.js';
import type { DecodedMessage } from './types.js';

/**
 * One message's decoder. decodeFrame has already read the type byte and the length (or,
 * in the startup phase, the length); `decode` reads the rest through the Reader, which
 * records a span per field. It may return nested payload names (for DecodedMessage.sub)
 * and may rename the message (r.messageName) when the context decides what it is
 * (a 'p' message is a PasswordMessage, SASLInitialResponse, SASLResponse or GSSResponse).
 */
export interface MessageDecoder {
  /** The name in the documentation's "Message Formats". */
  name: string;
  decode(r: Reader, ctx: DecodeContext): void | string[];
}

/**
 * The typed side of a message: its fields as an object (`F`, exported by the message's
 * module next to its decoder), read from a decoded message's spans, and encoded back to
 * exactly the wire bytes. Span names are spelled only inside the message's module: code
 * elsewhere asks the codec for fields instead of looking spans up by name.
 *
 * - `fields(m)` is lazy: decoding never builds the object; whoever wants it asks. It
 *   throws a FieldsError (errors.ts) for a message decoded with an error, one the framer
 *   kept only a prefix of, one that is not this codec's, or one whose String fields are
 *   not valid UTF-8. Buffers in the result are views of the frame's bytes: copy to keep.
 * - `encode(f)` returns the whole message (type byte and length, or a startup packet's
 *   length; a replication or pgoutput payload for those codecs). It throws an EncodeError
 *   for fields no well-formed message carries; what it returns decodes with no error.
 *   For every well-formed, whole message m: encode(fields(m)) equals m's bytes.
 */
export interface FieldCodec<F> {
  /** The documentation's name (for Authentication, the family's: each code is its own message). */
  name: string;
  /**
   * True when decoding reads the DecodeContext (the conversation so far), so the same
   * bytes may decode differently: such a message is never shared by the decode memo.
   */
  readonly readsContext: boolean;
  fields(m: DecodedMessage): F;
  encode(f: F): Buffer;
}

/** A message decoder with its typed fields and encoder (the registry's entries). */
export interface MessageCodec<F = unknown> extends MessageDecoder, FieldCodec<F> {}
