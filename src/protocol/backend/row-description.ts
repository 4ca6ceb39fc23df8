import type { Column } from '../statement-typing.js';
import type { MessageCodec } from '../decoder.js';
import { childrenOf, isMessage, num, span, spansNamed, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
import { describeFormat, describeTypeOid, typeName } from '../type-names.js';
import { plural } from '../values.js';
import { readCount } from './counts.js';

/** Bytes of one field at the least: an empty name's terminator and six fixed fields. */
const MIN_FIELD = 1 + 4 + 2 + 4 + 2 + 4 + 2;

/** "The data type size (see pg_type.typlen). Note that negative values denote variable-width types." */
function describeSize(size: number): string {
  if (size === -1) return 'variable width (varlena)';
  if (size === -2) return 'variable width (null-terminated C string)';
  if (size < 0) return `variable width (${size})`;
  return `fixed width, ${plural(size, 'byte')}`;
}

/**
 * "The type modifier (see pg_attribute.atttypmod). The meaning of the modifier is
 * type-specific." Decoded for the common built-in types, as format_type() shows them.
 */
export function describeTypmod(typeOid: number, mod: number): string {
  if (mod === -1) return 'no type modifier';
  const t = typeName(typeOid);
  switch (t) {
    case 'varchar':
    case 'bpchar':
      // The length plus VARHDRSZ (4).
      if (mod >= 4) return `${t}(${mod - 4})`;
      break;
    case 'numeric': {
      if (mod < 4) break;
      const m = mod - 4;
      const scale = ((m & 0x7ff) ^ 1024) - 1024;
      return `numeric(${(m >> 16) & 0xffff},${scale})`;
    }
    case 'bit':
    case 'varbit':
    case 'timestamp':
    case 'timestamptz':
    case 'time':
    case 'timetz':
      if (mod >= 0) return `${t}(${mod})`;
      break;
  }
  return `type modifier ${mod}`;
}

/**
 * RowDescription (B, 'T'):
 *   Int16 — "Specifies the number of fields in a row (can be zero)."
 *   then for each field:
 *   String — "The field name."
 *   Int32 — "If the field can be identified as a column of a specific table, the object ID
 *           of the table; otherwise zero."
 *   Int16 — "If the field can be identified as a column of a specific table, the attribute
 *           number of the column; otherwise zero."
 *   Int32 — "The object ID of the field's data type."
 *   Int16 — "The data type size (see pg_type.typlen)."
 *   Int32 — "The type modifier (see pg_attribute.atttypmod)."
 *   Int16 — "The format code being used for the field. Currently will be zero (text) or
 *           one (binary)."
 * OIDs are unsigned and read so.
 */
/** One field (result column) of a RowDescription. */
export interface RowField {
  /** "The field name." */
  name: string;
  /** The object ID of the table the field is a column of, or zero. */
  tableOid: number;
  /** The attribute number of that column, or zero. */
  columnAttributeNumber: number;
  /** "The object ID of the field's data type." */
  dataTypeOid: number;
  /** "The data type size (see pg_type.typlen)": negative for variable-width types. */
  dataTypeSize: number;
  /** "The type modifier (see pg_attribute.atttypmod)." */
  typeModifier: number;
  /** "The format code being used for the field": 0 text, 1 binary. */
  formatCode: number;
}

export interface RowDescription {
  fields: RowField[];
}

export const rowDescription: MessageCodec<RowDescription> = {
  name: 'RowDescription',
  readsContext: false,
  decode(r) {
    const n = readCount(r, 'int16', 'number of fields', 'field', MIN_FIELD);
    for (let i = 1; i <= n; i++) {
      r.group(
        'field',
        () => {
          const name = r.cstring('field name');
          r.uint32('table OID', (oid) => (oid === 0 ? 'not a table column' : `table OID ${oid}`));
          r.int16('column attribute number', (a) => (a === 0 ? 'no column number' : `column ${a} of the table`));
          const type = r.uint32('data type OID', describeTypeOid);
          r.int16('data type size', describeSize);
          r.int32('type modifier', (m) => describeTypmod(type, m));
          const f = r.int16('format code', (c) => describeFormat(c) ?? `unknown format code ${c}`);
          if (f !== 0 && f !== 1) r.fail('bad-value', `a format code of 0 (text) or 1 (binary), got ${f}`, r.pos - 2);
          return name;
        },
        (name) => `field ${i} ${JSON.stringify(name)}`,
      );
    }
  },
  fields(m) {
    const spans = wholeSpans(m, 'RowDescription', isMessage(m, 'backend', 'T'));
    return {
      fields: spansNamed(spans, 'field').map((g) => {
        const c = childrenOf(m, g);
        return {
          name: text(m, span(m, c, 'field name')),
          tableOid: num(m, span(m, c, 'table OID')),
          columnAttributeNumber: num(m, span(m, c, 'column attribute number')),
          dataTypeOid: num(m, span(m, c, 'data type OID')),
          dataTypeSize: num(m, span(m, c, 'data type size')),
          typeModifier: num(m, span(m, c, 'type modifier')),
          formatCode: num(m, span(m, c, 'format code')),
        };
      }),
    };
  },
  encode(f) {
    return writeMessage(
      'T',
      'RowDescription',
      (w) => {
        w.int16(f.fields.length, 'number of fields');
        for (const c of f.fields) {
          w.cstring(c.name, 'field name');
          w.uint32(c.tableOid, 'table OID');
          w.int16(c.columnAttributeNumber, 'column attribute number');
          w.uint32(c.dataTypeOid, 'data type OID');
          w.int16(c.dataTypeSize, 'data type size');
          w.int32(c.typeModifier, 'type modifier');
          if (c.formatCode !== 0 && c.formatCode !== 1) w.fail('format code', `0 (text) or 1 (binary), got ${c.formatCode}`);
          w.int16(c.formatCode, 'format code');
        }
      },
      32 + f.fields.length * 32,
    );
  },
};


/**
 * The fields of a RowDescription as far as they were read (a field cut short keeps what it
 * has, the rest as '' or 0): for the statement context, which types DataRows by them.
 */
export function rowDescriptionColumns(m: DecodedMessage): Column[] {
  // Plain loops: one RowDescription per statement (per execution, for Describe-first clients such as pgbench -M prepared).
  const columns: Column[] = [];
  for (const f of m.spans) {
    if (f.name !== 'field') continue;
    let name: unknown, oid: unknown, format: unknown;
    for (const c of f.children ?? []) {
      if (c.name === 'field name') name ??= c.value;
      else if (c.name === 'data type OID') oid ??= c.value;
      else if (c.name === 'format code') format ??= c.value;
    }
    columns.push({ name: String(name ?? ''), oid: Number(oid ?? 0), format: Number(format ?? 0) });
  }
  return columns;
}
