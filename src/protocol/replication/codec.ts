import type { ReplicationState } from '../context.js';
import type { FieldCodec } from '../decoder.js';
import type { Reader } from '../reader.js';
import { wholeSpans } from '../spans.js';
import type { DecodedMessage, Direction, Span } from '../types.js';

/**
 * A streaming replication message carried in CopyData ("Streaming Replication Protocol"):
 * its decoder, typed fields and encoder. `fields(m)` takes the CopyData message whose
 * `sub[0]` is this message; `encode(f)` returns the CopyData payload (its Byte1 first),
 * which copyData.encode({ data }) wraps.
 */
export interface ReplicationCodec<F = unknown> extends FieldCodec<F> {
  /** The Byte1 that identifies it inside CopyData. */
  readonly type: string;
  /** Its name in DecodedMessage.sub: 'XLogData', 'PrimaryKeepalive', … */
  readonly sub: string;
  /** Who sends it. */
  readonly direction: Direction;
  /** Reads the fields after the Byte1; returns nested names (XLogData's pgoutput message). */
  decode(r: Reader, state: ReplicationState): string[] | void;
}

/** The spans of a whole CopyData message carrying this replication message. */
export function replicationSpans(m: DecodedMessage, codec: ReplicationCodec): Span[] {
  return wholeSpans(m, codec.name, m.name === 'CopyData' && m.frame.direction === codec.direction && m.sub[0] === codec.sub);
}
