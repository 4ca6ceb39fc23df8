import type { MessageCodec } from '../decoder.js';
import { isMessage, num, spansNamed, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';

export interface ParameterDescription {
  /** "the object ID of the parameter data type", one per parameter of the statement. */
  parameterTypes: number[];
}
import { describeTypeOid } from '../type-names.js';
import { readCount } from './counts.js';

/**
 * ParameterDescription (B, 't'): the answer to Describe of a prepared statement.
 *   Int16 — "The number of parameters used by the statement (can be zero)."
 *   then for each: Int32 — "Specifies the object ID of the parameter data type."
 * The count is read unsigned: a statement may have up to 65535 parameters, which the
 * server writes into these 16 bits as is (libpq reads them unsigned too). OIDs are
 * unsigned 32-bit numbers.
 */
export const parameterDescription: MessageCodec<ParameterDescription> = {
  name: 'ParameterDescription',
  readsContext: false,
  decode(r) {
    const n = readCount(r, 'uint16', 'number of parameters', 'parameter type', 4);
    for (let i = 1; i <= n; i++) {
      r.uint32('parameter type OID', (oid) => `parameter $${i}: ${describeTypeOid(oid)}`);
    }
  },
  fields(m) {
    const spans = wholeSpans(m, 'ParameterDescription', isMessage(m, 'backend', 't'));
    return { parameterTypes: spansNamed(spans, 'parameter type OID').map((s) => num(m, s)) };
  },
  encode(f) {
    return writeMessage('t', 'ParameterDescription', (w) => {
      w.uint16(f.parameterTypes.length, 'number of parameters');
      for (const oid of f.parameterTypes) w.uint32(oid, 'parameter type OID');
    });
  },
};

/** The parameter type OIDs as far as they were read: for the statement context. */
export function parameterTypesAsRead(m: DecodedMessage): number[] {
  return spansNamed(m.spans, 'parameter type OID').map((s) => Number(s.value));
}
