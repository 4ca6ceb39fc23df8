import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';
import { prepareFields, preparedFieldsOf, writePrepareFields, type PrepareFields } from './prepare.js';

export type StreamPrepare = PrepareFields;

/**
 * Stream Prepare (Byte1('p')), a streamed transaction prepared with two_phase on; the
 * same fields as Prepare: Int8(0) flags, Int64 (XLogRecPtr) "The LSN of the prepare.",
 * Int64 (XLogRecPtr) "The end LSN of the prepared transaction.", Int64 (TimestampTz)
 * "Prepare timestamp of the transaction.", Int32 (TransactionId) "Xid of the
 * transaction.", String "The user defined GID of the prepared transaction."
 */
export const streamPrepare: PgoutputCodec<StreamPrepare> = {
  name: 'Stream Prepare',
  sub: 'StreamPrepare',
  type: 'p',
  readsContext: false,
  decode(r) {
    prepareFields(r, 'Stream Prepare');
  },
  fields(m) {
    return preparedFieldsOf(m, pgoutputFieldSpans(m, streamPrepare));
  },
  encode(f) {
    return writePgoutput(streamPrepare, (w) => writePrepareFields(w, f));
  },
};
