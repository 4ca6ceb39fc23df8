import { bytesOf, num, span, text, uint64At } from '../../spans.js';
import { plural } from '../../values.js';
import { lsnField, streamedXid } from '../fields.js';
import { pgoutputFieldSpans, streamedXidOf, writePgoutput, writeStreamedXid, type PgoutputCodec } from './decoder.js';

/** Message ('M'): a logical decoding message (pg_logical_emit_message). */
export interface LogicalMessage {
  /** Xid of the transaction: only in a streamed transaction (protocol 2+). */
  xid?: number;
  /** 0 for no flags, 1 if the logical decoding message is transactional. */
  flags: number;
  /** The LSN of the logical decoding message. */
  lsn: bigint;
  /** The prefix of the logical decoding message. */
  prefix: string;
  /** The content of the logical decoding message. */
  content: Buffer;
}

/**
 * Message (Byte1('M')), a logical decoding message (pg_logical_emit_message), sent when
 * the "messages" option is on:
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int8 — Flags; Either 0 for no flags or 1 if the logical decoding message is
 *     transactional.
 *   Int64 (XLogRecPtr) — The LSN of the logical decoding message.
 *   String — The prefix of the logical decoding message.
 *   Int32 — Length of the content.
 *   Byten — The content of the logical decoding message.
 */
export const message: PgoutputCodec<LogicalMessage> = {
  name: 'Message',
  sub: 'Message',
  type: 'M',
  readsContext: true,
  decode(r, state) {
    streamedXid(r, state);
    const flags = r.uint8('flags', (f) => (f === 1 ? 'flags: 1 (transactional)' : f === 0 ? 'flags: 0 (not transactional)' : `flags: ${f} (undocumented)`));
    if (flags !== 0 && flags !== 1) r.fail('bad-value', `Message flags: 0 or 1 (transactional), got ${flags}`, r.pos - 1);
    lsnField(r, 'LSN', 'LSN of the message');
    r.cstring('prefix');
    const len = r.int32('content length', (n) => plural(n, 'byte'));
    if (len < 0) r.fail('bad-value', `Message content length of 0 or more, got ${len}`, r.pos - 4);
    if (len > r.remaining) r.fail('past-end', `Message content of ${plural(len, 'byte')}, only ${plural(r.remaining, 'byte')} left`);
    r.bytes('content', len, 'message content');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, message);
    return {
      ...streamedXidOf(m, s),
      flags: num(m, span(m, s, 'flags')),
      lsn: uint64At(m, span(m, s, 'LSN')),
      prefix: text(m, span(m, s, 'prefix')),
      content: bytesOf(m, span(m, s, 'content')),
    };
  },
  encode(f) {
    return writePgoutput(
      message,
      (w) => {
        writeStreamedXid(w, f.xid);
        if (f.flags !== 0 && f.flags !== 1) w.fail('flags', `0 or 1 (transactional), got ${f.flags}`);
        w.uint8(f.flags, 'flags');
        w.uint64(f.lsn, 'LSN');
        w.cstring(f.prefix, 'prefix');
        w.int32(f.content.length, 'content length');
        w.bytes(f.content, 'content');
      },
      24 + f.content.length,
    );
  },
};
