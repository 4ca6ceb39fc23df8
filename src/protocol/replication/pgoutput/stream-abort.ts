import { lsnField, timeField, xidField } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Stream Abort (Byte1('A')):
 *   Int32 (TransactionId) — Xid of the transaction.
 *   Int32 (TransactionId) — Xid of the subtransaction (will be same as xid of the
 *     transaction for top-level transactions).
 *   Int64 (XLogRecPtr) — The LSN of the abort operation, present only when streaming is
 *     set to parallel. This field is available since protocol version 4.
 *   Int64 (TimestampTz) — Abort timestamp of the transaction, present only when streaming
 *     is set to parallel. This field is available since protocol version 4.
 */
export const streamAbort: PgoutputDecoder = {
  name: 'Stream Abort',
  sub: 'StreamAbort',
  decode(r, state) {
    const xid = xidField(r);
    r.uint32('subtransaction xid', (v) => (v === xid ? `subtransaction xid: ${v} (the top-level transaction)` : `subtransaction xid: ${v}`));
    const p = state.pgoutput;
    if (p && p.protoVersion >= 4 && p.streaming === 'parallel') {
      lsnField(r, 'abort LSN', 'LSN of the abort');
      timeField(r, 'abort timestamp');
    }
  },
};
