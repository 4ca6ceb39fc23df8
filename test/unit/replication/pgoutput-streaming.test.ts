/**
 * pgoutput streaming of in-progress transactions (protocol 2+): Stream Start, Stream Stop,
 * Stream Commit, Stream Abort (protocol 2/3 vs 4 with streaming = parallel), Stream
 * Prepare; and two-phase messages (protocol 3+): Begin Prepare, Prepare, Commit Prepared,
 * Rollback Prepared.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { T1, T2, cstr, golden, int8, logical, lsn, ts, uint32, valueAt, xlog } from './build.js';

const V2 = logical({ protoVersion: 2, streaming: 'on' });
const V3 = logical({ protoVersion: 3, streaming: 'on', twoPhase: true });
const V4_ON = logical({ protoVersion: 4, streaming: 'on', twoPhase: true });
const V4_PARALLEL = logical({ protoVersion: 4, streaming: 'parallel', twoPhase: true });

describe('pgoutput Stream Start / Stop', () => {
  it('Stream Start: xid, first segment', () => {
    const m = golden('backend', xlog(['S', uint32(741), int8(1)]), V2, String.raw`"d" = CopyData "\x00\x00\x00#" = 35 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "S" = Stream Start "\x00\x00\x02\xe5" = xid: 741 "\x01" = first stream segment for this xid`);
    assert.deepEqual(m.sub, ['XLogData', 'StreamStart']);
    assert.equal(valueAt(m, 'xid'), 741);
    assert.equal(valueAt(m, 'first segment'), 1);
  });

  it('Stream Start: a later segment', () => {
    const m = golden('backend', xlog(['S', uint32(741), int8(0)]), V2, String.raw`"d" = CopyData "\x00\x00\x00#" = 35 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "S" = Stream Start "\x00\x00\x02\xe5" = xid: 741 "\x00" = not the first stream segment for this xid`);
    assert.equal(valueAt(m, 'first segment'), 0);
  });

  it('Stream Stop: no fields', () => {
    const m = golden('backend', xlog(['E']), logical({ protoVersion: 2, streaming: 'on' }, true), String.raw`"d" = CopyData "\x00\x00\x00\x1e" = 30 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "E" = Stream Stop`);
    assert.deepEqual(m.sub, ['XLogData', 'StreamStop']);
  });
});

describe('pgoutput Stream Commit', () => {
  it('xid, flags, commit LSN, end LSN, commit timestamp', () => {
    const m = golden('backend', xlog(['c', uint32(741), int8(0), lsn('0/1A2B3C0'), lsn('0/1A2B3F0'), ts(T2)]), V2, String.raw`"d" = CopyData "\x00\x00\x00;" = 59 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "c" = Stream Commit "\x00\x00\x02\xe5" = xid: 741 "\x00" = flags: 0 (currently unused) "\x00\x00\x00\x00\x01\xa2\xb3\xc0" = LSN of the commit: 0/1A2B3C0 "\x00\x00\x00\x00\x01\xa2\xb3\xf0" = end LSN of the transaction: 0/1A2B3F0 "\x00\x02\xbaa\xfe\xb0\x92A" = commit timestamp: 2024-05-01T12:00:01.000001Z`);
    assert.deepEqual(m.sub, ['XLogData', 'StreamCommit']);
    assert.equal(valueAt(m, 'xid'), 741);
    assert.equal(valueAt(m, 'commit LSN'), '0/1A2B3C0');
    assert.equal(valueAt(m, 'end LSN'), '0/1A2B3F0');
    assert.equal(valueAt(m, 'commit timestamp'), T2);
  });
});

describe('pgoutput Stream Abort', () => {
  it('protocol 3: xid and subtransaction xid only', () => {
    const m = golden('backend', xlog(['A', uint32(741), uint32(742)]), V3, String.raw`"d" = CopyData "\x00\x00\x00&" = 38 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "A" = Stream Abort "\x00\x00\x02\xe5" = xid: 741 "\x00\x00\x02\xe6" = subtransaction xid: 742`);
    assert.deepEqual(m.sub, ['XLogData', 'StreamAbort']);
    assert.equal(valueAt(m, 'subtransaction xid'), 742);
    assert.equal(valueAt(m, 'abort LSN'), undefined);
  });

  it('protocol 4 with streaming = on: still no abort LSN or timestamp', () => {
    const m = golden('backend', xlog(['A', uint32(741), uint32(741)]), V4_ON, String.raw`"d" = CopyData "\x00\x00\x00&" = 38 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "A" = Stream Abort "\x00\x00\x02\xe5" = xid: 741 "\x00\x00\x02\xe5" = subtransaction xid: 741 (the top-level transaction)`);
    assert.equal(m.error, undefined);
    assert.equal(valueAt(m, 'abort LSN'), undefined);
  });

  it('protocol 4 with streaming = parallel: abort LSN and abort timestamp follow', () => {
    const m = golden('backend', xlog(['A', uint32(741), uint32(742), lsn('0/1A2B500'), ts(T2)]), V4_PARALLEL, String.raw`"d" = CopyData "\x00\x00\x006" = 54 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "A" = Stream Abort "\x00\x00\x02\xe5" = xid: 741 "\x00\x00\x02\xe6" = subtransaction xid: 742 "\x00\x00\x00\x00\x01\xa2\xb5\x00" = LSN of the abort: 0/1A2B500 "\x00\x02\xbaa\xfe\xb0\x92A" = abort timestamp: 2024-05-01T12:00:01.000001Z`);
    assert.equal(valueAt(m, 'abort LSN'), '0/1A2B500');
    assert.equal(valueAt(m, 'abort timestamp'), T2);
  });

  it('protocol 4 parallel fields where streaming = on was asked for are trailing bytes', () => {
    const m = golden('backend', xlog(['A', uint32(741), uint32(742), lsn('0/1A2B500'), ts(T2)]), V4_ON, String.raw`"d" = CopyData "\x00\x00\x006" = 54 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "A" = Stream Abort "\x00\x00\x02\xe5" = xid: 741 "\x00\x00\x02\xe6" = subtransaction xid: 742
  "\x00\x00\x00\x00\x01\xa2\xb5\x00\x00\x02\xbaa\xfe\xb0\x92A" = UNPARSED: pgoutput message: 16 byte(s) left after its last field
  !! CopyData (server → client) at offset 39: pgoutput message: 16 byte(s) left after its last field`);
    assert.equal(m.error?.code, 'trailing-bytes');
  });

  it('protocol 4 parallel without its abort fields is cut short', () => {
    const m = golden('backend', xlog(['A', uint32(741), uint32(742)]), V4_PARALLEL, String.raw`"d" = CopyData "\x00\x00\x00&" = 38 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "A" = Stream Abort "\x00\x00\x02\xe5" = xid: 741 "\x00\x00\x02\xe6" = subtransaction xid: 742
  !! CopyData (server → client) at offset 39: abort LSN: 8 byte(s) needed, 0 left in the message`);
    assert.equal(m.error?.code, 'past-end');
  });
});

describe('pgoutput two-phase commit', () => {
  it('Begin Prepare: prepare LSN, end LSN, prepare timestamp, xid, GID', () => {
    const m = golden('backend', xlog(['b', lsn('0/1A2C000'), lsn('0/1A2C0A8'), ts(T1), uint32(750), cstr('pgscope-gid-1')]), V3, String.raw`"d" = CopyData "\x00\x00\x00H" = 72 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "b" = Begin Prepare "\x00\x00\x00\x00\x01\xa2\xc0\x00" = LSN of the prepare: 0/1A2C000 "\x00\x00\x00\x00\x01\xa2\xc0\xa8" = end LSN of the prepared transaction: 0/1A2C0A8 "\x00\x02\xbaa\xfe\xa32@" = prepare timestamp: 2024-05-01T12:00:00.123456Z "\x00\x00\x02\xee" = xid: 750 "pgscope-gid-1\x00" = GID of the prepared transaction`);
    assert.deepEqual(m.sub, ['XLogData', 'BeginPrepare']);
    assert.equal(valueAt(m, 'prepare LSN'), '0/1A2C000');
    assert.equal(valueAt(m, 'end LSN'), '0/1A2C0A8');
    assert.equal(valueAt(m, 'prepare timestamp'), T1);
    assert.equal(valueAt(m, 'xid'), 750);
    assert.equal(valueAt(m, 'GID'), 'pgscope-gid-1');
  });

  it('Prepare: flags then the Begin Prepare fields', () => {
    const m = golden('backend', xlog(['P', int8(0), lsn('0/1A2C000'), lsn('0/1A2C0A8'), ts(T1), uint32(750), cstr('pgscope-gid-1')]), V3, String.raw`"d" = CopyData "\x00\x00\x00I" = 73 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "P" = Prepare "\x00" = flags: 0 (currently unused) "\x00\x00\x00\x00\x01\xa2\xc0\x00" = LSN of the prepare: 0/1A2C000 "\x00\x00\x00\x00\x01\xa2\xc0\xa8" = end LSN of the prepared transaction: 0/1A2C0A8 "\x00\x02\xbaa\xfe\xa32@" = prepare timestamp: 2024-05-01T12:00:00.123456Z "\x00\x00\x02\xee" = xid: 750 "pgscope-gid-1\x00" = GID of the prepared transaction`);
    assert.deepEqual(m.sub, ['XLogData', 'Prepare']);
    assert.equal(valueAt(m, 'GID'), 'pgscope-gid-1');
  });

  it('Commit Prepared: flags, commit LSN, end LSN, commit timestamp, xid, GID', () => {
    const m = golden('backend', xlog(['K', int8(0), lsn('0/1A2C100'), lsn('0/1A2C130'), ts(T2), uint32(750), cstr('pgscope-gid-1')]), V3, String.raw`"d" = CopyData "\x00\x00\x00I" = 73 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "K" = Commit Prepared "\x00" = flags: 0 (currently unused) "\x00\x00\x00\x00\x01\xa2\xc1\x00" = LSN of the commit of the prepared transaction: 0/1A2C100 "\x00\x00\x00\x00\x01\xa2\xc10" = end LSN of the commit of the prepared transaction: 0/1A2C130 "\x00\x02\xbaa\xfe\xb0\x92A" = commit timestamp: 2024-05-01T12:00:01.000001Z "\x00\x00\x02\xee" = xid: 750 "pgscope-gid-1\x00" = GID of the prepared transaction`);
    assert.deepEqual(m.sub, ['XLogData', 'CommitPrepared']);
    assert.equal(valueAt(m, 'commit LSN'), '0/1A2C100');
    assert.equal(valueAt(m, 'commit timestamp'), T2);
  });

  it('Rollback Prepared: flags, prepare end LSN, rollback end LSN, both timestamps, xid, GID', () => {
    const m = golden('backend', xlog(['r', int8(0), lsn('0/1A2C0A8'), lsn('0/1A2C200'), ts(T1), ts(T2), uint32(751), cstr('pgscope-gid-2')]), V3, String.raw`"d" = CopyData "\x00\x00\x00Q" = 81 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "r" = Rollback Prepared "\x00" = flags: 0 (currently unused) "\x00\x00\x00\x00\x01\xa2\xc0\xa8" = end LSN of the prepared transaction: 0/1A2C0A8 "\x00\x00\x00\x00\x01\xa2\xc2\x00" = end LSN of the rollback of the prepared transaction: 0/1A2C200 "\x00\x02\xbaa\xfe\xa32@" = prepare timestamp: 2024-05-01T12:00:00.123456Z "\x00\x02\xbaa\xfe\xb0\x92A" = rollback timestamp: 2024-05-01T12:00:01.000001Z "\x00\x00\x02\xef" = xid: 751 "pgscope-gid-2\x00" = GID of the prepared transaction`);
    assert.deepEqual(m.sub, ['XLogData', 'RollbackPrepared']);
    assert.equal(valueAt(m, 'prepare end LSN'), '0/1A2C0A8');
    assert.equal(valueAt(m, 'rollback end LSN'), '0/1A2C200');
    assert.equal(valueAt(m, 'prepare timestamp'), T1);
    assert.equal(valueAt(m, 'rollback timestamp'), T2);
  });

  it('Stream Prepare: the Prepare fields, for a streamed transaction', () => {
    const m = golden('backend', xlog(['p', int8(0), lsn('0/1A2D000'), lsn('0/1A2D0A8'), ts(T2), uint32(741), cstr('pgscope-gid-3')]), V4_ON, String.raw`"d" = CopyData "\x00\x00\x00I" = 73 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7H" = start of WAL data: 0/16B3748
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  pgoutput message: "p" = Stream Prepare "\x00" = flags: 0 (currently unused) "\x00\x00\x00\x00\x01\xa2\xd0\x00" = LSN of the prepare: 0/1A2D000 "\x00\x00\x00\x00\x01\xa2\xd0\xa8" = end LSN of the prepared transaction: 0/1A2D0A8 "\x00\x02\xbaa\xfe\xb0\x92A" = prepare timestamp: 2024-05-01T12:00:01.000001Z "\x00\x00\x02\xe5" = xid: 741 "pgscope-gid-3\x00" = GID of the prepared transaction`);
    assert.deepEqual(m.sub, ['XLogData', 'StreamPrepare']);
    assert.equal(valueAt(m, 'xid'), 741);
    assert.equal(valueAt(m, 'GID'), 'pgscope-gid-3');
  });
});
