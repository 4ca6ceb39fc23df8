import type { MessageDecoder } from './decoder.js';
import { decodeReplicationPayload } from './replication/index.js';

/**
 * CopyData (F & B, 'd'): Byte n — data that forms part of a COPY data stream. During
 * streaming replication (START_REPLICATION, then CopyBothResponse) the data is a
 * replication message (XLogData, keepalive, standby status update, hot standby
 * feedback), decoded by replication/.
 */
export const copyData: MessageDecoder = {
  name: 'CopyData',
  decode(r, ctx) {
    if (ctx.replication && ctx.copy === 'both') {
      return decodeReplicationPayload(r, ctx, r.frame.direction, ctx.replication);
    }
    r.rest('data', 'COPY data');
    return [];
  },
};
