import { booleanByte, xidField } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

/**
 * Stream Start (Byte1('S')), protocol version 2+ with streaming on: the changes of an
 * in-progress transaction follow, each carrying its xid, until Stream Stop.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   Int8 — A value of 1 indicates this is the first stream segment for this XID, 0 for
 *     any other stream segment.
 */
export const streamStart: PgoutputDecoder = {
  name: 'Stream Start',
  sub: 'StreamStart',
  decode(r) {
    xidField(r);
    booleanByte(r, 'first segment', 'first stream segment for this xid', 'not the first stream segment for this xid');
  },
};
