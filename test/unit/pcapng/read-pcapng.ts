/**
 * A strict reader of the pcapng files PcapngSink writes, for the tests: it checks every
 * length and checksum itself (independently of src/output/pcapng) and throws on any fault.
 */
import assert from 'node:assert/strict';

export interface Block {
  type: number;
  body: Buffer;
  options: { code: number; value: Buffer }[];
}

export interface Packet {
  micros: number;
  comment: string | null;
  v6: boolean;
  src: string;
  dst: string;
  ipId: number | null;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  tcpOptions: Buffer;
  payload: Buffer;
}

export const FIN = 0x01;
export const SYN = 0x02;
export const PSH = 0x08;
export const ACK = 0x10;

function options(b: Buffer, at: number, end: number): { code: number; value: Buffer }[] {
  const out: { code: number; value: Buffer }[] = [];
  if (at === end) return out; // options are optional, and so is opt_endofopt without them
  while (at < end) {
    const code = b.readUInt16LE(at);
    const len = b.readUInt16LE(at + 2);
    if (code === 0) {
      assert.equal(len, 0, 'opt_endofopt has length 0');
      assert.equal(at + 4, end, 'opt_endofopt is last');
      return out;
    }
    out.push({ code, value: b.subarray(at + 4, at + 4 + len) });
    at += 4 + ((len + 3) & ~3);
  }
  assert.fail('options without opt_endofopt');
}

export function readBlocks(file: Buffer): Block[] {
  const blocks: Block[] = [];
  let at = 0;
  while (at < file.length) {
    const type = file.readUInt32LE(at);
    const total = file.readUInt32LE(at + 4);
    assert.equal(total % 4, 0, 'block length is a multiple of 4');
    assert.ok(at + total <= file.length, 'block within the file');
    assert.equal(file.readUInt32LE(at + total - 4), total, 'trailing block length matches');
    const body = file.subarray(at + 8, at + total - 4);
    let optAt: number;
    if (type === 0x0a0d0d0a) {
      assert.equal(body.readUInt32LE(0), 0x1a2b3c4d, 'byte-order magic');
      optAt = 16;
    } else if (type === 1) optAt = 8;
    else if (type === 6) optAt = 20 + ((body.readUInt32LE(12) + 3) & ~3);
    else assert.fail(`unexpected block type ${type}`);
    blocks.push({ type, body, options: options(body, optAt, body.length) });
    at += total;
  }
  return blocks;
}

function checksum(b: Buffer, initial = 0): number {
  let s = initial;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

const v4 = (b: Buffer): string => Array.from(b).join('.');
const v6 = (b: Buffer): string => Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');

/** One EPB's Ethernet frame, checked: lengths, IPv4 header checksum, TCP checksum. */
export function readPacket(block: Block): Packet {
  const b = block.body;
  const caplen = b.readUInt32LE(12);
  assert.equal(b.readUInt32LE(16), caplen, 'original length = captured length');
  const micros = b.readUInt32LE(4) * 0x100000000 + b.readUInt32LE(8);
  const frame = b.subarray(20, 20 + caplen);
  const ethertype = frame.readUInt16BE(12);
  const isV6 = ethertype === 0x86dd;
  assert.ok(isV6 || ethertype === 0x0800, 'IPv4 or IPv6');
  const ip = frame.subarray(14);
  let tcp: Buffer;
  let pseudo: number;
  let src: string;
  let dst: string;
  let ipId: number | null = null;
  if (isV6) {
    assert.equal(ip[0]! >> 4, 6);
    assert.equal(ip.readUInt16BE(4), ip.length - 40, 'IPv6 payload length');
    assert.equal(ip[6], 6, 'TCP');
    tcp = ip.subarray(40);
    src = v6(ip.subarray(8, 24));
    dst = v6(ip.subarray(24, 40));
    pseudo = checksum(ip.subarray(8, 40)) + tcp.length + 6;
  } else {
    assert.equal(ip[0], 0x45);
    assert.equal(ip.readUInt16BE(2), ip.length, 'IPv4 total length');
    assert.ok(ip.length <= 65535);
    assert.equal(ip[9], 6, 'TCP');
    assert.equal(checksum(ip.subarray(0, 20)), 0xffff, 'IPv4 header checksum');
    ipId = ip.readUInt16BE(4);
    tcp = ip.subarray(20);
    src = v4(ip.subarray(12, 16));
    dst = v4(ip.subarray(16, 20));
    pseudo = checksum(ip.subarray(12, 20)) + tcp.length + 6;
  }
  assert.equal(checksum(tcp, pseudo), 0xffff, 'TCP checksum');
  const hlen = (tcp[12]! >> 4) * 4;
  const comment = block.options.find((o) => o.code === 1)?.value.toString('utf8') ?? null;
  return {
    micros,
    comment,
    v6: isV6,
    src,
    dst,
    ipId,
    sport: tcp.readUInt16BE(0),
    dport: tcp.readUInt16BE(2),
    seq: tcp.readUInt32BE(4),
    ack: tcp.readUInt32BE(8),
    flags: tcp[13]!,
    window: tcp.readUInt16BE(14),
    tcpOptions: tcp.subarray(20, hlen),
    payload: tcp.subarray(hlen),
  };
}

export function readPackets(file: Buffer): Packet[] {
  return readBlocks(file)
    .filter((b) => b.type === 6)
    .map(readPacket);
}

/** A Sink writer collecting everything in memory. */
export function memoryWriter(): { write(b: Buffer): void; end(): void; bytes(): Buffer; ended: boolean } {
  const parts: Buffer[] = [];
  return {
    ended: false,
    write(b: Buffer) {
      parts.push(Buffer.from(b));
    },
    end() {
      this.ended = true;
    },
    bytes: () => Buffer.concat(parts),
  };
}

export interface Stream {
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  packets: Packet[];
  /** Payload bytes in order, per direction. */
  fromClient: Buffer;
  fromServer: Buffer;
  synComment: string | null;
  finComment: string | null;
  /** FIN both ways and the last ACK seen. */
  closed: boolean;
}

/**
 * Group packets into TCP connections (a SYN starts one) and check each as a TCP stack would:
 * the three-way handshake, every sequence number continuing from the sender's last segment,
 * every acknowledgement equal to everything the peer has sent, nothing after the final ACK.
 */
export function followStreams(packets: Packet[]): Stream[] {
  const all: Stream[] = [];
  const open = new Map<string, { s: Stream; next: { c: number; s: number }; fin: { c: boolean; s: boolean } }>();
  const parts = new Map<Stream, { c: Buffer[]; s: Buffer[] }>();
  const key = (a: string, ap: number, b: string, bp: number): string => `${a} ${ap} ${b} ${bp}`;
  for (const p of packets) {
    if (p.flags === SYN) {
      const k = key(p.src, p.sport, p.dst, p.dport);
      assert.ok(!open.has(k), `SYN for an already open stream ${k}`);
      const s: Stream = {
        client: { ip: p.src, port: p.sport },
        server: { ip: p.dst, port: p.dport },
        packets: [p],
        fromClient: Buffer.alloc(0),
        fromServer: Buffer.alloc(0),
        synComment: p.comment,
        finComment: null,
        closed: false,
      };
      all.push(s);
      parts.set(s, { c: [], s: [] });
      open.set(k, { s, next: { c: (p.seq + 1) >>> 0, s: 0 }, fin: { c: false, s: false } });
      continue;
    }
    const fromClient = open.get(key(p.src, p.sport, p.dst, p.dport));
    const st = fromClient ?? open.get(key(p.dst, p.dport, p.src, p.sport));
    assert.ok(st, `packet of no open stream: ${p.src}:${p.sport} -> ${p.dst}:${p.dport}`);
    st.s.packets.push(p);
    const me = fromClient ? 'c' : 's';
    const peer = fromClient ? 's' : 'c';
    assert.ok(p.flags & ACK, 'every packet after the SYN has ACK');
    if (p.flags & SYN) {
      assert.equal(me, 's', 'SYN-ACK comes from the server');
      assert.equal(st.s.packets.length, 2, 'SYN-ACK right after the SYN');
      st.next.s = p.seq;
    }
    assert.equal(p.seq, st.next[me], `sequence number continues (${me}, packet ${st.s.packets.length})`);
    assert.equal(p.ack, st.next[peer], `acknowledges everything the peer sent (${me}, packet ${st.s.packets.length})`);
    assert.ok(!st.fin[me] || p.payload.length === 0, 'no data after FIN');
    st.next[me] = (st.next[me] + p.payload.length + (p.flags & (SYN | FIN) ? 1 : 0)) >>> 0;
    parts.get(st.s)![me].push(p.payload);
    if (p.flags & FIN) {
      st.fin[me] = true;
      if (me === 'c' && !st.s.finComment) st.s.finComment = p.comment;
    } else if (st.fin.c && st.fin.s) {
      st.s.closed = true;
      open.delete(key(st.s.client.ip, st.s.client.port, st.s.server.ip, st.s.server.port));
    }
  }
  for (const s of all) {
    s.fromClient = Buffer.concat(parts.get(s)!.c);
    s.fromServer = Buffer.concat(parts.get(s)!.s);
  }
  return all;
}
