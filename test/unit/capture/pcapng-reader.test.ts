/**
 * The readers of capture files (src/capture/pcapng-reader.ts, pcap-reader.ts) over files
 * built by hand: both byte orders, timestamp resolutions and offsets, every packet block,
 * blocks skipped, any chunking; and files that are not captures, named with the block or
 * packet and the byte offset where they fail.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptureError } from '../../../src/capture/capture-error.js';
import { PcapReader } from '../../../src/capture/pcap-reader.js';
import { PcapngReader, type ChunkReader, type Packet } from '../../../src/capture/pcapng-reader.js';
import { block, comment, epb, idb, opb, pcap, shb, spb } from './build-capture.js';

type Read = { packets: Packet[]; notes: string[] };

/** Read `file` fed in pieces of `step` bytes (all at once by default). */
function read(kind: 'pcapng' | 'pcap', file: Buffer, step = file.length || 1): Read {
  const packets: Packet[] = [];
  const notes: string[] = [];
  const onPacket = (p: Packet): void => {
    packets.push({ ...p, data: Buffer.from(p.data) });
  };
  const r: ChunkReader = kind === 'pcapng' ? new PcapngReader('f.pcapng', onPacket, (t) => notes.push(t)) : new PcapReader('f.pcap', onPacket);
  for (let at = 0; at < file.length; at += step) r.push(file.subarray(at, at + step));
  r.end();
  return { packets, notes };
}

function rejects(kind: 'pcapng' | 'pcap', file: Buffer, expect: { offset: number; where: RegExp; expected: RegExp }): void {
  for (const step of [file.length || 1, 7]) {
    assert.throws(
      () => read(kind, file, step),
      (e: unknown) => {
        assert.ok(e instanceof CaptureError, String(e));
        assert.equal(e.file, kind === 'pcapng' ? 'f.pcapng' : 'f.pcap');
        assert.equal(e.offset, expect.offset, e.message);
        assert.match(e.where, expect.where);
        assert.match(e.expected, expect.expected);
        assert.match(e.message, new RegExp(`at byte ${expect.offset}:`));
        return true;
      },
    );
  }
}

const T = 1_700_000_000_123_456n; // µs since the epoch
const MS = Number(T) / 1000;
const a = Buffer.from('first packet');
const b = Buffer.from('second, longer packet!');

describe('pcapng', () => {
  for (const order of ['le', 'be'] as const) {
    it(`reads a ${order === 'le' ? 'little' : 'big'}-endian file: interfaces, packets, times, comments; skips other blocks; any chunking`, () => {
      const file = Buffer.concat([
        shb(order, [comment('section')]),
        idb(order, 1),
        idb(order, 113, [{ code: 9, value: Buffer.from([9]) }]), // nanoseconds
        block(4, Buffer.alloc(12), order), // a Name Resolution Block
        epb(order, 0, T, a, [comment('pgscope connection #1: server 10.0.0.1:6543')]),
        block(5, Buffer.alloc(16), order), // Interface Statistics
        epb(order, 1, T * 1000n + 289n, b),
        block(0x40000bad, Buffer.from('custom'), order),
      ]);
      for (const step of [file.length, 1, 5, 64]) {
        const { packets } = read('pcapng', file, step);
        assert.equal(packets.length, 2, `step ${step}`);
        const [p1, p2] = packets as [Packet, Packet];
        assert.deepEqual(
          { number: p1.number, time: p1.time, linkType: p1.linkType, data: p1.data.toString(), comment: p1.comment },
          { number: 1, time: MS, linkType: 1, data: 'first packet', comment: 'pgscope connection #1: server 10.0.0.1:6543' },
        );
        assert.equal(p2.number, 2);
        assert.equal(p2.linkType, 113);
        assert.equal(p2.data.toString(), b.toString());
        assert.equal(p2.comment, null);
        assert.ok(Math.abs(p2.time - (MS + 0.000289)) < 1e-6, `ns resolution: ${p2.time}`);
        assert.equal(Math.round(p2.time * 1000), Number(T), 'the microsecond is exact');
        // Offsets: where each packet's block starts.
        assert.equal(file.readUInt32LE(p1.offset) === 6 || file.readUInt32BE(p1.offset) === 6, true);
      }
    });
  }

  it('power-of-two resolution and if_tsoffset', () => {
    const order = 'le';
    const tsoffset = Buffer.alloc(8);
    tsoffset.writeBigInt64LE(1000n); // seconds
    const file = Buffer.concat([
      shb(order),
      idb(order, 101, [{ code: 9, value: Buffer.from([0x80 | 10]) }, { code: 14, value: tsoffset }]), // 1/1024 s
      epb(order, 0, 2048n * 5n + 512n, a),
    ]);
    const [p] = read('pcapng', file).packets;
    assert.equal(p!.time, (1000 + 10.5) * 1000);
    assert.equal(p!.linkType, 101);
  });

  it('sections: each with its byte order and its own interfaces', () => {
    const file = Buffer.concat([shb('le'), idb('le', 1), epb('le', 0, T, a), shb('be'), idb('be', 0), idb('be', 276), epb('be', 1, T + 1n, b), epb('be', 0, T + 2n, a)]);
    const { packets } = read('pcapng', file, 3);
    assert.deepEqual(
      packets.map((p) => [p.number, p.linkType, p.data.toString()]),
      [
        [1, 1, 'first packet'],
        [2, 276, b.toString()],
        [3, 0, 'first packet'],
      ],
    );
  });

  it('Simple Packet Blocks (no timestamp: the previous packet’s; cut at the snap length) and obsolete Packet Blocks', () => {
    const order = 'be';
    const file = Buffer.concat([shb(order), idb(order, 1, [], 5), opb(order, 0, T, a), spb(order, b), spb(order, b.subarray(0, 3))]);
    const { packets } = read('pcapng', file);
    assert.deepEqual(
      packets.map((p) => [p.time, p.data.toString()]),
      [
        [MS, 'first packet'],
        [MS, 'secon'],
        [MS, 'sec'],
      ],
    );
  });

  it('says when the file holds TLS keys (a Decryption Secrets Block), which it does not use yet', () => {
    const { notes } = read('pcapng', Buffer.concat([shb('le'), block(10, Buffer.alloc(12), 'le'), idb('le', 1)]));
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /^block 2 \(Decryption Secrets Block\) at byte 28 holds decryption secrets/);
  });

  describe('files that are not pcapng: a CaptureError naming the block, its offset and what was expected', () => {
    const good = Buffer.concat([shb('le'), idb('le', 1), epb('le', 0, T, a), epb('le', 0, T, b)]);
    const third = shb('le').length + idb('le', 1).length; // the first EPB
    const fourth = third + epb('le', 0, T, a).length;

    it('cut short inside a block: the block it ends in, and where that block starts', () => {
      rejects('pcapng', good.subarray(0, good.length - 10), { offset: fourth, where: /^block 4$/, expected: /a whole block of 56 bytes: the file ends 46 bytes into it \(cut short\?\)/ });
      rejects('pcapng', good.subarray(0, fourth + 6), { offset: fourth, where: /^block 4$/, expected: /the file ends 6 bytes into it/ });
    });

    it('an empty file', () => {
      rejects('pcapng', Buffer.alloc(0), { offset: 0, where: /^block 1$/, expected: /the file is empty/ });
    });

    it('no Section Header first', () => {
      rejects('pcapng', idb('le', 1), { offset: 0, where: /^block 1$/, expected: /a Section Header Block \(0A0D0D0A\), found 01000000/ });
    });

    it('a bad byte-order magic', () => {
      const f = Buffer.from(good);
      f.writeUInt32LE(0x12345678, 8);
      rejects('pcapng', f, { offset: 8, where: /^block 1 \(Section Header Block\)$/, expected: /byte-order magic 1A2B3C4D, found 78563412/ });
    });

    it('a length that is not a block’s', () => {
      const f = Buffer.from(good);
      f.writeUInt32LE(13, third + 4);
      rejects('pcapng', f, { offset: third + 4, where: /^block 3 \(Enhanced Packet Block\)$/, expected: /a multiple of 4 .* found 13/ });
      const g = Buffer.from(good);
      g.writeUInt32LE(999_999_996, third + 4);
      rejects('pcapng', g, { offset: third + 4, where: /^block 3/, expected: /found 999999996/ });
    });

    it('the trailing length differs from the leading one', () => {
      const f = Buffer.from(good);
      const len = f.readUInt32LE(third + 4);
      f.writeUInt32LE(len + 4, third + len - 4);
      rejects('pcapng', f, { offset: third + len - 4, where: /^block 3 \(Enhanced Packet Block\)$/, expected: /repeated at its end \(44\), found 48/ });
    });

    it('a captured length beyond its block', () => {
      const f = Buffer.from(good);
      f.writeUInt32LE(200, third + 20);
      rejects('pcapng', f, { offset: third + 20, where: /^block 3 \(Enhanced Packet Block\)$/, expected: /captured length within the block .* found 200/ });
    });

    it('a packet of an interface not declared', () => {
      rejects('pcapng', Buffer.concat([shb('be'), idb('be', 1), epb('be', 3, T, a)]), { offset: third + 8, where: /^block 3 \(Enhanced Packet Block\)$/, expected: /\(0 to 0 are\), found interface 3/ });
      rejects('pcapng', Buffer.concat([shb('le'), spb('le', a)]), { offset: shb('le').length + 8, where: /^block 2 \(Simple Packet Block\)$/, expected: /none is/ });
    });

    it('a version other than 1.x', () => {
      const f = Buffer.from(good);
      f.writeUInt16LE(2, 12);
      rejects('pcapng', f, { offset: 12, where: /Section Header Block/, expected: /version 1\.x, found 2\.0/ });
    });
  });
});

describe('classic pcap', () => {
  const packets = [
    { time: 1_700_000_000_123.456, data: a },
    { time: 1_700_000_001_000.001, data: b },
  ];
  for (const order of ['le', 'be'] as const) {
    for (const unit of ['micro', 'nano'] as const) {
      it(`${order === 'le' ? 'little' : 'big'}-endian, ${unit}seconds`, () => {
        const file = pcap(order, unit, 113, packets);
        for (const step of [file.length, 1, 10]) {
          const got = read('pcap', file, step).packets;
          assert.deepEqual(
            got.map((p) => [p.number, p.linkType, p.data.toString(), Math.round(p.time * 1000), p.comment]),
            [
              [1, 113, 'first packet', 1_700_000_000_123_456, null],
              [2, 113, b.toString(), 1_700_000_001_000_001, null],
            ],
          );
          assert.deepEqual(
            got.map((p) => p.offset),
            [24, 24 + 16 + a.length],
          );
        }
      });
    }
  }

  it('a file cut short, a record too long, a header too short, a version other than 2', () => {
    const file = pcap('le', 'micro', 1, packets);
    rejects('pcap', file.subarray(0, file.length - 1), { offset: 24 + 16 + a.length, where: /^packet 2$/, expected: /the 22 captured bytes its header announces: the file ends 37 bytes into the record/ });
    rejects('pcap', file.subarray(0, 24 + 16 + a.length + 5), { offset: 24 + 16 + a.length, where: /^packet 2$/, expected: /a record header \(16 bytes\)/ });
    const long = Buffer.from(file);
    long.writeUInt32LE(0x7fffffff, 24 + 8);
    rejects('pcap', long, { offset: 32, where: /^packet 1 \(record header\)$/, expected: /found 2147483647/ });
    rejects('pcap', file.subarray(0, 10), { offset: 0, where: /^the file header$/, expected: /24 bytes, found 10/ });
    const v3 = Buffer.from(file);
    v3.writeUInt16LE(3, 4);
    rejects('pcap', v3, { offset: 4, where: /^the file header$/, expected: /version 2\.x, found 3/ });
  });
});
