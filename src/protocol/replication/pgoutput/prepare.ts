import { lsnField, timeField, unusedFlags, xidField } from '../fields.js';
import type { Reader } from '../../reader.js';
import { int64At, num, span, text, uint64At } from '../../spans.js';
import type { DecodedMessage, Span } from '../../types.js';
import type { Writer } from '../../writer.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

/**
 * The fields shared by Prepare and Stream Prepare:
 *   Int8(0) — Flags; currently unused.
 *   Int64 (XLogRecPtr) — The LSN of the prepare.
 *   Int64 (XLogRecPtr) — The end LSN of the prepared transaction.
 *   Int64 (TimestampTz) — Prepare timestamp of the transaction.
 *   Int32 (TransactionId) — Xid of the transaction.
 *   String — The user defined GID of the prepared transaction.
 */
export function prepareFields(r: Reader, what: string): void {
  unusedFlags(r, what);
  lsnField(r, 'prepare LSN', 'LSN of the prepare');
  lsnField(r, 'end LSN', 'end LSN of the prepared transaction');
  timeField(r, 'prepare timestamp');
  xidField(r);
  r.cstring('GID', 'GID of the prepared transaction');
}

/** Prepare (Byte1('P')), protocol version 3+ with two_phase on: see prepareFields. */
export const prepare: PgoutputCodec<Prepare> = {
  name: 'Prepare',
  sub: 'Prepare',
  type: 'P',
  readsContext: false,
  decode(r) {
    prepareFields(r, 'Prepare');
  },
  fields(m) {
    return preparedFieldsOf(m, pgoutputFieldSpans(m, prepare));
  },
  encode(f) {
    return writePgoutput(prepare, (w) => writePrepareFields(w, f));
  },
};

/** The fields of Prepare and Stream Prepare (their Int8 flags are "currently unused": always 0). */
export interface PrepareFields {
  /** The LSN of the prepare. */
  prepareLsn: bigint;
  /** The end LSN of the prepared transaction. */
  endLsn: bigint;
  /** Prepare timestamp of the transaction: microseconds since 2000-01-01. */
  prepareTimestamp: bigint;
  /** Xid of the transaction. */
  xid: number;
  /** The user defined GID of the prepared transaction. */
  gid: string;
}

export type Prepare = PrepareFields;

/** Read what prepareFields recorded. */
export function preparedFieldsOf(m: DecodedMessage, s: readonly Span[]): PrepareFields {
  return {
    prepareLsn: uint64At(m, span(m, s, 'prepare LSN')),
    endLsn: uint64At(m, span(m, s, 'end LSN')),
    prepareTimestamp: int64At(m, span(m, s, 'prepare timestamp')),
    xid: num(m, span(m, s, 'xid')),
    gid: text(m, span(m, s, 'GID')),
  };
}

/** Write what prepareFields reads. */
export function writePrepareFields(w: Writer, f: PrepareFields): void {
  w.uint8(0, 'flags');
  w.uint64(f.prepareLsn, 'prepare LSN');
  w.uint64(f.endLsn, 'end LSN');
  w.int64(f.prepareTimestamp, 'prepare timestamp');
  w.uint32(f.xid, 'xid');
  w.cstring(f.gid, 'GID');
}
