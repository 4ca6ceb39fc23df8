/**
 * A TCP segment out of a captured frame: the link layer (Ethernet with VLAN tags, raw IP,
 * Linux cooked v1/v2, BSD loopback), IPv4 or IPv6 (extension headers skipped), then TCP.
 * Anything else, or a fragment, is not a segment (null). Pure.
 */

export interface Segment {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  flags: number;
  payload: Buffer;
}

export const SYN = 0x02;
export const FIN = 0x01;
export const RST = 0x04;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = [0x8100, 0x88a8, 0x9100];

/** Where the IP packet starts in a frame of this link type, and which IP version the link says (0: read it). */
function ipStart(linkType: number, d: Buffer): number {
  switch (linkType) {
    case 1: {
      // Ethernet: 14 bytes, plus 4 per VLAN tag.
      let at = 12;
      while (d.length >= at + 2 && ETH_VLAN.includes(d.readUInt16BE(at))) at += 4;
      if (d.length < at + 2) return -1;
      const et = d.readUInt16BE(at);
      return et === ETH_IPV4 || et === ETH_IPV6 ? at + 2 : -1;
    }
    case 101: // raw IP
    case 12:
    case 14:
    case 228: // raw IPv4
    case 229: // raw IPv6
      return 0;
    case 113: // Linux cooked capture v1: 16 bytes, protocol at 14
      return d.length >= 16 && [ETH_IPV4, ETH_IPV6].includes(d.readUInt16BE(14)) ? 16 : -1;
    case 276: // Linux cooked capture v2: 20 bytes, protocol at 0
      return d.length >= 20 && [ETH_IPV4, ETH_IPV6].includes(d.readUInt16BE(0)) ? 20 : -1;
    case 0: // BSD loopback: a 4-byte address family in host order
      return 4;
    default:
      return -1;
  }
}

function ipv4(d: Buffer, at: number): string {
  return `${d[at]}.${d[at + 1]}.${d[at + 2]}.${d[at + 3]}`;
}

function ipv6(d: Buffer, at: number): string {
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address, as pgscope writes mixed connections.
  if (d.subarray(at, at + 10).every((x) => x === 0) && d.readUInt16BE(at + 10) === 0xffff) return ipv4(d, at + 12);
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(d.readUInt16BE(at + i).toString(16));
  // The shortest form: the longest run of zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

const IPV6_EXTENSIONS = new Set([0, 43, 60]);

export function segmentOf(linkType: number, d: Buffer): Segment | null {
  const at = ipStart(linkType, d);
  if (at < 0 || d.length < at + 20) return null;
  const version = d[at]! >> 4;
  let src: string;
  let dst: string;
  let tcp: number;
  let end: number;
  if (version === 4) {
    const ihl = (d[at]! & 0x0f) * 4;
    const total = d.readUInt16BE(at + 2);
    const fragment = d.readUInt16BE(at + 6);
    if (d[at + 9] !== 6 || (fragment & 0x3fff) !== 0) return null; // not TCP, or a fragment
    src = ipv4(d, at + 12);
    dst = ipv4(d, at + 16);
    tcp = at + ihl;
    end = Math.min(d.length, at + (total || d.length - at));
  } else if (version === 6) {
    if (d.length < at + 40) return null;
    let next = d[at + 6]!;
    src = ipv6(d, at + 8);
    dst = ipv6(d, at + 24);
    tcp = at + 40;
    end = Math.min(d.length, at + 40 + d.readUInt16BE(at + 4));
    while (IPV6_EXTENSIONS.has(next) && tcp + 8 <= end) {
      next = d[tcp]!;
      tcp += (d[tcp + 1]! + 1) * 8;
    }
    if (next !== 6) return null;
  } else return null;
  if (tcp + 20 > end) return null;
  const dataOffset = (d[tcp + 12]! >> 4) * 4;
  if (dataOffset < 20 || tcp + dataOffset > end) return null;
  return {
    src,
    dst,
    srcPort: d.readUInt16BE(tcp),
    dstPort: d.readUInt16BE(tcp + 2),
    seq: d.readUInt32BE(tcp + 4),
    flags: d[tcp + 13]!,
    payload: d.subarray(tcp + dataOffset, end),
  };
}
