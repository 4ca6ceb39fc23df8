import type { Direction } from '../../protocol/types.js';
import type { Endpoint, Label, ProxyEvent, Sink } from '../../session/events.js';
import { fmtHostPort } from '../../session/host-port.js';
import { mapToIpv6, parseIp, type IpAddress } from './address.js';
import {
  enhancedPacketBlock,
  IF_NAME,
  interfaceDescriptionBlock,
  LINKTYPE_ETHERNET,
  OPT_COMMENT,
  sectionHeaderBlock,
  SHB_USERAPPL,
  textOption,
} from './blocks.js';
import { BatchFlush } from '../batch-flush.js';
import { CLIENT_MAC, SERVER_MAC } from './packets.js';
import { MAX_HELD, Redactor } from './redactor.js';
import { TcpStream, type Side } from './tcp-stream.js';

/** Wireshark decodes PostgreSQL on this port only, so every server is shown on it. */
export const SERVER_PORT = 5432;

/** Output is handed to the writer in pieces of about this size, or FLUSH_MS after the first block of a piece, and at every flush(). */
const OUTPUT_CHUNK = 256 * 1024;
/**
 * Written at most this long after it happened, so that the file can be read while pgscope
 * runs (tshark, Wireshark's reload) and holds everything up to then if pgscope is killed.
 */
const FLUSH_MS = 200;

export interface PcapngOptions {
  /** --redact-passwords: secret fields (passwords, MD5 hashes, keys) overwritten with 'x'. */
  redact: boolean;
}

/** Where the file goes: `b` holds `blocks` whole blocks. `end` (optional) is called once, after the last write. */
export interface PcapngWriter {
  write(b: Buffer, blocks: number): void;
  end?(): void;
}

/** Labels of the client's own conversation; pgscope's separate exchanges with the server are not in the file. */
const CLIENT_LABELS: ReadonlySet<Label> = new Set<Label>(['client -> server', 'server -> client', 'client -> script', 'script -> client']);

interface Conn {
  id: number;
  openedAt: number;
  lastTime: number;
  client: Endpoint;
  local: Endpoint;
  stream: TcpStream | null;
  /** The 4-tuple the stream uses in the file, while it is open. */
  tuple: string | null;
  /** Bytes seen before the server is known (and with it the packets' destination). */
  queued: { side: Side; bytes: Buffer; time: number }[];
  queuedBytes: number;
  redactors: Record<Direction, Redactor> | null;
}

/**
 * --pcap: every connection's plaintext conversation as a synthetic TCP stream in a pcapng
 * file that Wireshark and tshark decode with no settings (docs/pcapng.md). Packets are
 * written as events arrive; a connection's first packets wait until its server is known.
 */
export class PcapngSink implements Sink {
  private readonly conns = new Map<number, Conn>();
  private readonly tuples = new Set<string>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;
  private readonly batch = new BatchFlush(() => this.flush(), FLUSH_MS, OUTPUT_CHUNK);

  constructor(
    private readonly out: PcapngWriter,
    private readonly opts: PcapngOptions,
  ) {
    const about =
      'Decrypted PostgreSQL conversations written by pgscope: each connection is a synthetic TCP stream ' +
      `between the real client and server addresses, with the server shown on port ${SERVER_PORT} so that ` +
      "Wireshark decodes PostgreSQL (the real port is in the comment of each connection's first packet)." +
      (opts.redact ? " Passwords redacted (--redact-passwords): secret fields are overwritten with 'x' bytes." : '');
    this.put(sectionHeaderBlock([textOption(SHB_USERAPPL, 'pgscope'), textOption(OPT_COMMENT, about)]));
    this.put(interfaceDescriptionBlock(LINKTYPE_ETHERNET, [textOption(IF_NAME, 'pgscope')]));
    this.maybeFlush();
  }

  write(ev: ProxyEvent): void {
    if (this.closed) return;
    if (ev.kind === 'connection') {
      if (ev.phase === 'opened') this.open(ev.conn, ev.time, ev.client, ev.local);
      const c = this.conns.get(ev.conn);
      if (!c) return;
      c.lastTime = Math.max(c.lastTime, ev.time);
      if (ev.phase === 'server-connected' && !c.stream) this.start(c, ev.remote, null);
      else if (ev.phase === 'closed') {
        const note = `pgscope connection #${c.id} closed: ${shortened(ev.reason)} (${ev.bytesFromClient} bytes from the client, ${ev.bytesFromServer} from the server)`;
        this.end(c, ev.time, note);
      }
    } else if (ev.kind === 'codec') {
      const r = this.conns.get(ev.conn)?.redactors;
      if (r && CLIENT_LABELS.has(ev.label)) this.observe(r, ev.event);
    } else if (ev.kind === 'wire') {
      const c = this.conns.get(ev.conn);
      if (!c) return;
      c.lastTime = Math.max(c.lastTime, ev.time);
      const side: Side = ev.direction === 'frontend' ? 'client' : 'server';
      const parts = c.redactors ? c.redactors[ev.direction].push(ev.offset, ev.bytes) : [ev.bytes];
      for (const p of parts) this.deliver(c, side, p, ev.time);
    }
  }

  flush(): void {
    this.batch.flushing();
    if (this.pendingBytes === 0) return;
    const b = Buffer.concat(this.pending, this.pendingBytes);
    const blocks = this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.out.write(b, blocks);
  }

  close(): void {
    if (this.closed) return;
    for (const c of [...this.conns.values()]) this.end(c, c.lastTime, `pgscope connection #${c.id}: still open when pgscope stopped writing this file`);
    this.closed = true;
    this.flush();
    this.out.end?.();
  }

  private open(id: number, time: number, client: Endpoint, local: Endpoint): void {
    const redactors = this.opts.redact ? { frontend: new Redactor(), backend: new Redactor() } : null;
    this.conns.set(id, { id, openedAt: time, lastTime: time, client, local, stream: null, tuple: null, queued: [], queuedBytes: 0, redactors });
  }

  /** Tell the redactors which bytes are complete messages, and where their secrets are. */
  private observe(r: Record<Direction, Redactor>, ev: Extract<ProxyEvent, { kind: 'codec' }>['event']): void {
    if (ev.kind === 'message') {
      const f = ev.message.frame;
      // TLS records are of a separate stream (a direct-TLS ClientHello), answers are not in the wire bytes.
      if (f.kind === 'message' || f.kind === 'startup') r[f.direction].message(ev.message);
    } else if (ev.kind === 'unparsed') {
      r[ev.direction].cover(ev.offset + ev.length);
    } else if (ev.kind === 'message-start' && !(ev.direction === 'frontend' && ev.type === 'p')) {
      // A huge message that is not a password message carries no secret: no need to hold it back.
      r[ev.direction].cover(ev.offset + ev.size);
    }
  }

  private deliver(c: Conn, side: Side, bytes: Buffer, time: number): void {
    if (c.stream) {
      c.stream.send(side, bytes, time);
      this.maybeFlush();
      return;
    }
    c.queued.push({ side, bytes, time });
    c.queuedBytes += bytes.length;
    // Bounded: a server that takes long to connect does not make us hold a client's flood.
    if (c.queuedBytes > MAX_HELD) this.start(c, null, 'the server was not connected yet');
  }

  /** Write the handshake (and what waited for it). `server` null: shown at pgscope's own address. */
  private start(c: Conn, server: Endpoint | null, whyNoServer: string | null): void {
    const notes: string[] = [];
    const serverEnd = server ?? c.local;
    let clientIp = ipOrNote(c.client.address, 'client', notes);
    let serverIp = ipOrNote(serverEnd.address, 'server', notes);
    if (clientIp.bytes.length !== serverIp.bytes.length) {
      // One IP header cannot mix families: the IPv4 end is written as IPv4-mapped IPv6.
      const v4 = clientIp.bytes.length === 4 ? 'client' : 'server';
      if (v4 === 'client') clientIp = mapToIpv6(clientIp);
      else serverIp = mapToIpv6(serverIp);
      notes.push(`the ${v4}'s IPv4 address is shown as ${v4 === 'client' ? clientIp.text : serverIp.text} because the other end is IPv6`);
    }
    const port = this.clientPort(clientIp, c.client.port, serverIp);
    if (port !== c.client.port) {
      const why = c.client.port === SERVER_PORT ? `${SERVER_PORT} is the server's port in this file` : 'another open connection in this file has the same addresses and port';
      notes.push(`client port ${c.client.port} shown as ${port} (${why})`);
    }
    c.tuple = tupleKey(clientIp, port, serverIp);
    this.tuples.add(c.tuple);

    const where = server
      ? `server ${fmtHostPort(serverIp.text, server.port)}`
      : `no server (${whyNoServer ?? 'the connection ended before one was connected'}): shown at pgscope's own address ${fmtHostPort(serverIp.text, serverEnd.port)}`;
    const comment =
      `pgscope connection #${c.id}: ${where} (shown as port ${SERVER_PORT} so that Wireshark decodes PostgreSQL)` +
      notes.map((n) => `; ${n}`).join('');
    // Fixed per connection, so the same events always give the same file.
    const isn = Math.imul(c.id + 1, 0x9e3779b1) >>> 0;
    c.stream = new TcpStream(
      { client: { mac: CLIENT_MAC, ip: clientIp.bytes, port }, server: { mac: SERVER_MAC, ip: serverIp.bytes, port: SERVER_PORT } },
      { client: isn, server: (isn ^ 0x5bd1e995) >>> 0 },
      (frame, time, note) => this.packet(frame, time, note),
    );
    c.stream.open(c.openedAt, comment);
    for (const q of c.queued) c.stream.send(q.side, q.bytes, q.time);
    c.queued = [];
    c.queuedBytes = 0;
    this.maybeFlush();
  }

  /** Release what is held, then FIN both ways. A connection that carried no bytes and never reached a server is left out. */
  private end(c: Conn, time: number, note: string): void {
    if (c.redactors) {
      for (const dir of ['frontend', 'backend'] as const) {
        for (const p of c.redactors[dir].drain()) this.deliver(c, dir === 'frontend' ? 'client' : 'server', p, time);
      }
    }
    if (!c.stream && c.queuedBytes > 0) this.start(c, null, null);
    c.stream?.close(time, note);
    if (c.tuple) this.tuples.delete(c.tuple);
    this.conns.delete(c.id);
    this.maybeFlush();
  }

  /** The real client port unless it is 5432 or another open stream has the same 4-tuple. */
  private clientPort(clientIp: IpAddress, real: number, serverIp: IpAddress): number {
    const taken = (p: number): boolean => p === SERVER_PORT || this.tuples.has(tupleKey(clientIp, p, serverIp));
    let p = real;
    while (taken(p)) p = p >= 65535 ? 1024 : p + 1;
    return p;
  }

  private packet(frame: Buffer, time: number, comment?: string): void {
    const micros = Math.max(0, Math.round(time * 1000));
    this.put(enhancedPacketBlock(0, micros, frame, comment ? [textOption(OPT_COMMENT, comment)] : []));
  }

  private put(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
  }

  /** After blocks were put: written at once when a piece is full, else within FLUSH_MS. */
  private maybeFlush(): void {
    if (this.pendingBytes > 0) this.batch.added(this.pendingBytes);
  }
}

/**
 * What stands where blocks were dropped because the file's reader fell behind (a FIFO read
 * by Wireshark): an empty packet whose comment says how many blocks are missing, so the gap
 * shows in Wireshark's packet list instead of only as TCP segments not captured.
 */
export function pcapngGapMarker(blocks: number, time: number): Buffer {
  const comment = `pgscope: ${blocks} block${blocks === 1 ? '' : 's'} dropped here: the reader of this capture fell behind (pgscope never makes traffic wait for its outputs; --lossless waits instead)`;
  return enhancedPacketBlock(0, Math.max(0, Math.round(time * 1000)), Buffer.alloc(0), [textOption(OPT_COMMENT, comment)]);
}

/** Most characters of a reason in a packet comment (a close reason may quote a long server message). */
export const MAX_REASON_CHARS = 200;

function shortened(text: string): string {
  if (text.length <= MAX_REASON_CHARS) return text;
  // Do not split a surrogate pair.
  let end = MAX_REASON_CHARS - 1;
  if (/[\ud800-\udbff]/.test(text[end - 1]!)) end--;
  return `${text.slice(0, end)}…`;
}

function tupleKey(clientIp: IpAddress, port: number, serverIp: IpAddress): string {
  return `${clientIp.text} ${port} ${serverIp.text}`;
}

/** The address parsed, or loopback with a note when it is not an IP address. */
function ipOrNote(address: string, who: string, notes: string[]): IpAddress {
  const ip = parseIp(address);
  if (ip) return ip;
  notes.push(`the ${who}'s address ${JSON.stringify(address)} is not an IP address, shown as 127.0.0.1`);
  return { bytes: Buffer.from([127, 0, 0, 1]), text: '127.0.0.1' };
}
