/**
 * Packets out of a classic pcap file (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html),
 * read as its chunks arrive: either byte order, microsecond (A1B2C3D4) or nanosecond
 * (A1B23C4D) timestamps. A record that is not one, or a file that ends inside one, is a
 * CaptureError naming the packet and its byte offset.
 */
import { ByteQueue } from './byte-queue.js';
import { CaptureError } from './capture-error.js';
import type { ChunkReader, Packet } from './pcapng-reader.js';

const MICROS = 0xa1b2c3d4;
const NANOS = 0xa1b23c4d;
/** See pcapng-reader's MAX_BLOCK. */
const MAX_RECORD = 64 * 1024 * 1024;

/** The magic of a classic pcap file, in either byte order: its timestamp unit, or null. */
export function pcapMagic(head: Buffer): 'micro' | 'nano' | null {
  if (head.length < 4) return null;
  const le = head.readUInt32LE(0);
  const be = head.readUInt32BE(0);
  if (le === MICROS || be === MICROS) return 'micro';
  if (le === NANOS || be === NANOS) return 'nano';
  return null;
}

export class PcapReader implements ChunkReader {
  private readonly queue = new ByteQueue();
  private header: { le: boolean; perMs: number; linkType: number } | null = null;
  private packets = 0;

  constructor(
    private readonly file: string,
    private readonly onPacket: (p: Packet) => void,
  ) {}

  push(chunk: Buffer): void {
    this.queue.push(chunk);
    if (!this.header) {
      const h = this.queue.peek(24);
      if (h === null) return;
      const le = h.readUInt32LE(0) === MICROS || h.readUInt32LE(0) === NANOS;
      const major = le ? h.readUInt16LE(4) : h.readUInt16BE(4);
      if (major !== 2) throw new CaptureError(this.file, 4, 'the file header', `pcap format version 2.x, found ${major}`);
      // The link type is the low 16 bits; above them are FCS flags.
      const linkType = (le ? h.readUInt32LE(20) : h.readUInt32BE(20)) & 0xffff;
      this.header = { le, perMs: pcapMagic(h) === 'nano' ? 1_000_000 : 1000, linkType };
      this.queue.skip(24);
    }
    const { le, perMs, linkType } = this.header;
    const u32 = (b: Buffer, at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
    for (;;) {
      const r = this.queue.peek(16);
      if (r === null) return;
      const caplen = u32(r, 8);
      if (caplen > MAX_RECORD) throw new CaptureError(this.file, this.queue.offset + 8, `packet ${this.packets + 1} (record header)`, `a captured length up to ${MAX_RECORD}, found ${caplen}`);
      const b = this.queue.peek(16 + caplen);
      if (b === null) return;
      const time = u32(b, 0) * 1000 + u32(b, 4) / perMs;
      this.onPacket({ number: ++this.packets, offset: this.queue.offset, time, linkType, data: b.subarray(16, 16 + caplen), comment: null });
      this.queue.skip(16 + caplen);
    }
  }

  end(): void {
    const left = this.queue.length;
    if (!this.header) throw new CaptureError(this.file, 0, 'the file header', `24 bytes, found ${left}`);
    if (left === 0) return;
    const what = left < 16 ? 'a record header (16 bytes)' : `the ${this.header.le ? this.queue.peek(16)!.readUInt32LE(8) : this.queue.peek(16)!.readUInt32BE(8)} captured bytes its header announces`;
    throw new CaptureError(this.file, this.queue.offset, `packet ${this.packets + 1}`, `${what}: the file ends ${left} bytes into the record (cut short?)`);
  }
}
