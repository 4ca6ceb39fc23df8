import { backendDecoders } from '../protocol/backend/index.js';
import { frontendDecoders, startupDecoders } from '../protocol/frontend/index.js';
import { gssResponse } from '../protocol/frontend/gss-response.js';
import { passwordMessage } from '../protocol/frontend/password-message.js';
import { saslInitialResponse } from '../protocol/frontend/sasl-initial-response.js';
import { saslResponse } from '../protocol/frontend/sasl-response.js';
import { tlsRecordDecoder } from '../protocol/frontend/tls-client-hello.js';
import { pgoutputDecoders } from '../protocol/replication/pgoutput/index.js';

/**
 * Names the codec gives messages (DecodedMessage.name) or nested payloads (`sub`) that are
 * not in a decoder table's `name`: the 'R' message is renamed by its request code, the
 * SSLRequest answer by what it answers, replication payloads are named in `sub`.
 */
const NAMED_ELSEWHERE = [
  'AuthenticationOk',
  'AuthenticationKerberosV5',
  'AuthenticationCleartextPassword',
  'AuthenticationMD5Password',
  'AuthenticationSCMCredential',
  'AuthenticationGSS',
  'AuthenticationGSSContinue',
  'AuthenticationSSPI',
  'AuthenticationSASL',
  'AuthenticationSASLContinue',
  'AuthenticationSASLFinal',
  'SSLResponse',
  'GSSENCResponse',
  'XLogData',
  'PrimaryKeepalive',
  'StandbyStatusUpdate',
  'HotStandbyFeedback',
  'TLSRecord',
  'DirectTLS',
];

/**
 * A message name as filters compare it: the part before any " (…)" note
 * ("PasswordMessage (authentication request not seen)"), lower case, letters and digits
 * only, so `xlogdata`, `XLogData` and "TLS ClientHello" all compare as spelled by a person.
 */
export function normalizeName(name: string): string {
  const paren = name.indexOf(' (');
  return (paren === -1 ? name : name.slice(0, paren)).toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Every name a filter may use, spelled as the codec spells it, keyed by its normalized form. */
export const KNOWN_NAMES: ReadonlyMap<string, string> = buildKnownNames();

function buildKnownNames(): Map<string, string> {
  const names = [
    ...Object.values(frontendDecoders).map((d) => d.name),
    ...Object.values(backendDecoders).map((d) => d.name),
    ...Object.values(startupDecoders).map((d) => d.name),
    ...[passwordMessage, saslInitialResponse, saslResponse, gssResponse].map((d) => d.name),
    ...Object.values(pgoutputDecoders).map((d) => d.sub),
    ...NAMED_ELSEWHERE,
  ];
  const out = new Map<string, string>();
  // The TLS record decoder's name carries a note: "TLS ClientHello (direct TLS)" → TLSClientHello.
  out.set(normalizeName(tlsRecordDecoder.name), 'TLSClientHello');
  for (const n of names) if (n !== 'Authentication') out.set(normalizeName(n), n);
  return out;
}

/** Up to `max` candidates close to `word` (edit distance, or sharing a prefix), closest first. */
export function closeNames(word: string, candidates: Iterable<string>, max = 5): string[] {
  const w = normalizeName(word);
  const scored: { name: string; score: number }[] = [];
  // A typo is about one edit in three letters; short words get one edit, so "a" suggests nothing silly.
  const limit = Math.max(1, Math.min(3, Math.floor(w.length / 3)));
  for (const c of candidates) {
    const n = normalizeName(c);
    const d = editDistance(w, n);
    if (d <= limit) scored.push({ name: c, score: d });
    else if (w.length >= 3 && (n.startsWith(w) || w.startsWith(n) || n.includes(w))) scored.push({ name: c, score: limit + 1 });
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, max).map((s) => s.name);
}

/** Levenshtein distance (names are short: the quadratic table is fine). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
