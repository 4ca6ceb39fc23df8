/**
 * Ethernet + IPv4/IPv6 + TCP frames with correct lengths and checksums, so that Wireshark's
 * TCP analysis has nothing to flag. The MAC addresses are fixed and locally administered
 * (02:…): the file is synthetic and the real ones are unknown anyway.
 */

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const CLIENT_MAC = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
export const SERVER_MAC = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]);

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const PROTO_TCP = 6;

export interface TcpEnd {
  mac: Buffer;
  /** 4 or 16 bytes; both ends of one frame have the same length. */
  ip: Buffer;
  port: number;
}

export interface TcpSegment {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** IPv4 identification (ignored for IPv6). */
  ipId: number;
  /** TCP options, a multiple of 4 bytes. */
  options?: Buffer;
  payload: Buffer;
}

/** Sum of 16-bit big-endian words (one's complement arithmetic, folded later). */
function sumWords(b: Buffer, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

function finish(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The Internet checksum (RFC 1071) of b[start, end) plus an initial partial sum. */
export function internetChecksum(b: Buffer, start: number, end: number, initial = 0): number {
  return finish(sumWords(b, start, end, initial));
}

export function tcpFrame(src: TcpEnd, dst: TcpEnd, seg: TcpSegment): Buffer {
  const v6 = src.ip.length === 16;
  const ipLen = v6 ? 40 : 20;
  const opts = seg.options ?? Buffer.alloc(0);
  const tcpLen = 20 + opts.length + seg.payload.length;
  const frame = Buffer.alloc(14 + ipLen + tcpLen);

  dst.mac.copy(frame, 0);
  src.mac.copy(frame, 6);
  frame.writeUInt16BE(v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, 12);

  const ip = 14;
  if (v6) {
    frame.writeUInt32BE(0x60000000, ip); // version 6, no traffic class, no flow label
    frame.writeUInt16BE(tcpLen, ip + 4); // payload length
    frame[ip + 6] = PROTO_TCP;
    frame[ip + 7] = 64; // hop limit
    src.ip.copy(frame, ip + 8);
    dst.ip.copy(frame, ip + 24);
  } else {
    frame[ip] = 0x45; // version 4, 5 words of header
    frame.writeUInt16BE(20 + tcpLen, ip + 2);
    frame.writeUInt16BE(seg.ipId & 0xffff, ip + 4);
    frame.writeUInt16BE(0x4000, ip + 6); // don't fragment
    frame[ip + 8] = 64; // TTL
    frame[ip + 9] = PROTO_TCP;
    src.ip.copy(frame, ip + 12);
    dst.ip.copy(frame, ip + 16);
    frame.writeUInt16BE(internetChecksum(frame, ip, ip + 20), ip + 10);
  }

  const t = ip + ipLen;
  frame.writeUInt16BE(src.port, t);
  frame.writeUInt16BE(dst.port, t + 2);
  frame.writeUInt32BE(seg.seq >>> 0, t + 4);
  frame.writeUInt32BE(seg.ack >>> 0, t + 8);
  frame[t + 12] = ((20 + opts.length) / 4) << 4;
  frame[t + 13] = seg.flags;
  frame.writeUInt16BE(seg.window, t + 14);
  opts.copy(frame, t + 20);
  seg.payload.copy(frame, t + 20 + opts.length);
  frame.writeUInt16BE(internetChecksum(frame, t, t + tcpLen, pseudoHeaderSum(src.ip, dst.ip, tcpLen)), t + 16);
  return frame;
}

/** The pseudo-header the TCP checksum covers: addresses, protocol, TCP length. */
function pseudoHeaderSum(srcIp: Buffer, dstIp: Buffer, tcpLen: number): number {
  let sum = sumWords(srcIp, 0, srcIp.length, 0);
  sum = sumWords(dstIp, 0, dstIp.length, sum);
  return sum + PROTO_TCP + Math.floor(tcpLen / 0x10000) + (tcpLen % 0x10000);
}
