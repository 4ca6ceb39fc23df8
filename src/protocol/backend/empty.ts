import type { MessageCodec } from '../decoder.js';
import { isMessage, wholeSpans } from '../spans.js';
import { writeMessage } from '../writer.js';

/** The fields of a message with no body: none. */
export type NoFields = Record<string, never>;

/**
 * A message with no body: Byte1 type and Int32(4) length only (BindComplete,
 * CloseComplete, CopyDone, EmptyQueryResponse, NoData, ParseComplete, PortalSuspended;
 * the client's CopyDone, Flush, Sync and Terminate). Any byte after the length is
 * reported by decodeFrame as trailing.
 */
export function emptyMessage(name: string, type: string, direction: 'frontend' | 'backend' | 'both' = 'backend'): MessageCodec<NoFields> {
  return {
    name,
    readsContext: false,
    decode() {
      // Nothing follows the length word.
    },
    fields(m) {
      wholeSpans(m, name, isMessage(m, direction, type));
      return {};
    },
    encode() {
      return writeMessage(type, name);
    },
  };
}
