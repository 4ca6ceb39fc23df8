import type { MessageCodec } from '../decoder.js';
import { childrenOf, maybeSpan, num, span, spansNamed, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeStartupPacket } from '../writer.js';

export interface StartupMessage {
  /** "The protocol version number": major 3, minor 0 or 2. */
  protocol: { major: number; minor: number };
  /** The parameter name and value strings, in the order sent (user, database, options, _pq_.…). */
  params: [name: string, value: string][];
}

/**
 * StartupMessage (F): Int32 length (read by decodeFrame), Int32 "The protocol version
 * number. The most significant 16 bits are the major version number … The least
 * significant 16 bits are the minor version number" (196608 = 3.0, 196610 = 3.2), then
 * "one or more pairs of parameter name and value strings. A zero byte is required as a
 * terminator after the last name/value pair."
 *
 * "Parameter names beginning with _pq_. are reserved for use as protocol extensions,
 * while others are treated as run-time parameters to be set at backend start time."
 * `replication` asks for a walsender: true/on/yes/1 for physical replication, `database`
 * for logical replication (connected to the named database).
 *
 * The `parameters` group's value is the Record of parameters: the context tracker reads it.
 */
export const startupMessage: MessageCodec<StartupMessage> = {
  name: 'StartupMessage',
  readsContext: false,
  decode(r) {
    r.int32('protocol version', describeVersion);
    const params: Record<string, string> = {};
    r.group('parameters', () => {
      for (;;) {
        if (r.peekByte() === 0) {
          r.uint8('terminator', 'end of parameters');
          break;
        }
        r.group('parameter', () => {
          const name = r.cstring('name', describeName);
          const value = r.cstring('value', (v) => describeValue(name, v));
          params[name] = value;
        });
        if (r.peekByte() === undefined) r.fail('past-end', 'a zero byte ending the parameter list');
      }
      return params;
    });
  },
  fields(m) {
    const spans = wholeSpans(m, 'StartupMessage', m.frame.kind === 'startup' && m.name === 'StartupMessage');
    const v = num(m, span(m, spans, 'protocol version'));
    return {
      protocol: { major: v >>> 16, minor: v & 0xffff },
      params: spansNamed(childrenOf(m, span(m, spans, 'parameters')), 'parameter').map((g) => {
        const c = childrenOf(m, g);
        return [text(m, span(m, c, 'name')), text(m, span(m, c, 'value'))];
      }),
    };
  },
  encode(f) {
    return writeStartupPacket(
      'StartupMessage',
      (w) => {
        const { major, minor } = f.protocol;
        // Another major version would be a different packet (or none the server knows).
        if (major !== 3) w.fail('protocol version', `major version 3, got ${major}`);
        w.uint16(major, 'protocol version (major)');
        w.uint16(minor, 'protocol version (minor)');
        for (const [name, value] of f.params) {
          // An empty name would read as the list's terminator.
          if (name === '') w.fail('name', 'a parameter name cannot be empty');
          w.cstring(name, 'name');
          w.cstring(value, 'value');
        }
        w.uint8(0, 'terminator');
      },
      128,
    );
  },
};

/**
 * The parameters of a StartupMessage by name (the last value of a repeated name wins), once
 * the whole list was read: what the context tracker keeps. Undefined otherwise.
 */
export function startupParameters(m: DecodedMessage): Record<string, string> | undefined {
  const v = maybeSpan(m.spans, 'parameters')?.value;
  return v && typeof v === 'object' ? (v as Record<string, string>) : undefined;
}

function describeVersion(v: number): string {
  const major = v >>> 16;
  const minor = v & 0xffff;
  const base = `protocol ${major}.${minor}`;
  if (minor === 0) return base;
  if (minor === 2) return `${base} (PostgreSQL 18+)`;
  if (minor === 1) return `${base} (reserved: no PostgreSQL version uses it)`;
  return `${base} (newer than 3.2: a server that does not know it answers NegotiateProtocolVersion)`;
}

const KNOWN_NAMES: Record<string, string> = {
  user: 'user: the database user name to connect as',
  database: 'database: the database to connect to (defaults to the user name)',
  options: 'options: command-line arguments for the backend (deprecated)',
  replication: 'replication: connect to a walsender (streaming replication mode)',
};

function describeName(name: string): string {
  if (name.startsWith('_pq_.')) return `protocol option ${name.slice(5)} (_pq_. prefix: a protocol extension, not a run-time parameter)`;
  return KNOWN_NAMES[name] ?? `run-time parameter ${name}, set at backend start`;
}

function describeValue(name: string, value: string): string {
  if (name === 'replication') {
    if (value.toLowerCase() === 'database') return 'walsender for logical replication, connected to the database';
    const b = parseBool(value);
    if (b === true) return 'walsender for physical replication';
    if (b === false) return 'a normal backend, not a walsender';
    return 'not a replication value (true, false or database): the server rejects it';
  }
  if (name.startsWith('_pq_.')) return `value of protocol option ${name.slice(5)}`;
  return `${name} value`;
}

/**
 * A boolean as the server reads it: "on, off, true, false, yes, no, 1, 0 (all
 * case-insensitive) or any unambiguous prefix of one of these."
 */
function parseBool(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === '') return undefined;
  if (v === '1') return true;
  if (v === '0') return false;
  if ('true'.startsWith(v) || 'yes'.startsWith(v)) return true;
  if ('false'.startsWith(v) || 'no'.startsWith(v)) return false;
  // "o" alone is ambiguous between on and off.
  if (v.length >= 2 && 'on'.startsWith(v)) return true;
  if (v.length >= 2 && 'off'.startsWith(v)) return false;
  return undefined;
}
