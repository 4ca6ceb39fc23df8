import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTypmod } from '../../../src/protocol/backend/row-description.js';
import { cstr, int16, int32, msg } from '../../helpers/wire.js';
import { all, child, golden, malformed, top } from './helpers.js';

/** One RowDescription field. */
function fieldBytes(name: string, table: number, attnum: number, type: number, size: number, typmod: number, format: number): Buffer {
  return Buffer.concat([cstr(name), int32(table), int16(attnum), int32(type), int16(size), int32(typmod), int16(format)]);
}

describe('RowDescription (T)', () => {
  it('a table column, a varchar(20) column and a computed numeric(10,2) field in binary', () => {
    const m = golden(
      msg('T', int16(3), fieldBytes('id', 16385, 1, 23, 4, -1, 0), fieldBytes('name', 16385, 2, 1043, -1, 24, 0), fieldBytes('total', 0, 0, 1700, -1, (10 << 16) + 2 + 4, 1)),
      [
        '"T" = RowDescription "\\x00\\x00\\x00J" = 74 bytes',
        '  "\\x00\\x03" = 3 fields follow',
        '  field 1 "id": "id\\x00" = field name "\\x00\\x00@\\x01" = table OID 16385 "\\x00\\x01" = column 1 of the table "\\x00\\x00\\x00\\x17" = type OID 23 (int4) "\\x00\\x04" = fixed width, 4 bytes "\\xff\\xff\\xff\\xff" = no type modifier "\\x00\\x00" = format: text',
        '  field 2 "name": "name\\x00" = field name "\\x00\\x00@\\x01" = table OID 16385 "\\x00\\x02" = column 2 of the table "\\x00\\x00\\x04\\x13" = type OID 1043 (varchar) "\\xff\\xff" = variable width (varlena) "\\x00\\x00\\x00\\x18" = varchar(20) "\\x00\\x00" = format: text',
        '  field 3 "total": "total\\x00" = field name "\\x00\\x00\\x00\\x00" = not a table column "\\x00\\x00" = no column number "\\x00\\x00\\x06\\xa4" = type OID 1700 (numeric) "\\xff\\xff" = variable width (varlena) "\\x00\\n\\x00\\x06" = numeric(10,2) "\\x00\\x01" = format: binary',
      ].join('\n'),
    );
    assert.equal(top(m, 'number of fields').value, 3);
    const fields = all(m, 'field');
    assert.deepEqual(fields.map((f) => f.value), ['id', 'name', 'total']);
    assert.deepEqual(
      fields[1]!.children!.map((c) => [c.name, c.value]),
      [
        ['field name', 'name'],
        ['table OID', 16385],
        ['column attribute number', 2],
        ['data type OID', 1043],
        ['data type size', -1],
        ['type modifier', 24],
        ['format code', 0],
      ],
    );
    assert.equal(child(fields[2]!, 'format code').value, 1);
  });

  it('no fields', () => {
    golden(msg('T', int16(0)), '"T" = RowDescription "\\x00\\x00\\x00\\x06" = 6 bytes "\\x00\\x00" = 0 fields follow');
  });

  it('decodes the common type modifiers', () => {
    assert.deepEqual(
      [
        describeTypmod(1042, 14),
        describeTypmod(1700, ((5 << 16) | 0) + 4),
        describeTypmod(1700, ((5 << 16) | 0x7fe) + 4),
        describeTypmod(1184, 3),
        describeTypmod(1560, 8),
        describeTypmod(25, 10),
        describeTypmod(23, -1),
      ],
      ['bpchar(10)', 'numeric(5,0)', 'numeric(5,-2)', 'timestamptz(3)', 'bit(8)', 'type modifier 10', 'no type modifier'],
    );
  });

  describe('malformed', () => {
    it('cut short: a field missing its format code', () => {
      const one = fieldBytes('abc', 0, 0, 25, -1, -1, 0);
      const m = malformed(msg('T', int16(1), one.subarray(0, one.length - 2)), 'past-end', { at: 27, unparsed: false, name: 'RowDescription' });
      assert.equal(child(all(m, 'field')[0]!, 'type modifier').value, -1);
    });
    it('cut short: fewer fields than announced', () => {
      malformed(msg('T', int16(2), fieldBytes('a', 0, 0, 25, -1, -1, 0)), 'past-end', { at: 5, unparsed: true });
    });
    it('a negative field count', () => {
      malformed(msg('T', int16(-3)), 'bad-value', { at: 5, unparsed: false });
    });
    it('an unknown format code', () => {
      malformed(msg('T', int16(1), fieldBytes('a', 0, 0, 25, -1, -1, 7)), 'bad-value', { at: 25, unparsed: false });
    });
    it('trailing bytes', () => {
      malformed(msg('T', int16(1), fieldBytes('a', 0, 0, 25, -1, -1, 0), [1]), 'trailing-bytes', { at: 27, unparsed: true });
    });
  });
});
