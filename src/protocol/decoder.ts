import type { DecodeContext } from './context.js';
import type { Reader } from './reader.js';

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
