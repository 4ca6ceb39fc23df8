/**
 * Packets out of capture files: pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html:
 * Section Header, Interface Description, Enhanced and Simple Packet Blocks, either byte
 * order, per-interface `if_tsresol`) and classic pcap (both byte orders, micro- and
 * nanosecond magics). Other blocks are skipped. Pure: bytes in, packets out.
 */
import { CaptureError } from './capture-error.js';

export interface Packet {
  /** Microseconds since the epoch. */
  ts: number;
  /** The link-layer type of its interface (1 Ethernet, 101 raw IP, 113/276 Linux cooked, 0 BSD loopback). */
  linkType: number;
  data: Buffer;
  /** opt_comment, when the packet carries one (pgscope writes connection numbers there). */
  comment: string | null;
  /** 1-based, in file order (what Wireshark calls the frame number). */
  frame: number;
}

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_COMMENT = 1;
const IF_TSRESOL = 9;

interface Iface {
  linkType: number;
  /** Timestamp units per second. */
  unitsPerSecond: bigint;
}

/** The kind of file from its first bytes, or null. */
export function sniffFormat(head: Buffer): 'pcapng' | 'pcap' | null {
  if (head.length >= 4 && head.readUInt32LE(0) === SHB) return 'pcapng';
  if (head.length >= 4) {
    const m = head.readUInt32LE(0);
    if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return 'pcap';
  }
  return null;
}

/** Units-per-second → microseconds, exactly for the usual resolutions. */
function toMicros(units: bigint, perSecond: bigint): number {
  if (perSecond === 1_000_000n) return Number(units);
  return Number((units * 1_000_000n) / perSecond);
}

function options(b: Buffer, start: number, end: number, le: boolean): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = start;
  while (at + 4 <= end) {
    const code = le ? b.readUInt16LE(at) : b.readUInt16BE(at);
    const len = le ? b.readUInt16LE(at + 2) : b.readUInt16BE(at + 2);
    if (code === 0) break;
    if (at + 4 + len > end) break;
    if (!out.has(code)) out.set(code, b.subarray(at + 4, at + 4 + len));
    at += 4 + ((len + 3) & ~3);
  }
  return out;
}

function tsresol(v: Buffer | undefined): bigint {
  if (!v || v.length < 1) return 1_000_000n;
  const r = v[0]!;
  return r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r);
}

/** Every packet of a pcapng file, in order. */
export function* pcapngPackets(file: string, b: Buffer): Generator<Packet> {
  let at = 0;
  let le = true;
  let ifaces: Iface[] = [];
  let frame = 0;
  let block = 0;
  while (at < b.length) {
    block++;
    if (at + 12 > b.length) throw new CaptureError(file, at, `block ${block}`, `a block header (12 bytes), found ${b.length - at} bytes`);
    const rawType = b.readUInt32LE(at);
    if (rawType === SHB) {
      const magic = b.readUInt32LE(at + 8);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (b.readUInt32BE(at + 8) === BYTE_ORDER_MAGIC) le = false;
      else throw new CaptureError(file, at + 8, `block ${block} (Section Header Block)`, 'the byte-order magic 0x1A2B3C4D');
      ifaces = [];
    } else if (block === 1) {
      throw new CaptureError(file, at, 'block 1', 'a Section Header Block (0x0A0D0D0A)');
    }
    const type = le ? b.readUInt32LE(at) : b.readUInt32BE(at);
    const len = le ? b.readUInt32LE(at + 4) : b.readUInt32BE(at + 4);
    if (len < 12 || len % 4 !== 0 || at + len > b.length) {
      throw new CaptureError(file, at + 4, `block ${block}`, `a total length that is a multiple of 4, at least 12 and within the file (${b.length - at} bytes left), found ${len}`);
    }
    const body = at + 8;
    const end = at + len - 4;
    const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    if (type === IDB) {
      if (end - body < 8) throw new CaptureError(file, body, `block ${block} (Interface Description Block)`, 'a link type and snap length');
      const linkType = le ? b.readUInt16LE(body) : b.readUInt16BE(body);
      ifaces.push({ linkType, unitsPerSecond: tsresol(options(b, body + 8, end, le).get(IF_TSRESOL)) });
    } else if (type === EPB) {
      if (end - body < 20) throw new CaptureError(file, body, `block ${block} (Enhanced Packet Block)`, 'an interface, timestamp and lengths (20 bytes)');
      const iface = ifaces[u32(body)];
      if (!iface) throw new CaptureError(file, body, `block ${block} (Enhanced Packet Block)`, `interface ${u32(body)}, which no Interface Description Block declared`);
      const units = (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8));
      const caplen = u32(body + 12);
      const dataAt = body + 20;
      if (dataAt + caplen > end) throw new CaptureError(file, body + 12, `block ${block} (Enhanced Packet Block)`, `captured length ${caplen} within the block`);
      const opts = options(b, dataAt + ((caplen + 3) & ~3), end, le);
      const c = opts.get(OPT_COMMENT);
      frame++;
      yield { ts: toMicros(units, iface.unitsPerSecond), linkType: iface.linkType, data: b.subarray(dataAt, dataAt + caplen), comment: c ? c.toString('utf8') : null, frame };
    } else if (type === SPB) {
      const iface = ifaces[0];
      if (!iface) throw new CaptureError(file, body, `block ${block} (Simple Packet Block)`, 'an Interface Description Block before it');
      const origLen = u32(body);
      frame++;
      // No timestamp in a Simple Packet Block: the previous packet's time is as good as any.
      yield { ts: 0, linkType: iface.linkType, data: b.subarray(body + 4, Math.min(end, body + 4 + origLen)), comment: null, frame };
    }
    at += len;
  }
}

/** Every packet of a classic pcap file, in order. */
export function* pcapPackets(file: string, b: Buffer): Generator<Packet> {
  if (b.length < 24) throw new CaptureError(file, 0, 'the pcap file header', `24 bytes, found ${b.length}`);
  const magicLE = b.readUInt32LE(0);
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const nanos = magicLE === 0xa1b23c4d || magicLE === 0x4d3cb2a1;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  let at = 24;
  let frame = 0;
  while (at < b.length) {
    if (at + 16 > b.length) throw new CaptureError(file, at, `packet ${frame + 1} (record header)`, `16 bytes, found ${b.length - at}`);
    const sec = u32(at);
    const frac = u32(at + 4);
    const caplen = u32(at + 8);
    if (at + 16 + caplen > b.length) throw new CaptureError(file, at + 8, `packet ${frame + 1}`, `${caplen} captured bytes within the file (${b.length - at - 16} left)`);
    frame++;
    yield { ts: sec * 1_000_000 + (nanos ? Math.floor(frac / 1000) : frac), linkType, data: b.subarray(at + 16, at + 16 + caplen), comment: null, frame };
    at += 16 + caplen;
  }
}
