import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as it goes into packet headers, and as comments show it. */
export interface IpAddress {
  bytes: Buffer; // 4 (IPv4) or 16 (IPv6) bytes
  text: string;
}

/**
 * Parse a socket address as Node reports it. IPv4-mapped IPv6 (::ffff:127.0.0.1, what a
 * dual-stack listener reports for IPv4 clients) becomes plain IPv4, so that both ends of a
 * connection usually share a family. A zone (fe80::1%eth0) is dropped: IP headers have
 * none. Returns null for anything that is not an IP address.
 */
export function parseIp(address: string): IpAddress | null {
  const a = address.split('%')[0] ?? '';
  if (isIPv4(a)) return { bytes: Buffer.from(a.split('.').map(Number)), text: a };
  if (!isIPv6(a)) return null;
  const bytes = ipv6Bytes(a);
  if (bytes.subarray(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    const v4 = bytes.subarray(12);
    return { bytes: Buffer.from(v4), text: Array.from(v4).join('.') };
  }
  return { bytes, text: a };
}

/** `a` must already be valid IPv6 (net.isIPv6). */
function ipv6Bytes(a: string): Buffer {
  let text = a;
  // A dotted IPv4 tail (::ffff:1.2.3.4, ::1.2.3.4) is the last two 16-bit groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [p, q, r, s] = tail.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, tail.index) + ((p << 8) | q).toString(16) + ':' + ((r << 8) | s).toString(16);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

/** An IPv4 address written as IPv4-mapped IPv6, for a connection whose other end is IPv6. */
export function mapToIpv6(ip: IpAddress): IpAddress {
  if (ip.bytes.length === 16) return ip;
  return { bytes: Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), ip.bytes]), text: `::ffff:${ip.text}` };
}
