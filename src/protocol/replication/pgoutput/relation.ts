import { childrenOf, chr, num, span, spansNamed, text } from '../../spans.js';
import { describeTypeOid } from '../../type-names.js';
import { plural } from '../../values.js';
import { streamedXid } from '../fields.js';
import { pgoutputFieldSpans, streamedXidOf, writePgoutput, writeStreamedXid, type PgoutputCodec } from './decoder.js';

/** relreplident values of pg_class. */
const REPLICA_IDENTITY: Record<string, string> = {
  d: 'replica identity: default (primary key)',
  n: 'replica identity: nothing',
  f: 'replica identity: full (all columns)',
  i: 'replica identity: index',
};

/** One column of a Relation (each column included in the publication). */
export interface RelationColumn {
  /** 0 for no flags, 1 if the column is part of the key. */
  flags: number;
  /** Name of the column. */
  name: string;
  /** OID of the column's data type. */
  typeOid: number;
  /** Type modifier of the column (atttypmod). */
  typeModifier: number;
}

export interface Relation {
  /** Xid of the transaction: only in a streamed transaction (protocol 2+). */
  xid?: number;
  /** OID of the relation. */
  relationOid: number;
  /** Namespace (empty string for pg_catalog). */
  namespace: string;
  /** Relation name. */
  relationName: string;
  /** Replica identity setting for the relation (relreplident): default, nothing, full, index. */
  replicaIdentity: 'd' | 'n' | 'f' | 'i';
  columns: RelationColumn[];
}

/**
 * Relation (Byte1('R')), sent before the first change of a relation (and again when its
 * definition changes):
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int32 (Oid) — OID of the relation.
 *   String — Namespace (empty string for pg_catalog).
 *   String — Relation name.
 *   Int8 — Replica identity setting for the relation (same as relreplident in pg_class).
 *   Int16 — Number of columns.
 *   Next, the following message part appears for each column included in the publication:
 *     Int8 — Flags for the column. Currently can be either 0 for no flags or 1 which marks
 *       the column as part of the key.
 *     String — Name of the column.
 *     Int32 (Oid) — OID of the column's data type.
 *     Int32 — Type modifier of the column (atttypmod).
 */
export const relation: PgoutputCodec<Relation> = {
  name: 'Relation',
  sub: 'Relation',
  type: 'R',
  readsContext: true,
  decode(r, state) {
    streamedXid(r, state);
    r.uint32('relation OID');
    r.cstring('namespace', (ns) => (ns === '' ? 'namespace: pg_catalog (empty string)' : undefined));
    r.cstring('relation name');
    const ident = r.char('replica identity', (c) => REPLICA_IDENTITY[c] ?? 'unknown replica identity');
    if (!(ident in REPLICA_IDENTITY)) {
      r.fail('bad-value', `a replica identity of 'd' (default), 'n' (nothing), 'f' (full) or 'i' (index), got ${JSON.stringify(ident)}`, r.pos - 1);
    }
    const n = r.int16('number of columns', (v) => plural(v, 'column'));
    if (n < 0) r.fail('bad-value', `Relation: a column count of 0 or more, got ${n}`, r.pos - 2);
    // Each column takes at least 10 bytes: flags, an empty name's terminator, two Int32s.
    if (n * 10 > r.remaining) r.fail('past-end', `Relation: ${plural(n, 'column')} announced, only ${plural(r.remaining, 'byte')} left`, r.pos - 2);
    for (let i = 1; i <= n; i++) {
      r.group(
        'column',
        () => {
          const flags = r.uint8('flags', (f) => (f === 1 ? 'flags: 1 (part of the key)' : f === 0 ? 'flags: 0 (not part of the key)' : `flags: ${f} (undocumented)`));
          if (flags !== 0 && flags !== 1) r.fail('bad-value', `Relation column ${i}: flags 0 or 1 (part of the key), got ${flags}`, r.pos - 1);
          r.cstring('column name');
          r.uint32('type OID', describeTypeOid);
          r.int32('type modifier', (m) => (m === -1 ? 'type modifier: -1 (none)' : `type modifier: ${m}`));
        },
        `column ${i}`,
      );
    }
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, relation);
    return {
      ...streamedXidOf(m, s),
      relationOid: num(m, span(m, s, 'relation OID')),
      namespace: text(m, span(m, s, 'namespace')),
      relationName: text(m, span(m, s, 'relation name')),
      replicaIdentity: chr(m, span(m, s, 'replica identity')) as Relation['replicaIdentity'],
      columns: spansNamed(s, 'column').map((g) => {
        const c = childrenOf(m, g);
        return { flags: num(m, span(m, c, 'flags')), name: text(m, span(m, c, 'column name')), typeOid: num(m, span(m, c, 'type OID')), typeModifier: num(m, span(m, c, 'type modifier')) };
      }),
    };
  },
  encode(f) {
    return writePgoutput(
      relation,
      (w) => {
        writeStreamedXid(w, f.xid);
        w.uint32(f.relationOid, 'relation OID');
        w.cstring(f.namespace, 'namespace');
        w.cstring(f.relationName, 'relation name');
        if (!(f.replicaIdentity in REPLICA_IDENTITY)) w.fail('replica identity', `'d', 'n', 'f' or 'i', got ${JSON.stringify(f.replicaIdentity)}`);
        w.char(f.replicaIdentity, 'replica identity');
        w.int16(f.columns.length, 'number of columns');
        for (const c of f.columns) {
          if (c.flags !== 0 && c.flags !== 1) w.fail('flags', `0 or 1 (part of the key), got ${c.flags}`);
          w.uint8(c.flags, 'flags');
          w.cstring(c.name, 'column name');
          w.uint32(c.typeOid, 'type OID');
          w.int32(c.typeModifier, 'type modifier');
        }
      },
      64 + f.columns.length * 24,
    );
  },
};
