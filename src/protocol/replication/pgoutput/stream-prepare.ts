import type { PgoutputDecoder } from './decoder.js';
import { prepareFields } from './prepare.js';

/**
 * Stream Prepare (Byte1('p')), a streamed transaction prepared with two_phase on; the
 * same fields as Prepare: Int8(0) flags, Int64 (XLogRecPtr) "The LSN of the prepare.",
 * Int64 (XLogRecPtr) "The end LSN of the prepared transaction.", Int64 (TimestampTz)
 * "Prepare timestamp of the transaction.", Int32 (TransactionId) "Xid of the
 * transaction.", String "The user defined GID of the prepared transaction."
 */
export const streamPrepare: PgoutputDecoder = {
  name: 'Stream Prepare',
  sub: 'StreamPrepare',
  decode(r) {
    prepareFields(r, 'Stream Prepare');
  },
};
