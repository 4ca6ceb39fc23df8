import type { ReplicationState } from '../../context.js';
import type { Reader } from '../../reader.js';

/**
 * One pgoutput message ("Logical Replication Message Formats"). The dispatcher has read
 * the Byte1 that identifies it; `decode` reads the rest of the message.
 */
export interface PgoutputDecoder {
  /** The documentation's name, e.g. "Stream Start". */
  name: string;
  /** The name reported in DecodedMessage.sub, e.g. "StreamStart". */
  sub: string;
  decode(r: Reader, state: ReplicationState): void;
}
