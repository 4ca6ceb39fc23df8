import type { PgoutputDecoder } from './decoder.js';

/** Stream Stop (Byte1('E')): no fields; the current block of streamed changes ends. */
export const streamStop: PgoutputDecoder = {
  name: 'Stream Stop',
  sub: 'StreamStop',
  decode() {},
};
