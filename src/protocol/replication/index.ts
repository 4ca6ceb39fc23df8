import type { DecodeContext, ReplicationState } from '../context.js';
import type { Reader } from '../reader.js';
import type { Direction } from '../types.js';
import { hotStandbyFeedback } from './hot-standby-feedback.js';
import { primaryKeepalive } from './primary-keepalive.js';
import { standbyStatusUpdate } from './standby-status-update.js';
import { xlogData } from './xlog-data.js';

/** Streaming replication messages carried in CopyData: their names by direction and Byte1. */
const MESSAGES: Record<Direction, Record<string, string>> = {
  backend: { w: 'XLogData', k: 'primary keepalive' },
  frontend: { r: 'standby status update', h: 'hot standby feedback' },
};

/**
 * Decode the payload of a CopyData message during streaming replication ("Streaming
 * Replication Protocol": START_REPLICATION, then CopyBothResponse). Returns the nested
 * names for DecodedMessage.sub: ['XLogData', 'Insert'], ['XLogData'] (physical or a
 * non-pgoutput plugin), ['PrimaryKeepalive'], ['StandbyStatusUpdate'],
 * ['HotStandbyFeedback'].
 */
export function decodeReplicationPayload(r: Reader, _ctx: DecodeContext, direction: Direction, state: ReplicationState): string[] {
  const table = MESSAGES[direction];
  const has = (c: string): boolean => Object.prototype.hasOwnProperty.call(table, c);
  const kind = r.char('replication message type', (c) => (has(c) ? table[c]! : 'unknown replication message type'));
  if (!has(kind)) {
    const expected = Object.entries(table)
      .map(([c, name]) => `'${c}' (${name})`)
      .join(' or ');
    r.fail('bad-value', `a ${direction === 'backend' ? 'server' : 'client'} replication message type ${expected}, got ${JSON.stringify(kind)} (0x${kind.charCodeAt(0).toString(16).padStart(2, '0')})`, r.pos - 1);
  }
  switch (kind) {
    case 'w':
      return ['XLogData', ...xlogData(r, state)];
    case 'k':
      primaryKeepalive(r);
      return ['PrimaryKeepalive'];
    case 'r':
      standbyStatusUpdate(r);
      return ['StandbyStatusUpdate'];
    default:
      hotStandbyFeedback(r);
      return ['HotStandbyFeedback'];
  }
}
