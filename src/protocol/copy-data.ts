import type { MessageCodec } from './decoder.js';
import { decodeReplicationPayload } from './replication/index.js';
import { bodyOf, isMessage, wholeSpans } from './spans.js';
import { writeMessage } from './writer.js';

export interface CopyData {
  /**
   * "Data that forms part of a COPY data stream": a replication message during streaming
   * replication (its own codec in replication/ reads and writes it).
   */
  data: Buffer;
}

/**
 * CopyData (F & B, 'd'): Byte n — data that forms part of a COPY data stream. During
 * streaming replication (START_REPLICATION, then CopyBothResponse) the data is a
 * replication message (XLogData, keepalive, standby status update, hot standby
 * feedback), decoded by replication/.
 */
export const copyData: MessageCodec<CopyData> = {
  name: 'CopyData',
  // Replication or plain COPY data: the conversation decides.
  readsContext: true,
  decode(r, ctx) {
    if (ctx.replication && ctx.copy === 'both') {
      return decodeReplicationPayload(r, ctx, r.frame.direction, ctx.replication);
    }
    r.rest('data', 'COPY data');
    return [];
  },
  fields(m) {
    wholeSpans(m, 'CopyData', isMessage(m, 'both', 'd'));
    // The whole body, however the decoder split it.
    return { data: bodyOf(m) };
  },
  encode(f) {
    return writeMessage('d', 'CopyData', (w) => w.bytes(f.data, 'data'), 5 + f.data.length);
  },
};
