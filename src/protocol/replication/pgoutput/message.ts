import { plural } from '../../values.js';
import { lsnField, streamedXid } from '../fields.js';
import type { PgoutputDecoder } from './decoder.js';

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
export const message: PgoutputDecoder = {
  name: 'Message',
  sub: 'Message',
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
};
