/**
 * Streaming replication messages in CopyData ("Streaming Replication Protocol"): XLogData
 * for physical replication and for a text output plugin, primary keepalive, standby
 * status update, hot standby feedback; malformed variants.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newDecodeContext } from '../../../src/protocol/context.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import { Framer } from '../../../src/protocol/framer.js';
import { annotatedText } from '../../../src/output/annotated.js';
import { PHYSICAL, T1, T2, TEST_DECODING, allSpans, copyData, ctxFor, golden, int32, int8, logical, lsn, ts, uint32, valueAt, xlog } from './build.js';

describe('XLogData', () => {
  it('physical: WAL data is one bytes span, never decoded', () => {
    const wal = Buffer.from([0x16, 0xd1, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6b, 0x01, 0x00, 0x00, 0x00, 0x00]);
    const m = golden('backend', xlog([wal], '0/16B0000', '0/16B3790', T1), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00-" = 45 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k\x00\x00" = start of WAL data: 0/16B0000
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "\x16\xd1\x05\x00\x01\x00\x00\x00\x00\x00k\x01\x00\x00\x00\x00" = WAL data (16 bytes of raw WAL, not decoded)`);
    assert.deepEqual(m.sub, ['XLogData']);
    assert.equal(m.error, undefined);
    assert.equal(valueAt(m, 'WAL start'), '0/16B0000');
    assert.equal(valueAt(m, 'WAL end'), '0/16B3790');
    assert.equal(valueAt(m, 'send time'), T1);
    assert.deepEqual(valueAt(m, 'WAL data'), wal);
  });

  it('physical: LSNs above 4 GB print both halves in hex', () => {
    const m = golden('backend', xlog([Buffer.from([0xaa])], 'A/FF000028', 'B/1', T2), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x1e" = 30 bytes
  "w" = XLogData
  "\x00\x00\x00\n\xff\x00\x00(" = start of WAL data: A/FF000028
  "\x00\x00\x00\x0b\x00\x00\x00\x01" = current end of WAL on the server: B/1
  "\x00\x02\xbaa\xfe\xb0\x92A" = server clock at transmission: 2024-05-01T12:00:01.000001Z
  "\xaa" = WAL data (1 byte of raw WAL, not decoded)`);
    assert.equal(valueAt(m, 'WAL start'), 'A/FF000028');
    assert.equal(valueAt(m, 'WAL end'), 'B/1');
  });

  it('physical: a huge XLogData keeps a bounded prefix of its WAL data, without error', () => {
    const wire = xlog([Buffer.alloc(100_000, 0x5a)]);
    const f = new Framer({ direction: 'backend', mode: 'normal', retain: 1024 });
    const frames = f.push(wire).flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
    assert.equal(frames.length, 1);
    const m = decodeFrame(frames[0]!, { ...newDecodeContext(), ...ctxFor(PHYSICAL) });
    assert.equal(m.error, undefined);
    const data = allSpans(m.spans).find((s) => s.name === 'WAL data')!;
    assert.equal(data.end - data.start, 100_000);
    assert.equal(data.retained, 1024 - 30);
    assert.match(annotatedText(m), /…\(99744 more bytes\) = WAL data \(100000 bytes of raw WAL, not decoded\)$/);
  });

  it('logical with a text plugin (test_decoding): WAL data is the plugin output, as bytes', () => {
    const m = golden('backend', xlog(['table public.t: INSERT: id[integer]:1 v[text]:\'a\''], '0/16B3790', '0/16B3790', T1), TEST_DECODING, String.raw`"d" = CopyData "\x00\x00\x00N" = 78 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x01k7\x90" = start of WAL data: 0/16B3790
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "table public.t: INSERT: id[integer]:1 v[text]:'a'" = logical decoding output (text)`);
    assert.deepEqual(m.sub, ['XLogData']);
    assert.equal(String(valueAt(m, 'WAL data')), "table public.t: INSERT: id[integer]:1 v[text]:'a'");
  });
});

describe('Primary keepalive', () => {
  it('reply requested', () => {
    const m = golden('backend', copyData('k', lsn('0/16B3790'), ts(T2), int8(1)), logical(), String.raw`"d" = CopyData "\x00\x00\x00\x16" = 22 bytes
  "k" = primary keepalive
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xb0\x92A" = server clock at transmission: 2024-05-01T12:00:01.000001Z
  "\x01" = reply requested: the client should reply as soon as possible`);
    assert.deepEqual(m.sub, ['PrimaryKeepalive']);
    assert.equal(valueAt(m, 'WAL end'), '0/16B3790');
    assert.equal(valueAt(m, 'send time'), T2);
    assert.equal(valueAt(m, 'reply requested'), 1);
  });

  it('no reply requested (physical stream)', () => {
    const m = golden('backend', copyData('k', lsn('0/3000148'), ts(T1), int8(0)), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x16" = 22 bytes
  "k" = primary keepalive
  "\x00\x00\x00\x00\x03\x00\x01H" = current end of WAL on the server: 0/3000148
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "\x00" = no reply requested`);
    assert.equal(valueAt(m, 'reply requested'), 0);
  });
});

describe('Standby status update', () => {
  it('written, flushed and applied positions, time, reply flag', () => {
    const m = golden('frontend', copyData('r', lsn('0/16B3790'), lsn('0/16B3790'), lsn('0/16B3748'), ts(T2), int8(0)), logical(), String.raw`"d" = CopyData "\x00\x00\x00&" = 38 bytes
  "r" = standby status update
  "\x00\x00\x00\x00\x01k7\x90" = written to disk up to: 0/16B3790
  "\x00\x00\x00\x00\x01k7\x90" = flushed to disk up to: 0/16B3790
  "\x00\x00\x00\x00\x01k7H" = applied up to: 0/16B3748
  "\x00\x02\xbaa\xfe\xb0\x92A" = client clock at transmission: 2024-05-01T12:00:01.000001Z
  "\x00" = no reply requested`);
    assert.deepEqual(m.sub, ['StandbyStatusUpdate']);
    assert.equal(valueAt(m, 'written LSN'), '0/16B3790');
    assert.equal(valueAt(m, 'flushed LSN'), '0/16B3790');
    assert.equal(valueAt(m, 'applied LSN'), '0/16B3748');
    assert.equal(valueAt(m, 'send time'), T2);
  });

  it('pg_receivewal style: nothing applied (0/0), reply requested', () => {
    const m = golden('frontend', copyData('r', lsn('0/3000000'), lsn('0/2FFFFF8'), lsn('0/0'), ts(T1), int8(1)), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00&" = 38 bytes
  "r" = standby status update
  "\x00\x00\x00\x00\x03\x00\x00\x00" = written to disk up to: 0/3000000
  "\x00\x00\x00\x00\x02\xff\xff\xf8" = flushed to disk up to: 0/2FFFFF8
  "\x00\x00\x00\x00\x00\x00\x00\x00" = applied up to: 0/0 (invalid)
  "\x00\x02\xbaa\xfe\xa32@" = client clock at transmission: 2024-05-01T12:00:00.123456Z
  "\x01" = reply requested: the server should reply immediately`);
    assert.equal(valueAt(m, 'applied LSN'), '0/0');
    assert.equal(valueAt(m, 'reply requested'), 1);
  });
});

describe('Hot standby feedback', () => {
  it('xmin and catalog_xmin with epochs', () => {
    const m = golden('frontend', copyData('h', ts(T1), uint32(745), uint32(0), uint32(731), uint32(0)), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x1d" = 29 bytes
  "h" = hot standby feedback
  "\x00\x02\xbaa\xfe\xa32@" = client clock at transmission: 2024-05-01T12:00:00.123456Z
  "\x00\x00\x02\xe9" = xmin: 745
  "\x00\x00\x00\x00" = xmin epoch: 0
  "\x00\x00\x02\xdb" = catalog_xmin: 731
  "\x00\x00\x00\x00" = catalog_xmin epoch: 0`);
    assert.deepEqual(m.sub, ['HotStandbyFeedback']);
    assert.equal(valueAt(m, 'xmin'), 745);
    assert.equal(valueAt(m, 'catalog_xmin'), 731);
    assert.equal(valueAt(m, 'send time'), T1);
  });

  it('both xmins 0: feedback switched off', () => {
    const m = golden('frontend', copyData('h', ts(T2), uint32(0), uint32(0), uint32(0), uint32(0)), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x1d" = 29 bytes
  "h" = hot standby feedback
  "\x00\x02\xbaa\xfe\xb0\x92A" = client clock at transmission: 2024-05-01T12:00:01.000001Z
  "\x00\x00\x00\x00" = xmin: 0 (none)
  "\x00\x00\x00\x00" = xmin epoch: 0
  "\x00\x00\x00\x00" = catalog_xmin: 0 (none)
  "\x00\x00\x00\x00" = catalog_xmin epoch: 0`);
    assert.equal(m.error, undefined);
  });

  it('xids and epochs are unsigned', () => {
    const m = golden('frontend', copyData('h', ts(T2), uint32(0xfffffff0), uint32(1), uint32(3000000000), uint32(2)), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x1d" = 29 bytes
  "h" = hot standby feedback
  "\x00\x02\xbaa\xfe\xb0\x92A" = client clock at transmission: 2024-05-01T12:00:01.000001Z
  "\xff\xff\xff\xf0" = xmin: 4294967280
  "\x00\x00\x00\x01" = xmin epoch: 1
  "\xb2\xd0^\x00" = catalog_xmin: 3000000000
  "\x00\x00\x00\x02" = catalog_xmin epoch: 2`);
    assert.equal(valueAt(m, 'xmin'), 0xfffffff0);
    assert.equal(valueAt(m, 'catalog_xmin'), 3000000000);
  });
});

describe('malformed streaming replication messages', () => {
  it('an unknown server message letter is reported, not guessed', () => {
    // 's' is not a PostgreSQL 18 server replication message.
    const m = golden('backend', copyData('s', lsn('0/1'), lsn('0/2'), int32(1)), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x19" = 25 bytes
  "s" = unknown replication message type
  "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x01" = UNPARSED: a server replication message type 'w' (XLogData) or 'k' (primary keepalive), got "s" (0x73)
  !! CopyData (server → client) at offset 5: a server replication message type 'w' (XLogData) or 'k' (primary keepalive), got "s" (0x73)`);
    assert.equal(m.error?.code, 'bad-value');
    assert.match(m.error!.expected, /got "s"/);
    assert.equal(m.error!.offset, 5);
    assert.deepEqual(m.sub, []);
  });

  it('a server letter sent by the client is unknown in that direction', () => {
    const m = golden('frontend', copyData('w', lsn('0/1'), lsn('0/2'), ts(T1)), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x1d" = 29 bytes
  "w" = unknown replication message type
  "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x02\xbaa\xfe\xa32@" = UNPARSED: a client replication message type 'r' (standby status update) or 'h' (hot standby feedback), got "w" (0x77)
  !! CopyData (client → server) at offset 5: a client replication message type 'r' (standby status update) or 'h' (hot standby feedback), got "w" (0x77)`);
    assert.equal(m.error?.code, 'bad-value');
    assert.match(m.error!.expected, /'r' \(standby status update\) or 'h' \(hot standby feedback\), got "w"/);
  });

  it('a keepalive cut short', () => {
    const m = golden('backend', copyData('k', lsn('0/16B3790'), Buffer.from([0, 2, 0xba])), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x10" = 16 bytes
  "k" = primary keepalive
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xba" = UNPARSED: send time: 8 byte(s) needed, 3 left in the message
  !! CopyData (server → client) at offset 14: send time: 8 byte(s) needed, 3 left in the message`);
    assert.equal(m.error?.code, 'past-end');
    assert.match(m.error!.expected, /^send time: 8 byte\(s\) needed, 3 left/);
  });

  it('a keepalive with trailing bytes', () => {
    const m = golden('backend', copyData('k', lsn('0/16B3790'), ts(T1), int8(0), Buffer.from('xy')), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x18" = 24 bytes
  "k" = primary keepalive
  "\x00\x00\x00\x00\x01k7\x90" = current end of WAL on the server: 0/16B3790
  "\x00\x02\xbaa\xfe\xa32@" = server clock at transmission: 2024-05-01T12:00:00.123456Z
  "\x00" = no reply requested
  "xy" = UNPARSED: 2 byte(s) left after the last field
  !! CopyData (server → client) at offset 23: 2 byte(s) left after the last field`);
    assert.equal(m.error?.code, 'trailing-bytes');
  });

  it('a reply-requested byte other than 0 or 1', () => {
    const m = golden('frontend', copyData('r', lsn('0/1'), lsn('0/1'), lsn('0/1'), ts(T1), int8(2)), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00&" = 38 bytes
  "r" = standby status update
  "\x00\x00\x00\x00\x00\x00\x00\x01" = written to disk up to: 0/1
  "\x00\x00\x00\x00\x00\x00\x00\x01" = flushed to disk up to: 0/1
  "\x00\x00\x00\x00\x00\x00\x00\x01" = applied up to: 0/1
  "\x00\x02\xbaa\xfe\xa32@" = client clock at transmission: 2024-05-01T12:00:00.123456Z
  "\x02" = reply requested: 2 (neither 0 nor 1)
  !! CopyData (client → server) at offset 38: reply requested: 0 or 1, got 2`);
    assert.equal(m.error?.code, 'bad-value');
    assert.equal(m.error!.offset, 38);
  });

  it('an XLogData cut short in its header', () => {
    const m = golden('backend', copyData('w', lsn('0/1'), Buffer.from([0, 0, 0])), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x10" = 16 bytes
  "w" = XLogData
  "\x00\x00\x00\x00\x00\x00\x00\x01" = start of WAL data: 0/1
  "\x00\x00\x00" = UNPARSED: WAL end: 8 byte(s) needed, 3 left in the message
  !! CopyData (server → client) at offset 14: WAL end: 8 byte(s) needed, 3 left in the message`);
    assert.equal(m.error?.code, 'past-end');
  });

  it('an empty CopyData during replication', () => {
    const m = golden('backend', copyData(), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x04" = 4 bytes
  !! CopyData (server → client) at offset 5: replication message type: 1 byte(s) needed, 0 left in the message`);
    assert.equal(m.error?.code, 'past-end');
  });

  it('hot standby feedback cut short', () => {
    const m = golden('frontend', copyData('h', ts(T1), uint32(1), Buffer.from([0, 0])), PHYSICAL, String.raw`"d" = CopyData "\x00\x00\x00\x13" = 19 bytes
  "h" = hot standby feedback
  "\x00\x02\xbaa\xfe\xa32@" = client clock at transmission: 2024-05-01T12:00:00.123456Z
  "\x00\x00\x00\x01" = xmin: 1
  "\x00\x00" = UNPARSED: xmin epoch: 4 byte(s) needed, 2 left in the message
  !! CopyData (client → server) at offset 18: xmin epoch: 4 byte(s) needed, 2 left in the message`);
    assert.equal(m.error?.code, 'past-end');
  });
});
