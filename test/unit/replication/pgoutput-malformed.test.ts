/**
 * Malformed pgoutput messages: cut short, unknown letters and codes, bad counts and
 * flags, trailing bytes. Each ends as an error naming what was expected, with the bytes
 * that could not be read in an 'unparsed' span.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allSpans, cstr, golden, int16, int32, int8, logical, lsn, ts, T1, uint32, xlog } from './build.js';

const V1 = logical({ protoVersion: 1 });
const V2_STREAMING = logical({ protoVersion: 2, streaming: 'on' }, true);

const unparsed = (m: { spans: import('../../../src/protocol/types.js').Span[] }) => allSpans(m.spans).filter((s) => s.flag === 'unparsed');

describe('malformed pgoutput messages', () => {
  it('an unknown message letter is reported, naming the letter', () => {
    const m = golden('backend', xlog(['Q', uint32(1), uint32(2)]), V1, String.raw`"d" = CopyData "\x00\x00\x00&" = 38 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "Q" = unknown pgoutput message type
  "\x00\x00\x00\x01\x00\x00\x00\x02" = UNPARSED: a pgoutput message type (one of B M C O R Y I U D T S E c A b P K r p), got "Q" (0x51)
  !! CopyData (server → client) at offset 30: a pgoutput message type (one of B M C O R Y I U D T S E c A b P K r p), got "Q" (0x51)`);
    assert.equal(m.error?.code, 'bad-value');
    assert.match(m.error!.expected, /a pgoutput message type .* got "Q" \(0x51\)/);
    assert.equal(m.error!.offset, 30);
    assert.deepEqual(m.sub, []);
    assert.equal(unparsed(m).length, 1);
  });

  it('an XLogData with no pgoutput message at all', () => {
    const m = golden('backend', xlog([]), V1, String.raw`"d" = CopyData "\x00\x00\x00\x1d" = 29 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  !! CopyData (server → client) at offset 30: message type: 1 byte(s) needed, 0 left in the message`);
    assert.equal(m.error?.code, 'past-end');
  });

  it('Begin cut short', () => {
    const m = golden('backend', xlog(['B', lsn('0/16B3820'), Buffer.from([0, 2])]), V1, String.raw`"d" = CopyData "\x00\x00\x00(" = 40 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "B" = Begin "\x00\x00\x00\x00\x01k8 " = final LSN of the transaction: 0/16B3820
  "\x00\x02" = UNPARSED: commit timestamp: 8 byte(s) needed, 2 left in the message
  !! CopyData (server → client) at offset 39: commit timestamp: 8 byte(s) needed, 2 left in the message`);
    assert.equal(m.error?.code, 'past-end');
    assert.match(m.error!.expected, /^commit timestamp: 8 byte\(s\) needed, 2 left/);
  });

  it('Stream Stop with trailing bytes', () => {
    const m = golden('backend', xlog(['E', 'zz']), V2_STREAMING, String.raw`"d" = CopyData "\x00\x00\x00 " = 32 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "E" = Stream Stop
  "zz" = UNPARSED: pgoutput message: 2 byte(s) left after its last field
  !! CopyData (server → client) at offset 31: pgoutput message: 2 byte(s) left after its last field`);
    assert.equal(m.error?.code, 'trailing-bytes');
    assert.match(m.error!.expected, /^pgoutput message: 2 byte\(s\) left after its last field/);
  });

  it('a column value longer than the message', () => {
    const m = golden('backend', xlog(['I', uint32(16384), 'N', int16(1), 't', int32(10), 'abc']), V1, String.raw`"d" = CopyData "\x00\x00\x00-" = 45 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  WAL data: "I" = Insert "\x00\x00@\x00" = relation OID: 16384
    new tuple: "N" = new tuple follows "\x00\x01" = 1 column
      "t" = text "\x00\x00\x00\n" = 10 bytes
  "abc" = UNPARSED: Insert new tuple column 1: a 10 bytes value, only 3 bytes left
  !! CopyData (server → client) at offset 43: Insert new tuple column 1: a 10 bytes value, only 3 bytes left`);
    assert.equal(m.error?.code, 'past-end');
    assert.match(m.error!.expected, /column 1: a 10 bytes value, only 3 bytes left/);
  });

  it('an unknown TupleData column kind', () => {
    const m = golden('backend', xlog(['I', uint32(16384), 'N', int16(2), 'n', 'x', 'rest']), V1, String.raw`"d" = CopyData "\x00\x00\x00+" = 43 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  WAL data: "I" = Insert "\x00\x00@\x00" = relation OID: 16384
    new tuple: "N" = new tuple follows "\x00\x02" = 2 columns
      column 1: "n" = null
      "x" = unknown column kind
  "rest" = UNPARSED: Insert new tuple column 2: a column kind of 'n' (null), 'u' (unchanged TOASTed), 't' (text) or 'b' (binary), got "x"
  !! CopyData (server → client) at offset 39: Insert new tuple column 2: a column kind of 'n' (null), 'u' (unchanged TOASTed), 't' (text) or 'b' (binary), got "x"`);
    assert.equal(m.error?.code, 'bad-value');
    assert.match(m.error!.expected, /column 2: a column kind of .* got "x"/);
  });

  it('a negative TupleData column count', () => {
    const m = golden('backend', xlog(['I', uint32(16384), 'N', int16(-1)]), V1, String.raw`"d" = CopyData "\x00\x00\x00%" = 37 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  WAL data: "I" = Insert "\x00\x00@\x00" = relation OID: 16384
    "N" = new tuple follows "\xff\xff" = -1 columns
  !! CopyData (server → client) at offset 36: Insert new tuple: a column count of 0 or more, got -1`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('more TupleData columns than bytes', () => {
    const m = golden('backend', xlog(['I', uint32(16384), 'N', int16(5), 'nn']), V1, String.raw`"d" = CopyData "\x00\x00\x00'" = 39 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  WAL data: "I" = Insert "\x00\x00@\x00" = relation OID: 16384
    "N" = new tuple follows "\x00\x05" = 5 columns
  "nn" = UNPARSED: Insert new tuple: 5 columns announced, only 2 bytes left
  !! CopyData (server → client) at offset 36: Insert new tuple: 5 columns announced, only 2 bytes left`);
    assert.equal(m.error?.code, 'past-end');
  });

  it("Insert without its 'N'", () => {
    const m = golden('backend', xlog(['I', uint32(16384), 'K', int16(0)]), V1, String.raw`"d" = CopyData "\x00\x00\x00%" = 37 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  WAL data: "I" = Insert "\x00\x00@\x00" = relation OID: 16384
    "K" = not a new tuple marker
  "\x00\x00" = UNPARSED: Insert: 'N' (new tuple), got "K"
  !! CopyData (server → client) at offset 35: Insert: 'N' (new tuple), got "K"`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it("Update with a tuple marker other than 'K', 'O', 'N'", () => {
    const m = golden('backend', xlog(['U', uint32(16384), 'X', int16(0)]), V1, String.raw`"d" = CopyData "\x00\x00\x00%" = 37 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  WAL data: "U" = Update "\x00\x00@\x00" = relation OID: 16384
    "X" = not a tuple marker
  "\x00\x00" = UNPARSED: Update: 'K' (old key), 'O' (old tuple) or 'N' (new tuple), got "X"
  !! CopyData (server → client) at offset 35: Update: 'K' (old key), 'O' (old tuple) or 'N' (new tuple), got "X"`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it("Delete with 'N'", () => {
    const m = golden('backend', xlog(['D', uint32(16384), 'N', int16(0)]), V1, String.raw`"d" = CopyData "\x00\x00\x00%" = 37 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  WAL data: "D" = Delete "\x00\x00@\x00" = relation OID: 16384
    "N" = not a tuple marker
  "\x00\x00" = UNPARSED: Delete: 'K' (old key) or 'O' (old tuple), got "N"
  !! CopyData (server → client) at offset 35: Delete: 'K' (old key) or 'O' (old tuple), got "N"`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('Relation with an unknown replica identity', () => {
    const m = golden('backend', xlog(['R', uint32(16384), cstr('public'), cstr('t'), 'x', int16(0)]), V1, String.raw`"d" = CopyData "\x00\x00\x00." = 46 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "R" = Relation "\x00\x00@\x00" = relation OID: 16384 "public\x00" = namespace "t\x00" = relation name "x" = unknown replica identity
  "\x00\x00" = UNPARSED: a replica identity of 'd' (default), 'n' (nothing), 'f' (full) or 'i' (index), got "x"
  !! CopyData (server → client) at offset 44: a replica identity of 'd' (default), 'n' (nothing), 'f' (full) or 'i' (index), got "x"`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('Relation announcing more columns than the message holds', () => {
    const m = golden('backend', xlog(['R', uint32(16384), cstr('public'), cstr('t'), 'd', int16(3), int8(0), cstr('a'), uint32(23), int32(-1)]), V1, String.raw`"d" = CopyData "\x00\x00\x009" = 57 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "R" = Relation "\x00\x00@\x00" = relation OID: 16384 "public\x00" = namespace "t\x00" = relation name "d" = replica identity: default (primary key) "\x00\x03" = 3 columns
  "\x00a\x00\x00\x00\x00\x17\xff\xff\xff\xff" = UNPARSED: Relation: 3 columns announced, only 11 bytes left
  !! CopyData (server → client) at offset 45: Relation: 3 columns announced, only 11 bytes left`);
    assert.equal(m.error?.code, 'past-end');
  });

  it('Relation column flags other than 0 or 1', () => {
    const m = golden('backend', xlog(['R', uint32(16384), cstr('public'), cstr('t'), 'd', int16(1), int8(4), cstr('a'), uint32(23), int32(-1)]), V1, String.raw`"d" = CopyData "\x00\x00\x009" = 57 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  WAL data: "R" = Relation "\x00\x00@\x00" = relation OID: 16384 "public\x00" = namespace "t\x00" = relation name "d" = replica identity: default (primary key) "\x00\x01" = 1 column
    "\x04" = flags: 4 (undocumented)
  "a\x00\x00\x00\x00\x17\xff\xff\xff\xff" = UNPARSED: Relation column 1: flags 0 or 1 (part of the key), got 4
  !! CopyData (server → client) at offset 47: Relation column 1: flags 0 or 1 (part of the key), got 4`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('Commit with non-zero flags', () => {
    const m = golden('backend', xlog(['C', int8(1), lsn('0/1'), lsn('0/2'), ts(T1)]), V1, String.raw`"d" = CopyData "\x00\x00\x007" = 55 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "C" = Commit "\x01" = flags: 1 (undocumented)
  "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x02\xbaa\xfe\xa32@" = UNPARSED: Commit flags: 0 (currently unused), got 1
  !! CopyData (server → client) at offset 31: Commit flags: 0 (currently unused), got 1`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('Message flags other than 0 or 1', () => {
    const m = golden('backend', xlog(['M', int8(2), lsn('0/1'), cstr('p'), int32(0)]), V1, String.raw`"d" = CopyData "\x00\x00\x00-" = 45 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "M" = Message "\x02" = flags: 2 (undocumented)
  "\x00\x00\x00\x00\x00\x00\x00\x01p\x00\x00\x00\x00\x00" = UNPARSED: Message flags: 0 or 1 (transactional), got 2
  !! CopyData (server → client) at offset 31: Message flags: 0 or 1 (transactional), got 2`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('Message content longer than the message', () => {
    const m = golden('backend', xlog(['M', int8(1), lsn('0/1'), cstr('p'), int32(100), 'abc']), V1, String.raw`"d" = CopyData "\x00\x00\x000" = 48 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "M" = Message "\x01" = flags: 1 (transactional) "\x00\x00\x00\x00\x00\x00\x00\x01" = LSN of the message: 0/1 "p\x00" = prefix "\x00\x00\x00d" = 100 bytes
  "abc" = UNPARSED: Message content of 100 bytes, only 3 bytes left
  !! CopyData (server → client) at offset 46: Message content of 100 bytes, only 3 bytes left`);
    assert.equal(m.error?.code, 'past-end');
  });

  it('Truncate with an unknown option bit', () => {
    const m = golden('backend', xlog(['T', int32(1), int8(4), uint32(16384)]), V1, String.raw`"d" = CopyData "\x00\x00\x00'" = 39 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "T" = Truncate "\x00\x00\x00\x01" = 1 relation "\x04" = option bits: 4 (unknown bits 0x04)
  "\x00\x00@\x00" = UNPARSED: Truncate option bits 1 (CASCADE) and 2 (RESTART IDENTITY) only, got 4
  !! CopyData (server → client) at offset 35: Truncate option bits 1 (CASCADE) and 2 (RESTART IDENTITY) only, got 4`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('Truncate announcing more relations than the message holds', () => {
    const m = golden('backend', xlog(['T', int32(1000), int8(0), uint32(16384)]), V1, String.raw`"d" = CopyData "\x00\x00\x00'" = 39 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "T" = Truncate "\x00\x00\x03\xe8" = 1000 relations "\x00" = option bits: 0 (none)
  "\x00\x00@\x00" = UNPARSED: Truncate: 1000 relation OIDs announced, only 4 bytes left
  !! CopyData (server → client) at offset 36: Truncate: 1000 relation OIDs announced, only 4 bytes left`);
    assert.equal(m.error?.code, 'past-end');
  });

  it('Truncate with a negative relation count', () => {
    const m = golden('backend', xlog(['T', int32(-1), int8(0)]), V1, String.raw`"d" = CopyData "\x00\x00\x00#" = 35 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "T" = Truncate "\xff\xff\xff\xff" = -1 relations
  "\x00" = UNPARSED: Truncate: a relation count of 0 or more, got -1
  !! CopyData (server → client) at offset 31: Truncate: a relation count of 0 or more, got -1`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('Stream Start with a first-segment byte other than 0 or 1', () => {
    const m = golden('backend', xlog(['S', uint32(741), int8(7)]), V2_STREAMING, String.raw`"d" = CopyData "\x00\x00\x00#" = 35 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "S" = Stream Start "\x00\x00\x02\xe5" = xid: 741 "\x07" = first segment: 7 (neither 0 nor 1)
  !! CopyData (server → client) at offset 35: first segment: 0 or 1, got 7`);
    assert.equal(m.error?.code, 'bad-value');
  });

  it('Begin Prepare whose GID has no terminator', () => {
    const m = golden('backend', xlog(['b', lsn('0/1'), lsn('0/2'), ts(T1), uint32(750), 'gid']), logical({ protoVersion: 3, twoPhase: true }), String.raw`"d" = CopyData "\x00\x00\x00=" = 61 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "b" = Begin Prepare "\x00\x00\x00\x00\x00\x00\x00\x01" = LSN of the prepare: 0/1 "\x00\x00\x00\x00\x00\x00\x00\x02" = end LSN of the prepared transaction: 0/2 "\x00\x02\xbaa\xfe\xa32@" = prepare timestamp: 2024-05-01T12:00:00.123456Z "\x00\x00\x02\xee" = xid: 750
  "gid" = UNPARSED: GID: a null-terminated string, but no terminator before the end of the message
  !! CopyData (server → client) at offset 59: GID: a null-terminated string, but no terminator before the end of the message`);
    assert.equal(m.error?.code, 'past-end');
  });
});
