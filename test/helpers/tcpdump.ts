/**
 * tcpdump for end-to-end tests of `pgscope read` and `pgscope sniff`: a real capture of
 * real traffic on the loopback interface, and a small classic-pcap rewriter to damage a
 * real capture the way networks and capture points do (segments reordered, duplicated,
 * lost; a capture started in the middle of a connection).
 *
 * `startTcpdump()` runs `tcpdump -i lo --immediate-mode -B 65536 -U -s 0 -Z root -w FILE
 * 'tcp port P1 or …'` (without --immediate-mode, packets still in the kernel's ring when
 * tcpdump gets SIGINT are never written: a short capture can end up empty) and
 * resolves once tcpdump says "listening on lo" (it prints that after the capture is
 * active and its filter set: packets from then on are in the file). `stop()` sends SIGINT
 * and waits for tcpdump to exit, which flushes the file; it resolves to the packet counts
 * tcpdump prints. A process 'exit' handler kills any tcpdump a failing test left running.
 *
 * Capturing needs root (or CAP_NET_RAW): the tests run as root. `-Z root` keeps tcpdump
 * from switching to the `tcpdump` user, who could not write into a 0700 temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface TcpdumpStats {
  /** "N packets captured" */
  captured: number;
  /** "N packets received by filter" */
  received: number;
  /** "N packets dropped by kernel": the capture is not complete when this is not 0. */
  droppedByKernel: number;
}

export interface Tcpdump {
  readonly file: string;
  readonly child: ChildProcess;
  /** Everything tcpdump wrote to standard error so far. */
  stderr(): string;
  /** SIGINT, wait for the exit (SIGKILL after 15 s); the file is complete once this resolves. */
  stop(): Promise<TcpdumpStats>;
}

export interface TcpdumpOptions {
  /** Interface (default lo). */
  iface?: string;
  /** How long to wait for "listening on" (default 30 s). */
  timeoutMs?: number;
}

/**
 * The kernel's capture buffer (-B, KiB). tcpdump's default (2 MiB) drops packets when a
 * 200 kB result crosses loopback twice (both legs) in 64 kB frames while tcpdump writes.
 */
const BUFFER_KIB = 64 * 1024;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** The tcpdump binary (PATH, then /usr/sbin and /usr/bin); throws saying how to install it. */
export function tcpdumpBin(): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    const p = join(d, 'tcpdump');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  throw new Error('tcpdump is not installed (the capture tests need it): apt-get install tcpdump');
}

/** Start capturing TCP traffic on these ports into `file` (classic pcap); resolves once tcpdump is really capturing. */
export async function startTcpdump(file: string, ports: number[], opts: TcpdumpOptions = {}): Promise<Tcpdump> {
  if (ports.length === 0) throw new Error('startTcpdump: no port to capture');
  const iface = opts.iface ?? 'lo';
  const bin = tcpdumpBin();
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
  const child = spawn(bin, ['-i', iface, '--immediate-mode', '-B', String(BUFFER_KIB), '-U', '-s', '0', '-Z', 'root', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (e) => {
      err += `\n${bin}: ${e.message}`;
    });
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ready = await new Promise<boolean>((resolve) => {
    const until = Date.now() + timeoutMs;
    const poll = (): void => {
      if (new RegExp(`listening on ${iface}\\b`).test(err)) return resolve(true);
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > until) return resolve(false);
      setTimeout(poll, 20);
    };
    poll();
    void exited.then(() => setTimeout(() => resolve(new RegExp(`listening on ${iface}\\b`).test(err)), 50));
  });
  const stop = async (): Promise<TcpdumpStats> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    } else await exited;
    const count = (re: RegExp): number => Number(re.exec(err)?.[1] ?? NaN);
    return {
      captured: count(/(\d+) packets? captured/),
      received: count(/(\d+) packets? received by filter/),
      droppedByKernel: count(/(\d+) packets? dropped by kernel/),
    };
  };
  if (!ready) {
    await stop();
    throw new Error(`tcpdump did not start capturing on ${iface} within ${timeoutMs} ms (it must run as root): ${bin} -i ${iface} -w ${file} '${filter}'\n--- stderr ---\n${err}`);
  }
  return { file, child, stderr: () => err, stop };
}

// ---------------------------------------------------------------- classic pcap, read and rewritten

/** One record of a classic pcap file, its TCP segment found (Ethernet or raw IPv4/IPv6). */
export interface PcapPacket {
  /** Index in the original file (0-based). */
  index: number;
  /** Seconds and the sub-second part, as in the file (µs or ns). */
  tsSec: number;
  tsFrac: number;
  /** Original length on the wire. */
  origLen: number;
  /** The captured frame. */
  data: Buffer;
  /** The TCP segment inside, or null when it is not TCP over IP. */
  tcp: {
    src: string;
    dst: string;
    srcPort: number;
    dstPort: number;
    seq: number;
    ack: number;
    flags: number;
    /** Where the payload starts in `data`, and its length. */
    payloadAt: number;
    payloadLength: number;
  } | null;
}

export interface PcapFile {
  /** The 24-byte file header, kept as it was. */
  header: Buffer;
  littleEndian: boolean;
  linkType: number;
  packets: PcapPacket[];
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;

/** Parse a classic pcap file (what tcpdump -w writes). */
export function parsePcap(buf: Buffer): PcapFile {
  if (buf.length < 24) throw new Error(`not a pcap file: ${buf.length} bytes`);
  const magicLe = buf.readUInt32LE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`not a classic pcap file: magic ${buf.subarray(0, 4).toString('hex')}`);
  const u32 = (at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;
  const packets: PcapPacket[] = [];
  let at = 24;
  while (at + 16 <= buf.length) {
    const caplen = u32(at + 8);
    if (at + 16 + caplen > buf.length) throw new Error(`pcap record ${packets.length + 1} at byte ${at} is cut short`);
    const data = Buffer.from(buf.subarray(at + 16, at + 16 + caplen));
    packets.push({ index: packets.length, tsSec: u32(at), tsFrac: u32(at + 4), origLen: u32(at + 12), data, tcp: tcpOf(linkType, data) });
    at += 16 + caplen;
  }
  if (at !== buf.length) throw new Error(`pcap file has ${buf.length - at} bytes after its last record`);
  return { header: Buffer.from(buf.subarray(0, 24)), littleEndian: le, linkType, packets };
}

/** Write packets back as a classic pcap file with the original header. */
export function writePcap(file: PcapFile, packets: PcapPacket[] = file.packets): Buffer {
  const parts: Buffer[] = [file.header];
  for (const p of packets) {
    const h = Buffer.alloc(16);
    const w = (v: number, at: number): void => {
      if (file.littleEndian) h.writeUInt32LE(v >>> 0, at);
      else h.writeUInt32BE(v >>> 0, at);
    };
    w(p.tsSec, 0);
    w(p.tsFrac, 4);
    w(p.data.length, 8);
    w(p.origLen, 12);
    parts.push(h, p.data);
  }
  return Buffer.concat(parts);
}

function tcpOf(linkType: number, d: Buffer): PcapPacket['tcp'] {
  let ip: number;
  if (linkType === 1) {
    if (d.length < 14) return null;
    const type = d.readUInt16BE(12);
    if (type !== 0x0800 && type !== 0x86dd) return null;
    ip = 14;
  } else if (linkType === 101 || linkType === 12 || linkType === 14) ip = 0;
  else if (linkType === 113) ip = 16;
  else if (linkType === 276) ip = 20;
  else return null;
  if (d.length < ip + 20) return null;
  const version = d[ip]! >> 4;
  let src: string;
  let dst: string;
  let tcp: number;
  let end: number;
  if (version === 4) {
    if (d[ip + 9] !== 6) return null;
    tcp = ip + (d[ip]! & 0x0f) * 4;
    end = ip + d.readUInt16BE(ip + 2);
    src = [...d.subarray(ip + 12, ip + 16)].join('.');
    dst = [...d.subarray(ip + 16, ip + 20)].join('.');
  } else if (version === 6) {
    if (d[ip + 6] !== 6) return null; // no extension headers on loopback
    tcp = ip + 40;
    end = tcp + d.readUInt16BE(ip + 4);
    const six = (at: number): string => Array.from({ length: 8 }, (_, i) => d.readUInt16BE(at + 2 * i).toString(16)).join(':');
    src = six(ip + 8);
    dst = six(ip + 24);
  } else return null;
  if (d.length < tcp + 20) return null;
  const payloadAt = tcp + (d[tcp + 12]! >> 4) * 4;
  return {
    src,
    dst,
    srcPort: d.readUInt16BE(tcp),
    dstPort: d.readUInt16BE(tcp + 2),
    seq: d.readUInt32BE(tcp + 4),
    ack: d.readUInt32BE(tcp + 8),
    flags: d[tcp + 13]!,
    payloadAt,
    payloadLength: Math.max(0, Math.min(end, d.length) - payloadAt),
  };
}

/** The TCP payload of a packet (empty when none). */
export function payloadOf(p: PcapPacket): Buffer {
  return p.tcp ? p.data.subarray(p.tcp.payloadAt, p.tcp.payloadAt + p.tcp.payloadLength) : Buffer.alloc(0);
}

/** True when the packet belongs to the TCP connection between these two ports (either direction). */
export function inConnection(p: PcapPacket, portA: number, portB: number): boolean {
  const t = p.tcp;
  return !!t && ((t.srcPort === portA && t.dstPort === portB) || (t.srcPort === portB && t.dstPort === portA));
}

/**
 * A data segment cut in two at `at` bytes of its payload: two packets as the sender could
 * have sent them (sequence numbers, IP lengths; checksums are left as they were, pgscope
 * does not check them). IPv4 or IPv6 over any link layer tcpOf reads.
 */
export function splitSegment(p: PcapPacket, at: number): [PcapPacket, PcapPacket] {
  const t = p.tcp;
  if (!t || at <= 0 || at >= t.payloadLength) throw new Error(`cannot split a segment of ${t?.payloadLength ?? 0} bytes at ${at}`);
  const headers = p.data.subarray(0, t.payloadAt);
  const payload = p.data.subarray(t.payloadAt, t.payloadAt + t.payloadLength);
  const ipAt = headers.length - (t.payloadAt - ipStartOf(p.data, t.payloadAt));
  const make = (part: Buffer, seq: number): PcapPacket => {
    const data = Buffer.concat([headers, part]);
    const version = data[ipAt]! >> 4;
    if (version === 4) data.writeUInt16BE(t.payloadAt - ipAt + part.length, ipAt + 2);
    else data.writeUInt16BE(t.payloadAt - ipAt - 40 + part.length, ipAt + 4);
    const tcpAt = tcpStartOf(data, ipAt);
    data.writeUInt32BE(seq >>> 0, tcpAt + 4);
    return { ...p, data, origLen: data.length, tcp: { ...t, seq: seq >>> 0, payloadLength: part.length } };
  };
  return [make(payload.subarray(0, at), t.seq), make(payload.subarray(at), t.seq + at)];
}

/** Where the IP header starts, found back from the TCP payload's position (Ethernet, raw IP, SLL, SLL2). */
function ipStartOf(d: Buffer, payloadAt: number): number {
  for (const ip of [14, 0, 16, 20]) {
    if (ip >= payloadAt || d.length < ip + 20) continue;
    const v = d[ip]! >> 4;
    if (v === 4 && d[ip + 9] === 6) return ip;
    if (v === 6 && d[ip + 6] === 6) return ip;
  }
  throw new Error('no IP header found');
}

function tcpStartOf(d: Buffer, ip: number): number {
  return d[ip]! >> 4 === 4 ? ip + (d[ip]! & 0x0f) * 4 : ip + 40;
}
