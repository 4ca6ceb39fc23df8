/**
 * A large classic pcap of real PostgreSQL traffic, for the capture-reading benchmark
 * (bench/capture-read.ts).
 *
 * `recordPgTraffic()` starts a real server (plaintext, SCRAM), captures the loopback with
 * tcpdump while a mixed workload runs (pgbench -i's COPY FROM, pgbench -S simple and
 * prepared, a TPC-B-like run, a COPY TO STDOUT of a few MB, a generate_series SELECT),
 * and stops both. `inflateCapture()` then writes that capture's records out again and
 * again until the file reaches the size asked for: each repetition with the client ports
 * moved to ports no earlier repetition used and the timestamps moved past the previous
 * repetition, so every repetition's connections are new connections to the reader (same
 * server port, same bytes; TCP/IP checksums are not recomputed: pgscope does not check
 * them). Recording once and repeating keeps the traffic real without a 1 GB workload.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clientBin, cleanEnv, startPgServer, type PgServer } from '../../test/helpers/pg-server.js';
import { run } from '../../test/helpers/proc.js';

type Log = (line: string) => void;

export interface RecordedCapture {
  file: string;
  serverPort: number;
  bytes: number;
  /** "N packets captured, M dropped by kernel" as tcpdump said it. */
  tcpdumpSummary: string;
}

export interface InflatedCapture {
  file: string;
  bytes: number;
  packets: number;
  /** How many times the recording was written (fractional: the last one is cut at the size asked for). */
  repetitions: number;
  /** TCP connections in one repetition (distinct client ports). */
  connectionsPerRepetition: number;
}

const TCPDUMP = '/usr/bin/tcpdump';
/** Seconds pgbench runs per workload step: enough for tens of thousands of small messages. */
const PGBENCH_SECONDS = 3;
const MAX_ATTEMPTS = 3;

// ---------------------------------------------------------------- recording

/** Run a mixed workload against a fresh server while tcpdump captures it into DIR/recorded.pcap. */
export async function recordPgTraffic(dir: string, log: Log, track: (c: ChildProcess) => void): Promise<RecordedCapture> {
  const file = join(dir, 'recorded.pcap');
  log('starting PostgreSQL (plaintext, scram-sha-256)');
  const server = await startPgServer({ version: 15, ssl: false });
  try {
    // A dropped packet is a hole in a connection, and the reader stops decoding that side
    // of it: a lossy capture would be read faster than a real one. Try again instead.
    for (let attempt = 1; ; attempt++) {
      const dump = await startTcpdump(file, server.port, track);
      try {
        await workload(server, log);
      } catch (e) {
        await dump.stop();
        throw e;
      }
      // SIGINT makes tcpdump flush and print its counts; only then is the file complete.
      const counts = await dump.stop();
      const summary = `${counts.captured} packets captured, ${counts.dropped} dropped by kernel`;
      if (counts.dropped === 0 || attempt === MAX_ATTEMPTS) return { file, serverPort: server.port, bytes: statSync(file).size, tcpdumpSummary: summary };
      log(`  tcpdump: ${summary}; recording again (attempt ${attempt + 1} of ${MAX_ATTEMPTS})`);
    }
  } finally {
    await server.stop();
  }
}

/** The traffic: bulk COPY both ways, many small simple and extended-protocol queries, a wide SELECT. */
async function workload(server: PgServer, log: Log): Promise<void> {
  const env = cleanEnv(server.clientEnv);
  const conn = ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres'];
  const pgbench = async (args: string[]): Promise<void> => {
    log(`  pgbench ${args.join(' ')}`);
    await run(clientBin('pgbench'), [...args, ...conn, 'postgres'], { env, timeoutMs: 120_000 });
  };
  await pgbench(['-i', '-q', '-s', '1']);
  await pgbench(['-n', '-S', '-c', '4', '-j', '2', '-T', String(PGBENCH_SECONDS)]);
  await pgbench(['-n', '-S', '-M', 'prepared', '-c', '2', '-T', String(PGBENCH_SECONDS)]);
  await pgbench(['-n', '-M', 'extended', '-c', '2', '-T', String(PGBENCH_SECONDS)]);
  log('  psql COPY pgbench_accounts TO STDOUT');
  await server.psqlRun('COPY pgbench_accounts TO STDOUT', [], { timeoutMs: 120_000 });
  log('  psql SELECT generate_series');
  await server.psqlRun("SELECT i, md5(i::text), now() FROM generate_series(1, 100000) i", [], { timeoutMs: 120_000 });
}

interface RunningTcpdump {
  stop(): Promise<{ captured: number; dropped: number }>;
}

/** tcpdump on lo for one port; resolves once it is capturing ("listening on lo"). */
async function startTcpdump(file: string, port: number, track: (c: ChildProcess) => void): Promise<RunningTcpdump> {
  // Against drops on 2 loaded cores: a 64 MiB ring (-B, KiB), no --immediate-mode (packets
  // come in blocks, not one wake-up each), and a higher priority than the workload (nice
  // execs tcpdump in place, so the child's pid is tcpdump's for the SIGINT).
  const args = ['-n', '-10', TCPDUMP, '-i', 'lo', '-U', '-B', '65536', '-s', '0', '-Z', 'root', '-w', file, `tcp port ${port}`];
  const child = spawn('nice', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  track(child);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', (e) => (err += `\n${e.message}`));
  const until = Date.now() + 30_000;
  while (!/listening on lo\b/.test(err)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`tcpdump did not start (it needs root): nice ${args.join(' ')}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    async stop() {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
      const count = (re: RegExp): number => Number(re.exec(err)?.[1] ?? NaN);
      return { captured: count(/(\d+) packets? captured/), dropped: count(/(\d+) packets? dropped by kernel/) };
    },
  };
}

// ---------------------------------------------------------------- classic pcap records

interface PcapLayout {
  littleEndian: boolean;
  linkType: number;
}

/** Where, in one record of the body, the fields a repetition rewrites are. */
interface RecordPatch {
  /** Offset of the record's ts_sec. */
  tsAt: number;
  /** Offset of the client-side TCP port (source or destination), or -1 for a packet not to or from the server port. */
  portAt: number;
  /** Index of the original client port among the distinct ones (0..n-1). */
  portIndex: number;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const LINKTYPE_ETHERNET = 1;
const PCAP_HEADER = 24;
const RECORD_HEADER = 16;

function pcapLayout(buf: Buffer): PcapLayout {
  const le = buf.readUInt32LE(0);
  const be = buf.readUInt32BE(0);
  const isMagic = (m: number): boolean => m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  if (!isMagic(le) && !isMagic(be)) throw new Error(`not a classic pcap file: magic ${buf.subarray(0, 4).toString('hex')}`);
  const littleEndian = isMagic(le);
  const linkType = (littleEndian ? buf.readUInt32LE(20) : buf.readUInt32BE(20)) & 0xffff;
  if (linkType !== LINKTYPE_ETHERNET) throw new Error(`link type ${linkType}: only Ethernet (tcpdump -i lo) is rewritten`);
  return { littleEndian, linkType };
}

/** Offset of the TCP header in an Ethernet frame, or -1 when the frame is not TCP over IP. */
function tcpOffset(frame: Buffer): number {
  if (frame.length < 14 + 40) return -1;
  const type = frame.readUInt16BE(12);
  if (type === ETHERTYPE_IPV4 && frame[14 + 9] === 6) return 14 + (frame[14]! & 0x0f) * 4;
  if (type === ETHERTYPE_IPV6 && frame[14 + 6] === 6) return 14 + 40; // no extension headers on loopback
  return -1;
}

/** Every record's patch points, the client ports numbered in order of first appearance. */
function recordPatches(body: Buffer, layout: PcapLayout, serverPort: number): { patches: RecordPatch[]; clientPorts: number } {
  const u32 = (at: number): number => (layout.littleEndian ? body.readUInt32LE(at) : body.readUInt32BE(at));
  const ports = new Map<number, number>();
  const patches: RecordPatch[] = [];
  let at = 0;
  while (at + RECORD_HEADER <= body.length) {
    const caplen = u32(at + 8);
    const frameAt = at + RECORD_HEADER;
    if (frameAt + caplen > body.length) throw new Error(`pcap record at byte ${PCAP_HEADER + at} is cut short`);
    const tcp = tcpOffset(body.subarray(frameAt, frameAt + caplen));
    let portAt = -1;
    let portIndex = 0;
    if (tcp >= 0 && tcp + 4 <= caplen) {
      const src = body.readUInt16BE(frameAt + tcp);
      const dst = body.readUInt16BE(frameAt + tcp + 2);
      if (src === serverPort || dst === serverPort) {
        portAt = frameAt + tcp + (src === serverPort ? 2 : 0);
        const client = src === serverPort ? dst : src;
        if (!ports.has(client)) ports.set(client, ports.size);
        portIndex = ports.get(client)!;
      }
    }
    patches.push({ tsAt: at, portAt, portIndex });
    at = frameAt + caplen;
  }
  return { patches, clientPorts: ports.size };
}

/** Seconds from the first record's timestamp to the last's, rounded up. */
function spanSeconds(body: Buffer, layout: PcapLayout, patches: RecordPatch[]): number {
  if (!patches.length) return 0;
  const sec = (p: RecordPatch): number => (layout.littleEndian ? body.readUInt32LE(p.tsAt) : body.readUInt32BE(p.tsAt));
  return sec(patches[patches.length - 1]!) - sec(patches[0]!) + 1;
}

/**
 * The client port of repetition `rep` for the client port numbered `index`: every
 * (repetition, connection) pair gets its own port in 1024..65535 minus the server port,
 * until 64 000 of them are used (then ports are reused by connections long closed).
 */
function clientPort(rep: number, index: number, perRep: number, serverPort: number): number {
  const slot = (rep * perRep + index) % (65536 - 1024 - 1);
  const port = 1024 + slot;
  return port >= serverPort ? port + 1 : port;
}

// ---------------------------------------------------------------- inflating

/**
 * Write `src`'s records to `dst` repeatedly, ports and timestamps shifted per repetition,
 * until `dst` holds `targetBytes` (rounded up to a whole record). The last repetition is
 * cut there, its connections left open at the end of the file as in any capture stopped
 * while the traffic went on; a whole last repetition would overshoot by up to its size.
 */
export async function inflateCapture(src: string, dst: string, serverPort: number, targetBytes: number, log: Log): Promise<InflatedCapture> {
  const buf = readFileSync(src);
  const layout = pcapLayout(buf);
  const body = buf.subarray(PCAP_HEADER);
  const { patches, clientPorts } = recordPatches(body, layout, serverPort);
  if (!patches.length) throw new Error(`${src}: no packets were captured`);
  const shift = spanSeconds(body, layout, patches) + 1;
  const out = createWriteStream(dst, { highWaterMark: 4 * 1024 * 1024 });
  const closed = new Promise<void>((resolve, reject) => {
    out.once('close', resolve);
    out.once('error', reject);
  });
  let bytes = PCAP_HEADER;
  let packets = 0;
  let rep = 0;
  await write(out, buf.subarray(0, PCAP_HEADER));
  while (bytes < targetBytes) {
    const records = recordsUpTo(patches, body.length, targetBytes - bytes);
    const copy = repetition(body, layout, patches.slice(0, records.count), rep, { shift, clientPorts, serverPort });
    await write(out, copy.subarray(0, records.bytes));
    bytes += records.bytes;
    packets += records.count;
    rep++;
    if (rep % 5 === 0) log(`  ${rep} repetitions, ${(bytes / 2 ** 20).toFixed(0)} MiB`);
  }
  out.end();
  await closed;
  return { file: dst, bytes, packets, repetitions: packets / patches.length, connectionsPerRepetition: clientPorts };
}

/** The fewest leading records that hold at least `want` bytes (all of them when the body is smaller). */
function recordsUpTo(patches: RecordPatch[], bodyBytes: number, want: number): { count: number; bytes: number } {
  if (want >= bodyBytes) return { count: patches.length, bytes: bodyBytes };
  let lo = 0;
  let hi = patches.length - 1;
  // Binary search for the first record that ends at or past `want` (record i ends where i+1 starts).
  const end = (i: number): number => (i + 1 < patches.length ? patches[i + 1]!.tsAt : bodyBytes);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (end(mid) >= want) hi = mid;
    else lo = mid + 1;
  }
  return { count: lo + 1, bytes: end(lo) };
}

/** One repetition (of the first `patches.length` records): a copy of the records, patched in place (a copy and a few writes per packet: fast). */
function repetition(body: Buffer, layout: PcapLayout, patches: RecordPatch[], rep: number, o: { shift: number; clientPorts: number; serverPort: number }): Buffer {
  const copy = Buffer.from(body);
  const delta = rep * o.shift;
  const ports = Array.from({ length: o.clientPorts }, (_, i) => clientPort(rep, i, o.clientPorts, o.serverPort));
  for (const p of patches) {
    if (layout.littleEndian) copy.writeUInt32LE((copy.readUInt32LE(p.tsAt) + delta) >>> 0, p.tsAt);
    else copy.writeUInt32BE((copy.readUInt32BE(p.tsAt) + delta) >>> 0, p.tsAt);
    if (p.portAt >= 0) copy.writeUInt16BE(ports[p.portIndex]!, p.portAt);
  }
  return copy;
}

/** Write with back-pressure, so that at most one repetition is buffered. */
function write(out: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = out.write(chunk, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else out.once('drain', resolve);
  });
}
