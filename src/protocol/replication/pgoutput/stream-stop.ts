import { pgoutputFieldSpans, writePgoutput, type PgoutputCodec } from './decoder.js';

/** Stream Stop has no fields. */
export type StreamStop = Record<string, never>;

/** Stream Stop (Byte1('E')): no fields; the current block of streamed changes ends. */
export const streamStop: PgoutputCodec<StreamStop> = {
  name: 'Stream Stop',
  sub: 'StreamStop',
  type: 'E',
  readsContext: false,
  decode() {},
  fields(m) {
    pgoutputFieldSpans(m, streamStop);
    return {};
  },
  encode() {
    return writePgoutput(streamStop, () => {});
  },
};
