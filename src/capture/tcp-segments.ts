/**
 * A TCP segment out of a captured frame: the link layer (Ethernet with VLAN tags, raw IP,
 * Linux cooked v1 and v2, BSD loopback), IPv4 or IPv6 (extension headers skipped), then
 * TCP. Anything else comes back as the reason it is not a segment, for the capture's
 * notes. Pure: no state, no I/O.
 */

export interface Segment {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** The captured payload: shorter than sent when the capture cut the packet (its snap length). */
  payload: Buffer;
}

/** Why a frame is not a TCP segment pgscope reads. */
export type NotASegment = 'link type' | 'not IP' | 'not TCP' | 'IP fragment' | 'cut short';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN: ReadonlySet<number> = new Set([0x8100, 0x88a8, 0x9100]);

/** Link types read (https://www.tcpdump.org/linktypes.html), by name for the notes. */
export const LINK_TYPES: Readonly<Record<number, string>> = {
  0: 'BSD loopback',
  1: 'Ethernet',
  12: 'raw IP',
  14: 'raw IP',
  101: 'raw IP',
  108: 'OpenBSD loopback',
  113: 'Linux cooked capture',
  228: 'raw IPv4',
  229: 'raw IPv6',
  276: 'Linux cooked capture v2',
};

/** Where the IP packet starts in a frame of this link type; -1: not IP; null: a link type not read. */
function ipStart(linkType: number, d: Buffer): number | null {
  switch (linkType) {
    case 1: {
      // Ethernet: 14 bytes, plus 4 per VLAN tag.
      let at = 12;
      while (d.length >= at + 2 && ETH_VLAN.has(d.readUInt16BE(at))) at += 4;
      if (d.length < at + 2) return -1;
      const type = d.readUInt16BE(at);
      return type === ETH_IPV4 || type === ETH_IPV6 ? at + 2 : -1;
    }
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      return 0;
    case 113: // 16 bytes, the protocol in the last two
      return d.length >= 16 && isIpType(d.readUInt16BE(14)) ? 16 : -1;
    case 276: // 20 bytes, the protocol in the first two
      return d.length >= 20 && isIpType(d.readUInt16BE(0)) ? 20 : -1;
    case 0: // a 4-byte address family (host byte order): the IP header's version says which
    case 108:
      return 4;
    default:
      return null;
  }
}

const isIpType = (t: number): boolean => t === ETH_IPV4 || t === ETH_IPV6;

/** IPv6 extension headers that may come before TCP, and how to find their length. */
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AUTH = 51;
const IPV6_DEST_OPTIONS = 60;
const PROTO_TCP = 6;

export function segmentOf(linkType: number, d: Buffer): Segment | NotASegment {
  const at = ipStart(linkType, d);
  if (at === null) return 'link type';
  if (at < 0 || d.length < at + 1) return 'not IP';
  const version = d[at]! >> 4;
  let src: string;
  let dst: string;
  let tcp: number;
  let end: number;
  if (version === 4) {
    if (d.length < at + 20) return 'cut short';
    const ihl = (d[at]! & 0x0f) * 4;
    if (d[at + 9] !== PROTO_TCP) return 'not TCP';
    // More fragments, or an offset: pgscope does not put fragments together.
    if ((d.readUInt16BE(at + 6) & 0x3fff) !== 0) return 'IP fragment';
    src = ipv4Text(d, at + 12);
    dst = ipv4Text(d, at + 16);
    tcp = at + ihl;
    // A total length of 0: segmentation offload, the captured length is the truth.
    const total = d.readUInt16BE(at + 2);
    end = total === 0 ? d.length : Math.min(d.length, at + total);
  } else if (version === 6) {
    if (d.length < at + 40) return 'cut short';
    let next = d[at + 6]!;
    src = ipv6Text(d, at + 8);
    dst = ipv6Text(d, at + 24);
    tcp = at + 40;
    const payload = d.readUInt16BE(at + 4);
    end = payload === 0 ? d.length : Math.min(d.length, at + 40 + payload);
    for (;;) {
      if (next === IPV6_FRAGMENT) return 'IP fragment';
      if (next !== IPV6_HOP_BY_HOP && next !== IPV6_ROUTING && next !== IPV6_DEST_OPTIONS && next !== IPV6_AUTH) break;
      if (tcp + 2 > end) return 'cut short';
      const len = next === IPV6_AUTH ? (d[tcp + 1]! + 2) * 4 : (d[tcp + 1]! + 1) * 8;
      next = d[tcp]!;
      tcp += len;
    }
    if (next !== PROTO_TCP) return 'not TCP';
  } else {
    return 'not IP';
  }
  if (tcp + 20 > end) return 'cut short';
  const dataOffset = (d[tcp + 12]! >> 4) * 4;
  if (dataOffset < 20 || tcp + dataOffset > end) return 'cut short';
  return {
    src,
    dst,
    srcPort: d.readUInt16BE(tcp),
    dstPort: d.readUInt16BE(tcp + 2),
    seq: d.readUInt32BE(tcp + 4),
    ack: d.readUInt32BE(tcp + 8),
    flags: d[tcp + 13]!,
    payload: d.subarray(tcp + dataOffset, end),
  };
}

function ipv4Text(d: Buffer, at: number): string {
  return `${d[at]}.${d[at + 1]}.${d[at + 2]}.${d[at + 3]}`;
}

/**
 * RFC 5952's text, as Node reports socket addresses: lower case, the longest run of two or
 * more zero groups (the first of equals) as "::". IPv4-mapped addresses (::ffff:a.b.c.d)
 * become plain IPv4, as pgscope's pcapng wrote them from IPv4 addresses.
 */
function ipv6Text(d: Buffer, at: number): string {
  let mapped = d.readUInt16BE(at + 10) === 0xffff;
  for (let i = 0; i < 10 && mapped; i++) mapped = d[at + i] === 0;
  if (mapped) return ipv4Text(d, at + 12);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(d.readUInt16BE(at + i).toString(16));
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}
