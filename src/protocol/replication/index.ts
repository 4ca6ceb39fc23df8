import type { DecodeContext, ReplicationState } from '../context.js';
import type { Reader } from '../reader.js';
import type { Direction } from '../types.js';

/**
 * Decode the payload of a CopyData message during streaming replication. Returns the
 * nested names for DecodedMessage.sub, e.g. ['XLogData', 'Insert'].
 */
export function decodeReplicationPayload(r: Reader, _ctx: DecodeContext, _direction: Direction, _state: ReplicationState): string[] {
  r.rest('data', 'replication data');
  return [];
}
