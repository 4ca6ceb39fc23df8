import type { MessageDecoder } from '../decoder.js';
import { readCount } from './counts.js';

/**
 * The documentation calls the first field the "Newest minor protocol version supported by
 * the server for the major protocol version requested by the client", but PostgreSQL
 * sends the whole version number there, as in StartupMessage (major << 16 | minor:
 * 196608 = 3.0), and libpq reads it that way. A bare minor number (below 65536) is
 * accepted too.
 */
function minorOf(v: number): number {
  return v >>> 16 === 0 ? v : v & 0xffff;
}

function describeVersion(v: number): string {
  if (v < 0) return `${v}: impossible, a version cannot be negative`;
  const major = v >>> 16;
  const minor = v & 0xffff;
  if (major === 0) return `newest supported minor version ${v} (protocol 3.${v})`;
  if (major !== 3) return `protocol ${major}.${minor}: not a 3.x version`;
  return `protocol 3.${minor}: the newest version the server supports`;
}

/**
 * NegotiateProtocolVersion (B, 'v'): the server does not support the minor protocol
 * version the client asked for, or some `_pq_.` protocol options it sent.
 *   Int32 — "Newest minor protocol version supported by the server for the major
 *           protocol version requested by the client."
 *   Int32 — "Number of protocol options not recognized by the server."
 *   then for each: String — "The option name."
 * The first span is named exactly 'newest minor version' and its value is the minor
 * number: the context tracker lowers the conversation's protocol version with it.
 */
export const negotiateProtocolVersion: MessageDecoder = {
  name: 'NegotiateProtocolVersion',
  decode(r) {
    const v = r.int32('newest minor version', describeVersion);
    if (v < 0) r.fail('bad-value', `a protocol version, got ${v}`, r.pos - 4);
    // The span holds the wire's Int32; the tracker wants the minor number (see minorOf).
    const span = r.spans[r.spans.length - 1];
    if (span?.name === 'newest minor version') span.value = minorOf(v);
    const n = readCount(r, 'int32', 'number of unrecognized options', 'option name', 1);
    for (let i = 0; i < n; i++) {
      r.cstring('option name', (o) =>
        o.startsWith('_pq_.') ? 'protocol option not recognized by the server' : 'option not recognized by the server (not a _pq_. protocol option)',
      );
    }
  },
};
