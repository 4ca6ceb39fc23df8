/**
 * pgoutput data changes: Insert, Update (no old tuple, old key 'K', old tuple 'O'),
 * Delete ('K', 'O'), Truncate (option bits), and TupleData columns 'n', 'u', 't', 'b';
 * streamed (xid) and not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Part } from '../../helpers/wire.js';
import { golden, int16, int32, int8, logical, uint32, valueAt, valuesAt, xlog } from './build.js';

const V1 = logical({ protoVersion: 1 });
const V4 = logical({ protoVersion: 4, streaming: 'parallel' });
const V4_STREAMING = logical({ protoVersion: 4, streaming: 'parallel' }, true);

const text = (s: string): Part[] => ['t', int32(Buffer.byteLength(s)), s];
const tuple = (...cols: Part[][]): Part[] => [int16(cols.length), ...cols.flat()];

describe('pgoutput Insert', () => {
  it('relation OID, new tuple with text columns', () => {
    const m = golden('backend', xlog(['I', uint32(16384), 'N', ...tuple(text('1'), text('widget'), text('happy'))]), V1, String.raw`"d" = CopyData "\x00\x00\x00@" = 64 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "I" = Insert "\x00\x00@\x00" = relation OID: 16384
    new tuple: "N" = new tuple follows "\x00\x03" = 3 columns
      column 1: "t" = text "\x00\x00\x00\x01" = 1 byte "1" = text value
      column 2: "t" = text "\x00\x00\x00\x06" = 6 bytes "widget" = text value
      column 3: "t" = text "\x00\x00\x00\x05" = 5 bytes "happy" = text value`);
    assert.deepEqual(m.sub, ['XLogData', 'Insert']);
    assert.equal(valueAt(m, 'xid'), undefined);
    assert.equal(valueAt(m, 'relation OID'), 16384);
    assert.deepEqual(valuesAt(m, 'value').map(String), ['1', 'widget', 'happy']);
  });

  it('streamed: xid before the relation OID', () => {
    const m = golden('backend', xlog(['I', uint32(741), uint32(16384), 'N', ...tuple(text('2'), ['n'], text('sad'))]), V4_STREAMING, String.raw`"d" = CopyData "\x00\x00\x008" = 56 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "I" = Insert "\x00\x00\x02\xe5" = xid: 741 "\x00\x00@\x00" = relation OID: 16384
    new tuple: "N" = new tuple follows "\x00\x03" = 3 columns
      column 1: "t" = text "\x00\x00\x00\x01" = 1 byte "2" = text value
      column 2: "n" = null
      column 3: "t" = text "\x00\x00\x00\x03" = 3 bytes "sad" = text value`);
    assert.deepEqual(m.sub, ['XLogData', 'Insert']);
    assert.equal(valueAt(m, 'xid'), 741);
    assert.equal(valueAt(m, 'relation OID'), 16384);
  });

  it('TupleData with null, unchanged TOASTed, text and binary columns', () => {
    const m = golden('backend', xlog(['I', uint32(16384), 'N', ...tuple(['n'], ['u'], text('é'), ['b', int32(4), int32(42)], ['t', int32(0)])]), V1, String.raw`"d" = CopyData "\x00\x00\x00<" = 60 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "I" = Insert "\x00\x00@\x00" = relation OID: 16384
    new tuple: "N" = new tuple follows "\x00\x05" = 5 columns
      column 1: "n" = null
      column 2: "u" = unchanged TOASTed value (not sent)
      column 3: "t" = text "\x00\x00\x00\x02" = 2 bytes "\xc3\xa9" = text value
      column 4: "b" = binary "\x00\x00\x00\x04" = 4 bytes "\x00\x00\x00*" = binary value
      column 5: "t" = text "\x00\x00\x00\x00" = 0 bytes "" = text value`);
    assert.deepEqual(valuesAt(m, 'kind'), ['n', 'u', 't', 'b', 't']);
    assert.deepEqual(valuesAt(m, 'length').slice(1), [2, 4, 0], 'column lengths after the CopyData length');
    assert.deepEqual(valuesAt(m, 'value')[1], Buffer.from([0, 0, 0, 42]));
    assert.equal(m.error, undefined);
  });

  it('a tuple with no columns', () => {
    const m = golden('backend', xlog(['I', uint32(16384), 'N', int16(0)]), V1, String.raw`"d" = CopyData "\x00\x00\x00%" = 37 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "I" = Insert "\x00\x00@\x00" = relation OID: 16384
    new tuple: "N" = new tuple follows "\x00\x00" = 0 columns`);
    assert.equal(m.error, undefined);
  });
});

describe('pgoutput Update', () => {
  it('new tuple only (replica identity unchanged)', () => {
    const m = golden('backend', xlog(['U', uint32(16384), 'N', ...tuple(text('1'), text('gadget'), ['u'])]), V1, String.raw`"d" = CopyData "\x00\x00\x007" = 55 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "U" = Update "\x00\x00@\x00" = relation OID: 16384
    new tuple: "N" = new tuple follows "\x00\x03" = 3 columns
      column 1: "t" = text "\x00\x00\x00\x01" = 1 byte "1" = text value
      column 2: "t" = text "\x00\x00\x00\x06" = 6 bytes "gadget" = text value
      column 3: "u" = unchanged TOASTed value (not sent)`);
    assert.deepEqual(m.sub, ['XLogData', 'Update']);
    assert.deepEqual(valuesAt(m, 'tuple kind'), ['N']);
  });

  it("old key 'K' then new tuple", () => {
    const m = golden('backend', xlog(['U', uint32(16384), 'K', ...tuple(text('1'), ['n'], ['n']), 'N', ...tuple(text('10'), text('gadget'), text('ok'))]), V1, String.raw`"d" = CopyData "\x00\x00\x00I" = 73 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "U" = Update "\x00\x00@\x00" = relation OID: 16384
    old key: "K" = old key follows "\x00\x03" = 3 columns
      column 1: "t" = text "\x00\x00\x00\x01" = 1 byte "1" = text value
      column 2: "n" = null
      column 3: "n" = null
    new tuple: "N" = new tuple follows "\x00\x03" = 3 columns
      column 1: "t" = text "\x00\x00\x00\x02" = 2 bytes "10" = text value
      column 2: "t" = text "\x00\x00\x00\x06" = 6 bytes "gadget" = text value
      column 3: "t" = text "\x00\x00\x00\x02" = 2 bytes "ok" = text value`);
    assert.deepEqual(valuesAt(m, 'tuple kind'), ['K', 'N']);
  });

  it("old tuple 'O' (REPLICA IDENTITY FULL) then new tuple, streamed", () => {
    const m = golden(
      'backend',
      xlog(['U', uint32(741), uint32(16400), 'O', ...tuple(text('2024-05-01 12:00:00+00'), text('x')), 'N', ...tuple(text('2024-05-01 12:00:00+00'), text('y'))]),
      V4_STREAMING,
      String.raw`"d" = CopyData "\x00\x00\x00n" = 110 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "U" = Update "\x00\x00\x02\xe5" = xid: 741 "\x00\x00@\x10" = relation OID: 16400
    old tuple: "O" = old tuple follows "\x00\x02" = 2 columns
      column 1: "t" = text "\x00\x00\x00\x16" = 22 bytes "2024-05-01 12:00:00+00" = text value
      column 2: "t" = text "\x00\x00\x00\x01" = 1 byte "x" = text value
    new tuple: "N" = new tuple follows "\x00\x02" = 2 columns
      column 1: "t" = text "\x00\x00\x00\x16" = 22 bytes "2024-05-01 12:00:00+00" = text value
      column 2: "t" = text "\x00\x00\x00\x01" = 1 byte "y" = text value`,
    );
    assert.equal(valueAt(m, 'xid'), 741);
    assert.deepEqual(valuesAt(m, 'tuple kind'), ['O', 'N']);
  });
});

describe('pgoutput Delete', () => {
  it("old key 'K'", () => {
    const m = golden('backend', xlog(['D', uint32(16384), 'K', ...tuple(text('1'), ['n'], ['n'])]), V1, String.raw`"d" = CopyData "\x00\x00\x00-" = 45 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "D" = Delete "\x00\x00@\x00" = relation OID: 16384
    old key: "K" = old key follows "\x00\x03" = 3 columns
      column 1: "t" = text "\x00\x00\x00\x01" = 1 byte "1" = text value
      column 2: "n" = null
      column 3: "n" = null`);
    assert.deepEqual(m.sub, ['XLogData', 'Delete']);
    assert.deepEqual(valuesAt(m, 'tuple kind'), ['K']);
  });

  it("old tuple 'O', streamed", () => {
    const m = golden('backend', xlog(['D', uint32(741), uint32(16400), 'O', ...tuple(text('2024-05-01 12:00:00+00'), text('y'))]), V4_STREAMING, String.raw`"d" = CopyData "\x00\x00\x00J" = 74 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "D" = Delete "\x00\x00\x02\xe5" = xid: 741 "\x00\x00@\x10" = relation OID: 16400
    old tuple: "O" = old tuple follows "\x00\x02" = 2 columns
      column 1: "t" = text "\x00\x00\x00\x16" = 22 bytes "2024-05-01 12:00:00+00" = text value
      column 2: "t" = text "\x00\x00\x00\x01" = 1 byte "y" = text value`);
    assert.equal(valueAt(m, 'xid'), 741);
    assert.deepEqual(valuesAt(m, 'tuple kind'), ['O']);
  });
});

describe('pgoutput Truncate', () => {
  it('two relations, CASCADE and RESTART IDENTITY', () => {
    const m = golden('backend', xlog(['T', int32(2), int8(3), uint32(16384), uint32(16400)]), V1, String.raw`"d" = CopyData "\x00\x00\x00+" = 43 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "T" = Truncate "\x00\x00\x00\x02" = 2 relations "\x03" = option bits: 3 (CASCADE, RESTART IDENTITY) "\x00\x00@\x00" = relation OID: 16384 "\x00\x00@\x10" = relation OID: 16400`);
    assert.deepEqual(m.sub, ['XLogData', 'Truncate']);
    assert.equal(valueAt(m, 'option bits'), 3);
    assert.deepEqual(valuesAt(m, 'relation OID'), [16384, 16400]);
  });

  it('no options, one relation, streamed', () => {
    const m = golden('backend', xlog(['T', uint32(741), int32(1), int8(0), uint32(16384)]), V4_STREAMING, String.raw`"d" = CopyData "\x00\x00\x00+" = 43 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "T" = Truncate "\x00\x00\x02\xe5" = xid: 741 "\x00\x00\x00\x01" = 1 relation "\x00" = option bits: 0 (none) "\x00\x00@\x00" = relation OID: 16384`);
    assert.equal(valueAt(m, 'xid'), 741);
  });

  it('each option bit alone', () => {
    for (const bits of [1, 2]) {
      const m = golden('backend', xlog(['T', int32(1), int8(bits), uint32(16384)]), V4, bits === 1 ? String.raw`"d" = CopyData "\x00\x00\x00'" = 39 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "T" = Truncate "\x00\x00\x00\x01" = 1 relation "\x01" = option bits: 1 (CASCADE) "\x00\x00@\x00" = relation OID: 16384` : String.raw`"d" = CopyData "\x00\x00\x00'" = 39 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "T" = Truncate "\x00\x00\x00\x01" = 1 relation "\x02" = option bits: 2 (RESTART IDENTITY) "\x00\x00@\x00" = relation OID: 16384`);
      assert.equal(m.error, undefined);
    }
  });
});
