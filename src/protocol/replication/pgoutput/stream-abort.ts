import { int64At, num, span, uint64At } from '../../spans.js';
import { lsnField, timeField, xidField } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

export interface StreamAbort {
  /** Xid of the transaction. */
  xid: number;
  /** Xid of the subtransaction (the same as xid for top-level transactions). */
  subtransactionXid: number;
  /** The LSN of the abort operation: only when streaming is parallel (protocol 4+). */
  abortLsn?: bigint;
  /** Abort timestamp of the transaction: only when streaming is parallel (protocol 4+). */
  abortTimestamp?: bigint;
}

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
export const streamAbort: PgoutputCodec<StreamAbort> = {
  name: 'Stream Abort',
  sub: 'StreamAbort',
  type: 'A',
  readsContext: true,
  decode(r, state) {
    const xid = xidField(r);
    r.uint32('subtransaction xid', (v) => (v === xid ? `subtransaction xid: ${v} (the top-level transaction)` : `subtransaction xid: ${v}`));
    const p = state.pgoutput;
    if (p && p.protoVersion >= 4 && p.streaming === 'parallel') {
      lsnField(r, 'abort LSN', 'LSN of the abort');
      timeField(r, 'abort timestamp');
    }
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, streamAbort);
    const f: StreamAbort = { xid: num(m, span(m, s, 'xid')), subtransactionXid: num(m, span(m, s, 'subtransaction xid')) };
    if (s.some((x) => x.name === 'abort LSN')) {
      f.abortLsn = uint64At(m, span(m, s, 'abort LSN'));
      f.abortTimestamp = int64At(m, span(m, s, 'abort timestamp'));
    }
    return f;
  },
  encode(f) {
    return writePgoutput(streamAbort, (w) => {
      w.uint32(f.xid, 'xid');
      w.uint32(f.subtransactionXid, 'subtransaction xid');
      if ((f.abortLsn === undefined) !== (f.abortTimestamp === undefined)) w.fail('abort LSN', 'the abort LSN and timestamp come together (protocol 4, streaming parallel) or not at all');
      if (f.abortLsn !== undefined) w.uint64(f.abortLsn, 'abort LSN');
      if (f.abortTimestamp !== undefined) w.int64(f.abortTimestamp, 'abort timestamp');
    });
  },
};
