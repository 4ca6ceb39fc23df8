import type { Reader } from './reader.js';
import type { Span } from './types.js';

/**
 * SCRAM messages (RFC 5802, carried in SASLInitialResponse/SASLContinue/SASLResponse/
 * SASLFinal) are comma-separated `a=value` attributes. This reads `length` bytes of them
 * through the Reader, one span per attribute (comma included with the attribute before it)
 * with the meanings below, and returns the attributes by name.
 *
 * The client-first-message starts with a GS2 header: a channel-binding flag
 * (`n`, `y`, or `p=<cb-name>`), then an optional authzid (`a=…`), each followed by a comma.
 */
const ATTRIBUTE_MEANINGS: Record<string, string> = {
  n: 'SCRAM user name (PostgreSQL ignores it and uses the startup user)',
  r: 'SCRAM nonce',
  s: 'SCRAM salt (base64)',
  i: 'SCRAM iteration count',
  c: 'SCRAM channel-binding data (base64 of GS2 header + binding)',
  p: 'SCRAM client proof (base64)',
  v: 'SCRAM server signature (base64)',
  e: 'SCRAM server error',
  m: 'SCRAM reserved extension',
  a: 'authorization identity',
};

/** What the GS2 channel-binding flag says about the client. */
export function describeGs2Flag(flag: string): string {
  if (flag === 'n') return "GS2 flag 'n': client does not support channel binding";
  if (flag === 'y') return "GS2 flag 'y': client supports channel binding but thinks the server does not";
  if (flag.startsWith('p=')) return `GS2 flag 'p': client uses channel binding ${flag.slice(2)}`;
  return `unknown GS2 flag ${JSON.stringify(flag)}`;
}

export interface ScramReadOptions {
  /** The bytes start with a GS2 header (client-first-message). */
  gs2Header?: boolean;
}

/**
 * Read `length` bytes of SCRAM attributes. Malformed text (no '=' in an attribute) is not
 * an error of the PostgreSQL protocol: it becomes a span whose meaning says so.
 */
export function readScramAttributes(r: Reader, length: number, opts: ScramReadOptions = {}): Record<string, string> {
  const attrs: Record<string, string> = {};
  const end = r.pos + length;
  // Read everything first through the Reader's bounds checks, then split into spans.
  const start = r.pos;
  const text = r.frame.bytes.toString('latin1', start, Math.min(end, r.avail));
  r.within(length, 'SCRAM message', () => {
    let pos = 0;
    const parts = text.split(',');
    let index = 0;
    const take = (name: string, n: number, meaning: string | undefined, value: string): void => {
      r.bytes(name, n, meaning, { value });
      pos += n;
    };
    if (opts.gs2Header && parts.length >= 2) {
      const flag = parts[0]!;
      take('GS2 channel-binding flag', flag.length + 1, describeGs2Flag(flag), flag);
      attrs['gs2-cbind-flag'] = flag;
      const authz = parts[1]!;
      take('GS2 authzid', authz.length + 1, authz ? `authorization identity ${authz.slice(2)}` : 'no authorization identity', authz);
      index = 2;
    }
    for (; index < parts.length; index++) {
      const part = parts[index]!;
      const isLast = index === parts.length - 1;
      const n = Buffer.byteLength(part, 'latin1') + (isLast ? 0 : 1);
      if (n === 0) continue;
      const eq = part.indexOf('=');
      if (eq !== 1) {
        take('SCRAM text', n, 'not a SCRAM attribute (expected a=value)', part);
        continue;
      }
      const key = part[0]!;
      const value = part.slice(2);
      attrs[key] = value;
      let meaning = ATTRIBUTE_MEANINGS[key] ?? `SCRAM attribute ${key}`;
      if (key === 'i') meaning = `SCRAM iteration count: ${value}`;
      if (key === 'c') {
        const header = Buffer.from(value, 'base64').toString('latin1');
        const flag = header.split(',')[0] ?? '';
        meaning = `SCRAM channel binding: ${describeGs2Flag(flag)}${flag.startsWith('p=') ? ' (binding data follows the header)' : ''}`;
      }
      take(`${key}=`, n, meaning, value);
    }
    void pos;
  });
  return attrs;
}

/** The GS2 channel-binding flag a client-first-message's spans hold ('n', 'y', 'p=<name>'), if read. */
export function gs2FlagOf(spans: readonly Span[]): string | undefined {
  for (const s of spans) if (s.name === 'GS2 channel-binding flag') return typeof s.value === 'string' ? s.value : undefined;
  return undefined;
}
