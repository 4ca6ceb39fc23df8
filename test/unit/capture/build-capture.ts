/**
 * Capture files and frames built by hand for the tests of src/capture, independently of
 * the code under test: pcapng in either byte order (any block, any option), classic pcap,
 * and TCP segments over IPv4 or IPv6 inside each link layer the reader knows.
 */
import { tcpFrame } from '../../../src/output/pcapng/packets.js';
import { TcpStream } from '../../../src/output/pcapng/tcp-stream.js';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

type Order = 'le' | 'be';

const pad4 = (n: number): number => (n + 3) & ~3;

function u16(v: number, order: Order): Buffer {
  const b = Buffer.alloc(2);
  if (order === 'le') b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

function u32(v: number, order: Order): Buffer {
  const b = Buffer.alloc(4);
  if (order === 'le') b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

export interface Option {
  code: number;
  value: Buffer;
}

export function options(list: Option[], order: Order): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  const parts = list.flatMap((o) => [u16(o.code, order), u16(o.value.length, order), o.value, Buffer.alloc(pad4(o.value.length) - o.value.length)]);
  return Buffer.concat([...parts, Buffer.alloc(4)]);
}

/** Any block: type, total length, body (padded here), total length. */
export function block(type: number, body: Buffer, order: Order): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc(pad4(body.length) - body.length)]);
  const total = 12 + padded.length;
  return Buffer.concat([u32(type, order), u32(total, order), padded, u32(total, order)]);
}

export function shb(order: Order, opts: Option[] = []): Buffer {
  const body = Buffer.concat([u32(0x1a2b3c4d, order), u16(1, order), u16(0, order), Buffer.alloc(8, 0xff), options(opts, order)]);
  return block(0x0a0d0d0a, body, order);
}

export function idb(order: Order, linkType: number, opts: Option[] = [], snapLength = 0): Buffer {
  return block(1, Buffer.concat([u16(linkType, order), u16(0, order), u32(snapLength, order), options(opts, order)]), order);
}

/** `units`: the timestamp in the interface's units. */
export function epb(order: Order, iface: number, units: bigint, data: Buffer, opts: Option[] = []): Buffer {
  const body = Buffer.concat([
    u32(iface, order),
    u32(Number(units >> 32n), order),
    u32(Number(units & 0xffffffffn), order),
    u32(data.length, order),
    u32(data.length, order),
    data,
    Buffer.alloc(pad4(data.length) - data.length),
    options(opts, order),
  ]);
  return block(6, body, order);
}

export function spb(order: Order, data: Buffer, originalLength = data.length): Buffer {
  return block(3, Buffer.concat([u32(originalLength, order), data]), order);
}

/** The obsolete Packet Block (type 2). */
export function opb(order: Order, iface: number, units: bigint, data: Buffer): Buffer {
  const body = Buffer.concat([u16(iface, order), u16(0, order), u32(Number(units >> 32n), order), u32(Number(units & 0xffffffffn), order), u32(data.length, order), u32(data.length, order), data]);
  return block(2, body, order);
}

export const comment = (text: string): Option => ({ code: 1, value: Buffer.from(text, 'utf8') });

/** Classic pcap: the file header and one record per packet (`time` in ms since the epoch). */
export function pcap(order: Order, unit: 'micro' | 'nano', linkType: number, packets: { time: number; data: Buffer }[]): Buffer {
  const perSecond = unit === 'micro' ? 1e6 : 1e9;
  const head = Buffer.concat([u32(unit === 'micro' ? 0xa1b2c3d4 : 0xa1b23c4d, order), u16(2, order), u16(4, order), u32(0, order), u32(0, order), u32(262144, order), u32(linkType, order)]);
  const records = packets.flatMap((p) => {
    const sec = Math.floor(p.time / 1000);
    const frac = Math.round((p.time / 1000 - sec) * perSecond);
    return [u32(sec, order), u32(frac, order), u32(p.data.length, order), u32(p.data.length, order), p.data];
  });
  return Buffer.concat([head, ...records]);
}

// ---------------------------------------------------------------- frames

export interface End {
  /** Dotted IPv4 or full IPv6 (eight groups, or with ::). */
  ip: string;
  port: number;
}

function ipBytes(ip: string): Buffer {
  if (ip.includes('.')) return Buffer.from(ip.split('.').map(Number));
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

export interface Seg {
  seq: number;
  ack?: number;
  flags: number;
  payload?: Buffer | string;
}

/** An Ethernet frame (IPv4 or IPv6 by the addresses) carrying one TCP segment. */
export function ethernet(from: End, to: End, s: Seg): Buffer {
  const mac = Buffer.from([2, 0, 0, 0, 0, 1]);
  const payload = typeof s.payload === 'string' ? Buffer.from(s.payload) : (s.payload ?? Buffer.alloc(0));
  return tcpFrame({ mac, ip: ipBytes(from.ip), port: from.port }, { mac, ip: ipBytes(to.ip), port: to.port }, { seq: s.seq, ack: s.ack ?? 0, flags: s.flags | (s.ack !== undefined ? ACK : 0), window: 65535, ipId: 1, payload });
}

/** The IP packet inside an Ethernet frame. */
export const ipPacket = (frame: Buffer): Buffer => frame.subarray(14);

/** The same IP packet in each link layer the reader knows, by link type. */
export function inLinkLayer(linkType: number, ip: Buffer): Buffer {
  const v6 = ip[0]! >> 4 === 6;
  const ethertype = v6 ? 0x86dd : 0x0800;
  switch (linkType) {
    case 101:
      return ip;
    case 113: {
      // Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0);
      h.writeUInt16BE(1, 2);
      h.writeUInt16BE(6, 4);
      h.writeUInt16BE(ethertype, 14);
      return Buffer.concat([h, ip]);
    }
    case 276: {
      // Linux cooked v2: protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes.
      const h = Buffer.alloc(20);
      h.writeUInt16BE(ethertype, 0);
      h.writeUInt32BE(2, 4);
      h.writeUInt16BE(1, 8);
      h[11] = 6;
      return Buffer.concat([h, ip]);
    }
    case 0: {
      // BSD loopback: the address family in the capturing host's byte order.
      const h = Buffer.alloc(4);
      h.writeUInt32LE(v6 ? 30 : 2);
      return Buffer.concat([h, ip]);
    }
    case 1: {
      // Ethernet with an 802.1Q VLAN tag.
      const h = Buffer.alloc(18);
      h.writeUInt16BE(0x8100, 12);
      h.writeUInt16BE(42, 14);
      h.writeUInt16BE(ethertype, 16);
      return Buffer.concat([h, ip]);
    }
    default:
      throw new Error(`no builder for link type ${linkType}`);
  }
}

/** One side's bytes at a time (ms since the epoch). */
export interface Chunk {
  side: 'client' | 'server';
  bytes: Buffer;
  time: number;
}

export interface Connection {
  client: End;
  server: End;
  chunks: Chunk[];
  synComment?: string;
  finComment?: string;
  /** Still open when the capture ends (no FIN). */
  open?: boolean;
}

/** A captured frame: Ethernet, with its time and comment. */
export interface Frame {
  time: number;
  frame: Buffer;
  comment?: string;
}

/**
 * TCP connections as a real capture would hold them, one after the other: handshake,
 * data in segments of at most 16 KiB with the peer's ACKs, FINs. Built with pgscope's own
 * synthetic TCP writer, with no pgscope comments unless given.
 */
export function tcpFrames(connections: Connection[]): Frame[] {
  const frames: Frame[] = [];
  const emit = (frame: Buffer, time: number, note?: string): void => {
    frames.push(note ? { time, frame, comment: note } : { time, frame });
  };
  connections.forEach((c, i) => {
    const mac = Buffer.from([2, 0, 0, 0, 0, 1]);
    const stream = new TcpStream(
      { client: { mac, ip: ipBytes(c.client.ip), port: c.client.port }, server: { mac, ip: ipBytes(c.server.ip), port: c.server.port } },
      // The server's sequence numbers wrap around 2^32 within the first 4 KiB.
      { client: 1000 * (i + 1), server: 0xfffff000 + i },
      emit,
    );
    const t0 = c.chunks[0]?.time ?? 0;
    stream.open(t0, c.synComment);
    for (const ch of c.chunks) stream.send(ch.side, ch.bytes, ch.time);
    if (!c.open) stream.close(c.chunks.at(-1)?.time ?? t0, c.finComment);
  });
  return frames;
}

/** Frames in a little-endian pcapng with one Ethernet interface. */
export function framesPcapng(frames: Frame[]): Buffer {
  const blocks = frames.map((f) => epb('le', 0, BigInt(Math.round(f.time * 1000)), f.frame, f.comment ? [comment(f.comment)] : []));
  return Buffer.concat([shb('le'), idb('le', 1), ...blocks]);
}
