import type { DecodeContext, ReplicationState } from '../context.js';
import type { Reader } from '../reader.js';
import type { DecodedMessage, Direction } from '../types.js';
import type { ReplicationCodec } from './codec.js';
import { hotStandbyFeedback } from './hot-standby-feedback.js';
import { primaryKeepalive } from './primary-keepalive.js';
import { standbyStatusUpdate } from './standby-status-update.js';
import { xlogData } from './xlog-data.js';

/** Streaming replication messages carried in CopyData: their codecs by direction and Byte1. */
const CODECS: Record<Direction, Record<string, ReplicationCodec>> = {
  backend: { w: xlogData, k: primaryKeepalive },
  frontend: { r: standbyStatusUpdate, h: hotStandbyFeedback },
};

/**
 * Decode the payload of a CopyData message during streaming replication ("Streaming
 * Replication Protocol": START_REPLICATION, then CopyBothResponse). Returns the nested
 * names for DecodedMessage.sub: ['XLogData', 'Insert'], ['XLogData'] (physical or a
 * non-pgoutput plugin), ['PrimaryKeepalive'], ['StandbyStatusUpdate'],
 * ['HotStandbyFeedback'].
 */
export function decodeReplicationPayload(r: Reader, _ctx: DecodeContext, direction: Direction, state: ReplicationState): string[] {
  const table = CODECS[direction];
  const has = (c: string): boolean => Object.prototype.hasOwnProperty.call(table, c);
  const kind = r.char('replication message type', (c) => (has(c) ? table[c]!.name : 'unknown replication message type'));
  if (!has(kind)) {
    const expected = Object.entries(table)
      .map(([c, codec]) => `'${c}' (${codec.name})`)
      .join(' or ');
    r.fail('bad-value', `a ${direction === 'backend' ? 'server' : 'client'} replication message type ${expected}, got ${JSON.stringify(kind)} (0x${kind.charCodeAt(0).toString(16).padStart(2, '0')})`, r.pos - 1);
  }
  const codec = table[kind]!;
  return [codec.sub, ...(codec.decode(r, state) ?? [])];
}

/** Every replication message codec. */
export const replicationCodecs: readonly ReplicationCodec[] = [xlogData, primaryKeepalive, standbyStatusUpdate, hotStandbyFeedback];

/** The codec of the replication message a CopyData carries (DecodedMessage.sub[0]), if any. */
export function replicationCodecOf(m: DecodedMessage): ReplicationCodec | undefined {
  if (m.name !== 'CopyData' || m.sub.length === 0) return undefined;
  return replicationCodecs.find((c) => c.sub === m.sub[0] && c.direction === m.frame.direction);
}
