import { num, span, spansNamed } from '../../spans.js';
import { plural } from '../../values.js';
import { streamedXid } from '../fields.js';
import { pgoutputFieldSpans, streamedXidOf, writePgoutput, writeStreamedXid, type PgoutputCodec } from './decoder.js';

const CASCADE = 1;
const RESTART_IDENTITY = 2;

function describeOptions(bits: number): string {
  if (bits === 0) return 'option bits: 0 (none)';
  const names: string[] = [];
  if (bits & CASCADE) names.push('CASCADE');
  if (bits & RESTART_IDENTITY) names.push('RESTART IDENTITY');
  const unknown = bits & ~(CASCADE | RESTART_IDENTITY);
  if (unknown) names.push(`unknown bits 0x${unknown.toString(16).padStart(2, '0')}`);
  return `option bits: ${bits} (${names.join(', ')})`;
}

export interface Truncate {
  /** Xid of the transaction: only in a streamed transaction (protocol 2+). */
  xid?: number;
  /** Option bits for TRUNCATE: 1 for CASCADE, 2 for RESTART IDENTITY. */
  options: number;
  /** OIDs of the relations corresponding to the OIDs in the relation messages. */
  relationOids: number[];
}

/**
 * Truncate (Byte1('T')):
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int32 — Number of relations.
 *   Int8 — Option bits for TRUNCATE: 1 for CASCADE, 2 for RESTART IDENTITY.
 *   Int32 (Oid) — OID of the relation corresponding to the OID in the relation message.
 *     This field is repeated for each relation.
 */
export const truncate: PgoutputCodec<Truncate> = {
  name: 'Truncate',
  sub: 'Truncate',
  type: 'T',
  readsContext: true,
  decode(r, state) {
    streamedXid(r, state);
    const n = r.int32('number of relations', (v) => plural(v, 'relation'));
    if (n < 0) r.fail('bad-value', `Truncate: a relation count of 0 or more, got ${n}`, r.pos - 4);
    const bits = r.uint8('option bits', describeOptions);
    if (bits & ~(CASCADE | RESTART_IDENTITY)) {
      r.fail('bad-value', `Truncate option bits 1 (CASCADE) and 2 (RESTART IDENTITY) only, got ${bits}`, r.pos - 1);
    }
    if (n * 4 > r.remaining) r.fail('past-end', `Truncate: ${plural(n, 'relation OID')} announced, only ${plural(r.remaining, 'byte')} left`);
    for (let i = 0; i < n; i++) r.uint32('relation OID');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, truncate);
    return { ...streamedXidOf(m, s), options: num(m, span(m, s, 'option bits')), relationOids: spansNamed(s, 'relation OID').map((x) => num(m, x)) };
  },
  encode(f) {
    return writePgoutput(truncate, (w) => {
      writeStreamedXid(w, f.xid);
      w.int32(f.relationOids.length, 'number of relations');
      if (f.options & ~(CASCADE | RESTART_IDENTITY)) w.fail('option bits', `1 (CASCADE) and 2 (RESTART IDENTITY) only, got ${f.options}`);
      w.uint8(f.options, 'option bits');
      for (const oid of f.relationOids) w.uint32(oid, 'relation OID');
    });
  },
};
