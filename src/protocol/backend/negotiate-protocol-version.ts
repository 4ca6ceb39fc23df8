import type { MessageCodec } from '../decoder.js';
import { int32At, isMessage, maybeSpan, span, spansNamed, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
import { readCount } from './counts.js';

/**
 * The documentation calls the first field the "Newest minor protocol version supported by
 * the server for the major protocol version requested by the client", but PostgreSQL
 * sends the whole version number there, as in StartupMessage (major << 16 | minor:
 * 196608 = 3.0), and libpq reads it that way. A bare minor number (below 65536) is
 * accepted too.
 */
export function minorOf(v: number): number {
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
export interface NegotiateProtocolVersion {
  /**
   * "Newest minor protocol version supported by the server", as sent: PostgreSQL sends the
   * whole version number (major << 16 | minor, 196608 = 3.0); minorOf() gives the minor.
   */
  newestMinorVersion: number;
  /** The names of the protocol options the server did not recognize. */
  options: string[];
}

export const negotiateProtocolVersion: MessageCodec<NegotiateProtocolVersion> = {
  name: 'NegotiateProtocolVersion',
  readsContext: false,
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
  fields(m) {
    const spans = wholeSpans(m, 'NegotiateProtocolVersion', isMessage(m, 'backend', 'v'));
    // The span holds the minor number; the field is the Int32 as sent.
    return { newestMinorVersion: int32At(m, span(m, spans, 'newest minor version')), options: spansNamed(spans, 'option name').map((s) => text(m, s)) };
  },
  encode(f) {
    return writeMessage('v', 'NegotiateProtocolVersion', (w) => {
      if (f.newestMinorVersion < 0) w.fail('newest minor version', `a protocol version, got ${f.newestMinorVersion}`);
      w.int32(f.newestMinorVersion, 'newest minor version');
      w.int32(f.options.length, 'number of unrecognized options');
      for (const o of f.options) w.cstring(o, 'option name');
    });
  },
};

/**
 * The newest minor protocol version a NegotiateProtocolVersion names (the minor number,
 * whichever way it was sent), even from a malformed message; undefined if not read.
 */
export function negotiatedMinor(m: DecodedMessage): number | undefined {
  const v = maybeSpan(m.spans, 'newest minor version')?.value;
  return typeof v === 'number' ? v : undefined;
}
