import type { Reader } from '../reader.js';
import { int64At, num, span } from '../spans.js';
import { writePayload } from '../writer.js';
import { replicationSpans, type ReplicationCodec } from './codec.js';
import { timeField } from './fields.js';

export interface HotStandbyFeedback {
  /** The client's system clock at the time of transmission: microseconds since 2000-01-01. */
  sendTime: bigint;
  /** The standby's current global xmin (0 with catalogXmin 0: feedback is being turned off). */
  xmin: number;
  /** The epoch of the global xmin xid on the standby. */
  xminEpoch: number;
  /** The lowest catalog_xmin of any replication slots on the standby (0 if none). */
  catalogXmin: number;
  /** The epoch of the catalog_xmin xid on the standby. */
  catalogXminEpoch: number;
}

/**
 * Hot standby feedback message (F, Byte1('h')):
 *   Int64 — The client's system clock at the time of transmission, as microseconds since
 *     midnight on 2000-01-01.
 *   Int32 — The standby's current global xmin, excluding the catalog_xmin from any
 *     replication slots. If both this value and the following catalog_xmin are 0, this is
 *     treated as a notification that hot standby feedback will no longer be sent on this
 *     connection. Later non-zero messages may reinitiate the feedback mechanism.
 *   Int32 — The epoch of the global xmin xid on the standby.
 *   Int32 — The lowest catalog_xmin of any replication slots on the standby. Set to 0 if
 *     no catalog_xmin exists on the standby or if hot standby feedback is being disabled.
 *   Int32 — The epoch of the catalog_xmin xid on the standby.
 */
function decodeHotStandbyFeedback(r: Reader): void {
  timeField(r, 'send time', 'client clock at transmission');
  r.uint32('xmin', (v) => (v === 0 ? 'xmin: 0 (none)' : `xmin: ${v}`));
  r.uint32('xmin epoch', (v) => `xmin epoch: ${v}`);
  r.uint32('catalog_xmin', (v) => (v === 0 ? 'catalog_xmin: 0 (none)' : `catalog_xmin: ${v}`));
  r.uint32('catalog_xmin epoch', (v) => `catalog_xmin epoch: ${v}`);
}

export const hotStandbyFeedback: ReplicationCodec<HotStandbyFeedback> = {
  name: 'hot standby feedback',
  type: 'h',
  sub: 'HotStandbyFeedback',
  direction: 'frontend',
  readsContext: false,
  decode: decodeHotStandbyFeedback,
  fields(m) {
    const spans = replicationSpans(m, hotStandbyFeedback);
    return {
      sendTime: int64At(m, span(m, spans, 'send time')),
      xmin: num(m, span(m, spans, 'xmin')),
      xminEpoch: num(m, span(m, spans, 'xmin epoch')),
      catalogXmin: num(m, span(m, spans, 'catalog_xmin')),
      catalogXminEpoch: num(m, span(m, spans, 'catalog_xmin epoch')),
    };
  },
  encode(f) {
    return writePayload('hot standby feedback', (w) => {
      w.char('h', 'type');
      w.int64(f.sendTime, 'send time');
      w.uint32(f.xmin, 'xmin');
      w.uint32(f.xminEpoch, 'xmin epoch');
      w.uint32(f.catalogXmin, 'catalog_xmin');
      w.uint32(f.catalogXminEpoch, 'catalog_xmin epoch');
    }, 25);
  },
};
