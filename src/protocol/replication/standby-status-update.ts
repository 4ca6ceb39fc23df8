import type { Reader } from '../reader.js';
import { int64At, num, span, uint64At } from '../spans.js';
import { writePayload } from '../writer.js';
import { replicationSpans, type ReplicationCodec } from './codec.js';
import { booleanByte, lsnField, timeField } from './fields.js';

export interface StandbyStatusUpdate {
  /** The location of the last WAL byte + 1 received and written to disk in the standby. */
  writtenLsn: bigint;
  /** The location of the last WAL byte + 1 flushed to disk in the standby. */
  flushedLsn: bigint;
  /** The location of the last WAL byte + 1 applied in the standby. */
  appliedLsn: bigint;
  /** The client's system clock at the time of transmission: microseconds since 2000-01-01. */
  sendTime: bigint;
  /** The client asks the server to reply immediately (a ping). */
  replyRequested: boolean;
}

/**
 * Standby status update (F, Byte1('r')):
 *   Int64 — The location of the last WAL byte + 1 received and written to disk in the
 *     standby.
 *   Int64 — The location of the last WAL byte + 1 flushed to disk in the standby.
 *   Int64 — The location of the last WAL byte + 1 applied in the standby.
 *   Int64 — The client's system clock at the time of transmission, as microseconds since
 *     midnight on 2000-01-01.
 *   Byte1 — If 1, the client requests the server to reply to this message immediately.
 *     This can be used to ping the server, to test if the connection is still healthy.
 */
function decodeStandbyStatusUpdate(r: Reader): void {
  lsnField(r, 'written LSN', 'written to disk up to');
  lsnField(r, 'flushed LSN', 'flushed to disk up to');
  lsnField(r, 'applied LSN', 'applied up to');
  timeField(r, 'send time', 'client clock at transmission');
  booleanByte(r, 'reply requested', 'reply requested: the server should reply immediately', 'no reply requested');
}

export const standbyStatusUpdate: ReplicationCodec<StandbyStatusUpdate> = {
  name: 'standby status update',
  type: 'r',
  sub: 'StandbyStatusUpdate',
  direction: 'frontend',
  readsContext: false,
  decode: decodeStandbyStatusUpdate,
  fields(m) {
    const spans = replicationSpans(m, standbyStatusUpdate);
    return {
      writtenLsn: uint64At(m, span(m, spans, 'written LSN')),
      flushedLsn: uint64At(m, span(m, spans, 'flushed LSN')),
      appliedLsn: uint64At(m, span(m, spans, 'applied LSN')),
      sendTime: int64At(m, span(m, spans, 'send time')),
      replyRequested: num(m, span(m, spans, 'reply requested')) === 1,
    };
  },
  encode(f) {
    return writePayload('standby status update', (w) => {
      w.char('r', 'type');
      w.uint64(f.writtenLsn, 'written LSN');
      w.uint64(f.flushedLsn, 'flushed LSN');
      w.uint64(f.appliedLsn, 'applied LSN');
      w.int64(f.sendTime, 'send time');
      w.uint8(f.replyRequested ? 1 : 0, 'reply requested');
    }, 34);
  },
};
