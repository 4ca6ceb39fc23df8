/**
 * pgoutput ("Logical Replication Message Formats") transaction and metadata messages in
 * XLogData: Begin, Commit, Origin, Message, Relation, Type; with and without the xid that
 * only streamed transactions carry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { T1, T2, cstr, golden, int16, int32, int8, logical, lsn, ts, uint32, valueAt, valuesAt, xlog } from './build.js';

const V1 = logical({ protoVersion: 1 });
const V2 = logical({ protoVersion: 2, streaming: 'on' });
const V2_STREAMING = logical({ protoVersion: 2, streaming: 'on' }, true);

describe('pgoutput Begin and Commit', () => {
  it('Begin: final LSN, commit timestamp, xid', () => {
    const m = golden('backend', xlog(['B', lsn('0/16B3820'), ts(T1), uint32(740)]), V1, String.raw`"d" = CopyData "\x00\x00\x002" = 50 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "B" = Begin "\x00\x00\x00\x00\x01k8 " = final LSN of the transaction: 0/16B3820 "\x00\x02\xbaa\xfe\xa32@" = commit timestamp: 2024-05-01T12:00:00.123456Z "\x00\x00\x02\xe4" = xid: 740`);
    assert.deepEqual(m.sub, ['XLogData', 'Begin']);
    assert.equal(valueAt(m, 'final LSN'), '0/16B3820');
    assert.equal(valueAt(m, 'commit timestamp'), T1);
    assert.equal(valueAt(m, 'xid'), 740);
  });

  it('Begin carries its xid whether or not a stream is open (it is never streamed)', () => {
    const m = golden('backend', xlog(['B', lsn('0/16B3820'), ts(T1), uint32(740)]), V2, String.raw`"d" = CopyData "\x00\x00\x002" = 50 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "B" = Begin "\x00\x00\x00\x00\x01k8 " = final LSN of the transaction: 0/16B3820 "\x00\x02\xbaa\xfe\xa32@" = commit timestamp: 2024-05-01T12:00:00.123456Z "\x00\x00\x02\xe4" = xid: 740`);
    assert.equal(m.error, undefined);
  });

  it('Commit: flags, commit LSN, end LSN, commit timestamp', () => {
    const m = golden('backend', xlog(['C', int8(0), lsn('0/16B3820'), lsn('0/16B3850'), ts(T2)]), V1, String.raw`"d" = CopyData "\x00\x00\x007" = 55 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "C" = Commit "\x00" = flags: 0 (currently unused) "\x00\x00\x00\x00\x01k8 " = LSN of the commit: 0/16B3820 "\x00\x00\x00\x00\x01k8P" = end LSN of the transaction: 0/16B3850 "\x00\x02\xbaa\xfe\xb0\x92A" = commit timestamp: 2024-05-01T12:00:01.000001Z`);
    assert.deepEqual(m.sub, ['XLogData', 'Commit']);
    assert.equal(valueAt(m, 'commit LSN'), '0/16B3820');
    assert.equal(valueAt(m, 'end LSN'), '0/16B3850');
    assert.equal(valueAt(m, 'commit timestamp'), T2);
  });
});

describe('pgoutput Origin', () => {
  it('origin commit LSN and origin name', () => {
    const m = golden('backend', xlog(['O', lsn('0/5000100'), cstr('pg_16399')]), V1, String.raw`"d" = CopyData "\x00\x00\x00/" = 47 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "O" = Origin "\x00\x00\x00\x00\x05\x00\x01\x00" = LSN of the commit on the origin server: 0/5000100 "pg_16399\x00" = origin name`);
    assert.deepEqual(m.sub, ['XLogData', 'Origin']);
    assert.equal(valueAt(m, 'origin commit LSN'), '0/5000100');
    assert.equal(valueAt(m, 'origin name'), 'pg_16399');
  });
});

describe('pgoutput Message', () => {
  it('transactional, outside a stream: no xid', () => {
    const m = golden('backend', xlog(['M', int8(1), lsn('0/16B37F0'), cstr('pgscope'), int32(5), 'hello']), V1, String.raw`"d" = CopyData "\x00\x00\x008" = 56 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "M" = Message "\x01" = flags: 1 (transactional) "\x00\x00\x00\x00\x01k7\xf0" = LSN of the message: 0/16B37F0 "pgscope\x00" = prefix "\x00\x00\x00\x05" = 5 bytes "hello" = message content`);
    assert.deepEqual(m.sub, ['XLogData', 'Message']);
    assert.equal(valueAt(m, 'xid'), undefined);
    assert.equal(valueAt(m, 'flags'), 1);
    assert.equal(valueAt(m, 'LSN'), '0/16B37F0');
    assert.equal(valueAt(m, 'prefix'), 'pgscope');
    assert.equal(String(valueAt(m, 'content')), 'hello');
  });

  it('non-transactional, empty content', () => {
    const m = golden('backend', xlog(['M', int8(0), lsn('0/16B37F0'), cstr('audit'), int32(0)]), V2, String.raw`"d" = CopyData "\x00\x00\x001" = 49 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "M" = Message "\x00" = flags: 0 (not transactional) "\x00\x00\x00\x00\x01k7\xf0" = LSN of the message: 0/16B37F0 "audit\x00" = prefix "\x00\x00\x00\x00" = 0 bytes "" = message content`);
    assert.equal(valueAt(m, 'flags'), 0);
    assert.equal(m.error, undefined);
  });

  it('inside a stream (protocol 2+): the xid comes first', () => {
    const m = golden('backend', xlog(['M', uint32(741), int8(1), lsn('0/16B37F0'), cstr('pgscope'), int32(5), 'hello']), V2_STREAMING, String.raw`"d" = CopyData "\x00\x00\x00<" = 60 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "M" = Message "\x00\x00\x02\xe5" = xid: 741 "\x01" = flags: 1 (transactional) "\x00\x00\x00\x00\x01k7\xf0" = LSN of the message: 0/16B37F0 "pgscope\x00" = prefix "\x00\x00\x00\x05" = 5 bytes "hello" = message content`);
    assert.equal(valueAt(m, 'xid'), 741);
    assert.equal(valueAt(m, 'prefix'), 'pgscope');
  });

  it('protocol 1 has no streamed xid even if a stream were marked open', () => {
    const m = golden('backend', xlog(['M', int8(1), lsn('0/16B37F0'), cstr('p'), int32(1), 'x']), logical({ protoVersion: 1 }, true), String.raw`"d" = CopyData "\x00\x00\x00." = 46 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "M" = Message "\x01" = flags: 1 (transactional) "\x00\x00\x00\x00\x01k7\xf0" = LSN of the message: 0/16B37F0 "p\x00" = prefix "\x00\x00\x00\x01" = 1 byte "x" = message content`);
    assert.equal(valueAt(m, 'xid'), undefined);
    assert.equal(m.error, undefined);
  });
});

const COLUMNS = [
  int8(1), cstr('id'), uint32(23), int32(-1),
  int8(0), cstr('name'), uint32(1043), int32(68),
  int8(0), cstr('mood'), uint32(16390), int32(-1),
];

describe('pgoutput Relation', () => {
  it('OID, namespace, name, replica identity, columns with flags, names, type OIDs and modifiers', () => {
    const m = golden('backend', xlog(['R', uint32(16384), cstr('public'), cstr('items'), 'd', int16(3), ...COLUMNS]), V1, String.raw`"d" = CopyData "\x00\x00\x00Z" = 90 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "R" = Relation "\x00\x00@\x00" = relation OID: 16384 "public\x00" = namespace "items\x00" = relation name "d" = replica identity: default (primary key) "\x00\x03" = 3 columns
    column 1: "\x01" = flags: 1 (part of the key) "id\x00" = column name "\x00\x00\x00\x17" = type OID 23 (int4) "\xff\xff\xff\xff" = type modifier: -1 (none)
    column 2: "\x00" = flags: 0 (not part of the key) "name\x00" = column name "\x00\x00\x04\x13" = type OID 1043 (varchar) "\x00\x00\x00D" = type modifier: 68
    column 3: "\x00" = flags: 0 (not part of the key) "mood\x00" = column name "\x00\x00@\x06" = type OID 16390 "\xff\xff\xff\xff" = type modifier: -1 (none)`);
    assert.deepEqual(m.sub, ['XLogData', 'Relation']);
    assert.equal(valueAt(m, 'relation OID'), 16384);
    assert.equal(valueAt(m, 'namespace'), 'public');
    assert.equal(valueAt(m, 'relation name'), 'items');
    assert.equal(valueAt(m, 'replica identity'), 'd');
    assert.deepEqual(valuesAt(m, 'column name'), ['id', 'name', 'mood']);
    assert.deepEqual(valuesAt(m, 'type OID'), [23, 1043, 16390]);
    assert.deepEqual(valuesAt(m, 'type modifier'), [-1, 68, -1]);
    assert.deepEqual(valuesAt(m, 'flags'), [1, 0, 0]);
  });

  it('REPLICA IDENTITY FULL, streamed (xid first), pg_catalog as an empty namespace', () => {
    const m = golden(
      'backend',
      xlog(['R', uint32(741), uint32(16400), cstr(''), cstr('audit'), 'f', int16(2), int8(1), cstr('at'), uint32(1184), int32(-1), int8(1), cstr('what'), uint32(25), int32(-1)]),
      V2_STREAMING,
      String.raw`"d" = CopyData "\x00\x00\x00J" = 74 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "R" = Relation "\x00\x00\x02\xe5" = xid: 741 "\x00\x00@\x10" = relation OID: 16400 "\x00" = namespace: pg_catalog (empty string) "audit\x00" = relation name "f" = replica identity: full (all columns) "\x00\x02" = 2 columns
    column 1: "\x01" = flags: 1 (part of the key) "at\x00" = column name "\x00\x00\x04\xa0" = type OID 1184 (timestamptz) "\xff\xff\xff\xff" = type modifier: -1 (none)
    column 2: "\x01" = flags: 1 (part of the key) "what\x00" = column name "\x00\x00\x00\x19" = type OID 25 (text) "\xff\xff\xff\xff" = type modifier: -1 (none)`,
    );
    assert.equal(valueAt(m, 'xid'), 741);
    assert.equal(valueAt(m, 'namespace'), '');
    assert.equal(valueAt(m, 'replica identity'), 'f');
  });

  it('REPLICA IDENTITY NOTHING and USING INDEX, no columns', () => {
    for (const ident of ['n', 'i']) {
      const m = golden('backend', xlog(['R', uint32(16410), cstr('s'), cstr('empty'), ident, int16(0)]), V1, ident === 'n' ? String.raw`"d" = CopyData "\x00\x00\x00-" = 45 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "R" = Relation "\x00\x00@\x1a" = relation OID: 16410 "s\x00" = namespace "empty\x00" = relation name "n" = replica identity: nothing "\x00\x00" = 0 columns` : String.raw`"d" = CopyData "\x00\x00\x00-" = 45 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "R" = Relation "\x00\x00@\x1a" = relation OID: 16410 "s\x00" = namespace "empty\x00" = relation name "i" = replica identity: index "\x00\x00" = 0 columns`);
      assert.equal(m.error, undefined);
    }
  });
});

describe('pgoutput Type', () => {
  it('a user type: OID, namespace, name', () => {
    const m = golden('backend', xlog(['Y', uint32(16390), cstr('public'), cstr('mood')]), V1, String.raw`"d" = CopyData "\x00\x00\x00." = 46 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "Y" = Type "\x00\x00@\x06" = type OID 16390 "public\x00" = namespace "mood\x00" = data type name`);
    assert.deepEqual(m.sub, ['XLogData', 'Type']);
    assert.equal(valueAt(m, 'type OID'), 16390);
    assert.equal(valueAt(m, 'type name'), 'mood');
  });

  it('streamed: xid first', () => {
    const m = golden('backend', xlog(['Y', uint32(741), uint32(16390), cstr('public'), cstr('mood')]), V2_STREAMING, String.raw`"d" = CopyData "\x00\x00\x002" = 50 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "Y" = Type "\x00\x00\x02\xe5" = xid: 741 "\x00\x00@\x06" = type OID 16390 "public\x00" = namespace "mood\x00" = data type name`);
    assert.equal(valueAt(m, 'xid'), 741);
  });
});
