import { span, text, uint64At } from '../../spans.js';
import { lsnField } from '../fields.js';
import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

export interface Origin {
  /** The LSN of the commit on the origin server. */
  commitLsn: bigint;
  /** Name of the origin. */
  name: string;
}

/**
 * Origin (Byte1('O')), sent when the transaction was replicated from another node:
 *   Int64 (XLogRecPtr) — The LSN of the commit on the origin server.
 *   String — Name of the origin.
 * Note that there can be multiple Origin messages inside a single transaction.
 */
export const origin: PgoutputCodec<Origin> = {
  name: 'Origin',
  sub: 'Origin',
  type: 'O',
  readsContext: false,
  decode(r) {
    lsnField(r, 'origin commit LSN', 'LSN of the commit on the origin server');
    r.cstring('origin name');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, origin);
    return { commitLsn: uint64At(m, span(m, s, 'origin commit LSN')), name: text(m, span(m, s, 'origin name')) };
  },
  encode(f) {
    return writePgoutput(origin, (w) => {
      w.uint64(f.commitLsn, 'origin commit LSN');
      w.cstring(f.name, 'origin name');
    });
  },
};
