import type { Reader } from '../reader.js';
import { timeField } from './fields.js';

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
export function hotStandbyFeedback(r: Reader): void {
  timeField(r, 'send time', 'client clock at transmission');
  r.uint32('xmin', (v) => (v === 0 ? 'xmin: 0 (none)' : `xmin: ${v}`));
  r.uint32('xmin epoch', (v) => `xmin epoch: ${v}`);
  r.uint32('catalog_xmin', (v) => (v === 0 ? 'catalog_xmin: 0 (none)' : `catalog_xmin: ${v}`));
  r.uint32('catalog_xmin epoch', (v) => `catalog_xmin epoch: ${v}`);
}
