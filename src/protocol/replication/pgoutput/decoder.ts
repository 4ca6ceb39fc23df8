import type { ReplicationState } from '../../context.js';
import type { FieldCodec } from '../../decoder.js';
import { FieldsError } from '../../errors.js';
import type { Reader } from '../../reader.js';
import { maybeSpan, num, wholeSpans } from '../../spans.js';
import type { DecodedMessage, Span } from '../../types.js';
import { writePayload, type Writer } from '../../writer.js';
import { pgoutputSpans } from '../fields.js';

/**
 * One pgoutput message ("Logical Replication Message Formats"). The dispatcher has read
 * the Byte1 that identifies it; `decode` reads the rest of the message.
 */
export interface PgoutputDecoder {
  /** The documentation's name, e.g. "Stream Start". */
  name: string;
  /** The name reported in DecodedMessage.sub, e.g. "StreamStart". */
  sub: string;
  decode(r: Reader, state: ReplicationState): void;
}

/**
 * A pgoutput message's decoder, typed fields and encoder. `fields(m)` takes the CopyData
 * message whose XLogData carries it (DecodedMessage.sub is ['XLogData', sub]); `encode(f)`
 * returns the pgoutput message (its Byte1 first), which xlogData.encode({ …, data }) wraps.
 * Fields that only streamed transactions carry (`xid`, protocol 2+) are present exactly
 * when the message had them; the stream state decides whether a decoder reads them.
 */
export interface PgoutputCodec<F = unknown> extends PgoutputDecoder, FieldCodec<F> {
  /** The Byte1 that identifies it. */
  readonly type: string;
}

/** The spans of a whole CopyData message carrying this pgoutput message (inside its XLogData). */
export function pgoutputFieldSpans(m: DecodedMessage, codec: PgoutputCodec): Span[] {
  wholeSpans(m, codec.name, m.name === 'CopyData' && m.sub[0] === 'XLogData' && m.sub[1] === codec.sub);
  const spans = pgoutputSpans(m);
  if (!spans) throw new FieldsError('malformed', m.name, m.frame.offset, `no ${codec.name} message among its spans`);
  return spans;
}

/** A pgoutput message: its Byte1, then the body. */
export function writePgoutput(codec: PgoutputCodec, body: (w: Writer) => void, size = 64): Buffer {
  return writePayload(
    codec.name,
    (w) => {
      w.char(codec.type, 'message type');
      body(w);
    },
    size,
  );
}

/** The Xid of a streamed transaction's message (streamedXid), when it had one. */
export function streamedXidOf(m: DecodedMessage, spans: readonly Span[]): { xid?: number } {
  const s = maybeSpan(spans, 'xid');
  return s ? { xid: num(m, s) } : {};
}

/** Write the streamed transaction's Xid, when the fields have one. */
export function writeStreamedXid(w: Writer, xid: number | undefined): void {
  if (xid !== undefined) w.uint32(xid, 'xid');
}
