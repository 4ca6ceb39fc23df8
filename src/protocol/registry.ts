import { backendDecoders } from './backend/index.js';
import type { MessageDecoder } from './decoder.js';
import { frontendDecoders, startupDecoders, unknownStartupDecoder } from './frontend/index.js';
import type { Direction } from './types.js';

/** The decoder for a normal-phase type byte in one direction, or undefined if none exists. */
export function decoderFor(direction: Direction, type: string): MessageDecoder | undefined {
  const table = direction === 'frontend' ? frontendDecoders : backendDecoders;
  return Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
}

/**
 * The decoder for a startup-phase packet, chosen by its Int32 code: SSLRequest (80877103),
 * GSSENCRequest (80877104), CancelRequest (80877102), or a protocol version (StartupMessage).
 */
export function startupDecoderFor(code: number): MessageDecoder {
  const byCode = startupDecoders[code];
  if (byCode) return byCode;
  if (code >>> 16 === 3) return startupDecoders['startup']!;
  return unknownStartupDecoder;
}
