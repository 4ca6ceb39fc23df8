import type { MessageDecoder } from '../decoder.js';

/**
 * A message with no body: Byte1 type and Int32(4) length only (BindComplete,
 * CloseComplete, CopyDone, EmptyQueryResponse, NoData, ParseComplete, PortalSuspended).
 * Any byte after the length is reported by decodeFrame as trailing.
 */
export function emptyMessage(name: string): MessageDecoder {
  return {
    name,
    decode() {
      // Nothing follows the length word.
    },
  };
}
