import { num, span, text } from '../../spans.js';
import { describeTypeOid } from '../../type-names.js';
import { streamedXid } from '../fields.js';
import { pgoutputFieldSpans, streamedXidOf, writePgoutput, writeStreamedXid, type PgoutputCodec } from './decoder.js';

/** Type ('Y'): a non-built-in data type a Relation uses. */
export interface TypeMessage {
  /** Xid of the transaction: only in a streamed transaction (protocol 2+). */
  xid?: number;
  /** OID of the data type. */
  typeOid: number;
  /** Namespace (empty string for pg_catalog). */
  namespace: string;
  /** Name of the data type. */
  name: string;
}

/**
 * Type (Byte1('Y')), sent before the first Relation that uses a non-built-in type:
 *   Int32 (TransactionId) — Xid of the transaction (only present for streamed
 *     transactions). This field is available since protocol version 2.
 *   Int32 (Oid) — OID of the data type.
 *   String — Namespace (empty string for pg_catalog).
 *   String — Name of the data type.
 */
export const type: PgoutputCodec<TypeMessage> = {
  name: 'Type',
  sub: 'Type',
  type: 'Y',
  readsContext: true,
  decode(r, state) {
    streamedXid(r, state);
    r.uint32('type OID', describeTypeOid);
    r.cstring('namespace', (ns) => (ns === '' ? 'namespace: pg_catalog (empty string)' : undefined));
    r.cstring('type name', 'data type name');
  },
  fields(m) {
    const s = pgoutputFieldSpans(m, type);
    return { ...streamedXidOf(m, s), typeOid: num(m, span(m, s, 'type OID')), namespace: text(m, span(m, s, 'namespace')), name: text(m, span(m, s, 'type name')) };
  },
  encode(f) {
    return writePgoutput(type, (w) => {
      writeStreamedXid(w, f.xid);
      w.uint32(f.typeOid, 'type OID');
      w.cstring(f.namespace, 'namespace');
      w.cstring(f.name, 'type name');
    });
  },
};
