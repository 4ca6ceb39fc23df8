/**
 * Packets out of a pcapng file (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html),
 * read as its chunks arrive: Section Header Blocks in either byte order (each section may
 * have its own), Interface Description Blocks (link type, `if_tsresol`, `if_tsoffset`),
 * Enhanced, Simple and obsolete Packet Blocks; every other block is skipped. A block that
 * is not one (a bad length, a packet longer than its block, a file that ends inside a
 * block) is a CaptureError naming the block, its byte offset and what was expected.
 */
import { ByteQueue } from './byte-queue.js';
import { CaptureError } from './capture-error.js';

/** One captured frame, as the readers of pcapng and pcap files hand it on. */
export interface Packet {
  /** 1-based, in file order (Wireshark's frame number). */
  number: number;
  /** Byte offset of its block (or record) in the file. */
  offset: number;
  /** Milliseconds since the epoch, with a fraction (the form of ProxyEvent times). */
  time: number;
  /** The link-layer type of its interface (1 Ethernet, 101 raw IP, 113/276 Linux cooked, 0 BSD loopback, …). */
  linkType: number;
  data: Buffer;
  /** Its first opt_comment (pgscope writes connection numbers and close reasons there). */
  comment: string | null;
}

/** A reader of a capture file, fed its chunks in order. */
export interface ChunkReader {
  push(chunk: Buffer): void;
  /** The file ended: throws a CaptureError when it ended inside a block or record. */
  end(): void;
}

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const OPB = 0x00000002;
const SPB = 0x00000003;
const EPB = 0x00000006;
const DSB = 0x0000000a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_COMMENT = 1;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

/**
 * Longest block believed: a packet of the largest snap length anyone uses (256 KiB) fits
 * many times over; a length beyond it is a corrupt file, not a reason to buffer gigabytes.
 */
const MAX_BLOCK = 64 * 1024 * 1024;

const BLOCK_NAMES: Record<number, string> = {
  [SHB]: 'Section Header Block',
  [IDB]: 'Interface Description Block',
  [OPB]: 'Packet Block',
  [SPB]: 'Simple Packet Block',
  [EPB]: 'Enhanced Packet Block',
  [DSB]: 'Decryption Secrets Block',
  0x00000004: 'Name Resolution Block',
  0x00000005: 'Interface Statistics Block',
};

interface Interface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second (if_tsresol; default microseconds). */
  unitsPerSecond: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offsetSeconds: number;
}

export class PcapngReader implements ChunkReader {
  private readonly queue = new ByteQueue();
  private le = true;
  private interfaces: Interface[] = [];
  private blocks = 0;
  private packets = 0;
  /** For Simple Packet Blocks, which carry no timestamp. */
  private lastTime = 0;
  private secretsNoted = false;

  constructor(
    private readonly file: string,
    private readonly onPacket: (p: Packet) => void,
    private readonly onNote: (text: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.queue.push(chunk);
    for (;;) {
      const head = this.queue.peek(12);
      if (head === null) return;
      const length = this.blockLength(head);
      const b = this.queue.peek(length);
      if (b === null) return;
      this.block(b, length);
      this.queue.skip(length);
    }
  }

  end(): void {
    const left = this.queue.length;
    if (this.blocks === 0 && left === 0) throw new CaptureError(this.file, 0, 'block 1', 'a Section Header Block: the file is empty');
    if (left === 0) return;
    const head = this.queue.peek(Math.min(left, 12))!;
    const declared = left >= 12 ? ` of ${this.u32(head, 4)} bytes` : '';
    throw new CaptureError(this.file, this.queue.offset, `block ${this.blocks + 1}`, `a whole block${declared}: the file ends ${left} bytes into it (cut short?)`);
  }

  /** The total length of the block that starts `head`, checked; settles the byte order at a Section Header. */
  private blockLength(head: Buffer): number {
    const at = this.queue.offset;
    const n = this.blocks + 1;
    const type = head.readUInt32LE(0);
    if (type === SHB) {
      if (head.readUInt32LE(8) === BYTE_ORDER_MAGIC) this.le = true;
      else if (head.readUInt32BE(8) === BYTE_ORDER_MAGIC) this.le = false;
      else throw new CaptureError(this.file, at + 8, `block ${n} (Section Header Block)`, `the byte-order magic 1A2B3C4D, found ${head.subarray(8, 12).toString('hex')}`);
    } else if (n === 1) {
      throw new CaptureError(this.file, at, 'block 1', `a Section Header Block (0A0D0D0A), found ${head.subarray(0, 4).toString('hex')}`);
    }
    const length = this.u32(head, 4);
    if (length < 12 || length % 4 !== 0 || length > MAX_BLOCK) {
      throw new CaptureError(this.file, at + 4, `block ${n} (${this.blockName(head)})`, `a total length that is a multiple of 4 from 12 to ${MAX_BLOCK}, found ${length}`);
    }
    return length;
  }

  private block(b: Buffer, length: number): void {
    const at = this.queue.offset;
    const n = ++this.blocks;
    const where = `block ${n} (${this.blockName(b)})`;
    if (this.u32(b, length - 4) !== length) {
      throw new CaptureError(this.file, at + length - 4, where, `the block's total length repeated at its end (${length}), found ${this.u32(b, length - 4)}`);
    }
    const type = this.u32(b, 0);
    const end = length - 4;
    switch (type) {
      case SHB: {
        if (end < 24) throw new CaptureError(this.file, at, where, 'a version and section length (28 bytes at least)');
        const major = this.u16(b, 12);
        if (major !== 1) throw new CaptureError(this.file, at + 12, where, `format version 1.x, found ${major}.${this.u16(b, 14)}`);
        // A new section: interface numbers start again.
        this.interfaces = [];
        return;
      }
      case IDB: {
        if (end < 16) throw new CaptureError(this.file, at + 8, where, 'a link type and snap length (8 bytes)');
        const opts = this.options(b, 16, end);
        this.interfaces.push({
          linkType: this.u16(b, 8),
          snapLength: this.u32(b, 12),
          unitsPerSecond: tsresol(opts.get(IF_TSRESOL)),
          offsetSeconds: this.tsoffset(opts.get(IF_TSOFFSET)),
        });
        return;
      }
      case EPB:
      case OPB: {
        if (end < 28) throw new CaptureError(this.file, at + 8, where, 'an interface, a timestamp and two lengths (20 bytes)');
        const id = type === EPB ? this.u32(b, 8) : this.u16(b, 8);
        const iface = this.interface(id, at + 8, where);
        const caplen = this.u32(b, 20);
        if (28 + caplen > end) throw new CaptureError(this.file, at + 20, where, `a captured length within the block (at most ${end - 28}), found ${caplen}`);
        const comment = this.options(b, 28 + pad4(caplen), end).get(OPT_COMMENT);
        const time = this.time(iface, this.u32(b, 12), this.u32(b, 16));
        this.packet(at, time, iface, b.subarray(28, 28 + caplen), comment ? comment.toString('utf8') : null);
        return;
      }
      case SPB: {
        if (end < 12) throw new CaptureError(this.file, at + 8, where, 'an original length (4 bytes)');
        const iface = this.interface(0, at + 8, where);
        // No captured length: the packet is what the block holds, up to its original length and the snap length.
        let caplen = Math.min(this.u32(b, 8), end - 12);
        if (iface.snapLength > 0) caplen = Math.min(caplen, iface.snapLength);
        // No timestamp either: the previous packet's is the best guess.
        this.packet(at, this.lastTime, iface, b.subarray(12, 12 + caplen), null);
        return;
      }
      case DSB:
        if (!this.secretsNoted) {
          this.secretsNoted = true;
          this.onNote(`${where} at byte ${at} holds decryption secrets (TLS keys), which pgscope does not use yet: encrypted connections stay encrypted`);
        }
        return;
      default:
        // Name resolution, interface statistics, custom blocks…: nothing a conversation needs.
        return;
    }
  }

  private packet(offset: number, time: number, iface: Interface, data: Buffer, comment: string | null): void {
    this.lastTime = time;
    this.onPacket({ number: ++this.packets, offset, time, linkType: iface.linkType, data, comment });
  }

  private interface(id: number, offset: number, where: string): Interface {
    const iface = this.interfaces[id];
    if (!iface) {
      const declared = this.interfaces.length;
      throw new CaptureError(this.file, offset, where, `an interface declared before it in its section (${declared === 0 ? 'none is' : `0 to ${declared - 1} are`}), found interface ${id}`);
    }
    return iface;
  }

  private time(iface: Interface, high: number, low: number): number {
    // A double holds microseconds since 1970 exactly; finer units lose only what no clock has.
    const units = high * 0x100000000 + low;
    return units / (iface.unitsPerSecond / 1000) + iface.offsetSeconds * 1000;
  }

  /** Options from `start` to `end`, the first value of each code. */
  private options(b: Buffer, start: number, end: number): Map<number, Buffer> {
    const out = new Map<number, Buffer>();
    let at = start;
    while (at + 4 <= end) {
      const code = this.u16(b, at);
      const len = this.u16(b, at + 2);
      if (code === 0 || at + 4 + len > end) break;
      if (!out.has(code)) out.set(code, b.subarray(at + 4, at + 4 + len));
      at += 4 + pad4(len);
    }
    return out;
  }

  private tsoffset(v: Buffer | undefined): number {
    if (!v || v.length < 8) return 0;
    return Number(this.le ? v.readBigInt64LE(0) : v.readBigInt64BE(0));
  }

  private blockName(b: Buffer): string {
    return BLOCK_NAMES[this.u32(b, 0)] ?? `block type 0x${this.u32(b, 0).toString(16)}`;
  }

  private u32(b: Buffer, at: number): number {
    return this.le ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  private u16(b: Buffer, at: number): number {
    return this.le ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** if_tsresol: the high bit says a power of 2, else of 10; the rest is the negative exponent. */
function tsresol(v: Buffer | undefined): number {
  if (!v || v.length < 1) return 1_000_000;
  const r = v[0]!;
  return r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
}
