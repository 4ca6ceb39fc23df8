/**
 * TCP connections out of captured segments, each direction's bytes in sequence order.
 * Which side is the client: the one that sent the SYN; without the handshake in the
 * capture, the side not on a server port (else the higher port, ephemeral ports being
 * high). Segments ahead of what was expected wait for the hole to fill; retransmitted
 * and overlapping bytes are given once; a hole is declared lost (a `gap`) when the
 * receiver acknowledged past it, when too much waits behind it, or when the connection
 * ends. Knows nothing of PostgreSQL (a TLS layer may come between this and the codec).
 * Pure: segments in, events out.
 */
import type { Endpoint } from '../session/events.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Segment } from './tcp-segments.js';

export type Direction = 'frontend' | 'backend';

/** What the connections report, in capture order. `time`: the packet's (ms since the epoch). */
export type StreamEvent =
  /** A connection's first packet. `handshake`: its SYN (or SYN-ACK) is in the capture. `comment`: that packet's. */
  | { kind: 'open'; id: number; time: number; client: Endpoint; server: Endpoint; handshake: boolean; comment: string | null }
  | { kind: 'data'; id: number; time: number; direction: Direction; bytes: Buffer }
  /** `lost` bytes of this direction are not in the capture; what follows is data after them. */
  | { kind: 'gap'; id: number; time: number; direction: Direction; lost: number }
  /** `comment`: of the first FIN (or the RST) that carried one. */
  | { kind: 'close'; id: number; time: number; how: 'fin' | 'rst' | 'end'; comment: string | null }
  /** A retransmission whose bytes differ from the copy already given (`at`: the offset in this direction's stream); the first copy stands. */
  | { kind: 'conflict'; id: number; time: number; direction: Direction; at: number; length: number };

/** Bytes held behind a hole, per direction; beyond, the hole is declared lost. */
const MAX_HELD = 4 * 1024 * 1024;
/**
 * Bytes given lately, per direction, kept to compare retransmissions with: a ring, so that
 * each segment costs a copy of itself, not of the ring, and memory follows open connections
 * (a retransmission resends the latest bytes; older ones are not compared).
 */
const RECENT = 4 * 1024;

interface Held {
  seq: number;
  bytes: Buffer;
}

interface Side {
  /** The next sequence number expected; null until this side's first segment. */
  next: number | null;
  /** Segments ahead of `next`, in sequence order. */
  held: Held[];
  heldBytes: number;
  /** The sequence number of this side's FIN, once seen. */
  finAt: number | null;
  /** The last bytes given (at most RECENT) in a ring: byte i of the stream at i % RECENT; allocated at the first byte. */
  recent: Buffer | null;
  /** Bytes given in all: stream offsets for conflicts. */
  given: number;
}

interface Connection {
  id: number;
  /** The 4-tuple key of the client's segments. */
  clientKey: string;
  serverKey: string;
  sides: Record<Direction, Side>;
  /** The sequence number of the client's SYN: another SYN (not a retransmission) starts a new connection. */
  clientSyn: number | null;
  closeComment: string | null;
}

/** Signed difference of two 32-bit sequence numbers. */
const seqDiff = (a: number, b: number): number => (a - b) | 0;

const keyOf = (src: string, srcPort: number, dst: string, dstPort: number): string => `${src} ${srcPort} ${dst} ${dstPort}`;

const newSide = (): Side => ({ next: null, held: [], heldBytes: 0, finAt: null, recent: null, given: 0 });

const OTHER: Record<Direction, Direction> = { frontend: 'backend', backend: 'frontend' };

export class TcpStreams {
  private readonly byKey = new Map<string, Connection>();
  private nextId = 1;

  constructor(
    /** Without a handshake, a side on one of these ports is the server. */
    private readonly serverPorts: ReadonlySet<number>,
    private readonly emit: (ev: StreamEvent) => void,
  ) {}

  push(s: Segment, time: number, comment: string | null): void {
    const key = keyOf(s.src, s.srcPort, s.dst, s.dstPort);
    const syn = (s.flags & TCP_SYN) !== 0;
    let c = this.byKey.get(key);
    if (c && syn && !(s.flags & TCP_ACK) && !this.sameSyn(c, key, s.seq)) {
      // A new SYN (not a retransmitted one) on the same addresses and ports: a new connection.
      this.close(c, 'end', time, null);
      c = undefined;
    }
    if (!c) {
      // An ACK, FIN or RST of a connection whose data is not in the capture: nothing to read.
      if (!syn && s.payload.length === 0) return;
      c = this.open(s, key, time, comment);
    }
    const direction: Direction = key === c.clientKey ? 'frontend' : 'backend';
    const side = c.sides[direction];
    // A SYN takes one sequence number: its data (if any) starts after it.
    const seq = syn ? (s.seq + 1) >>> 0 : s.seq;
    side.next ??= seq;
    if (s.payload.length > 0) this.data(c, direction, side, seq, s.payload, time);
    if (s.flags & TCP_FIN) {
      side.finAt ??= (seq + s.payload.length) >>> 0;
      // pgscope writes why a connection ended on its first FIN.
      if (comment !== null) c.closeComment ??= comment;
    }
    if (s.flags & TCP_ACK) this.acknowledged(c, OTHER[direction], s.ack, time);
    if (s.flags & TCP_RST) this.close(c, 'rst', time, comment ?? c.closeComment);
    else if (this.complete(c)) this.close(c, 'fin', time, c.closeComment);
  }

  /** The capture ended: connections still open end, with what waited behind holes. */
  end(time: number): void {
    for (const c of new Set(this.byKey.values())) this.close(c, 'end', time, c.closeComment);
  }

  private open(s: Segment, key: string, time: number, comment: string | null): Connection {
    const back = keyOf(s.dst, s.dstPort, s.src, s.srcPort);
    const fromClient = this.sentByClient(s);
    const c: Connection = {
      id: this.nextId++,
      clientKey: fromClient ? key : back,
      serverKey: fromClient ? back : key,
      sides: { frontend: newSide(), backend: newSide() },
      clientSyn: s.flags & TCP_SYN && !(s.flags & TCP_ACK) ? s.seq : null,
      closeComment: null,
    };
    this.byKey.set(key, c);
    this.byKey.set(back, c);
    const src = { address: s.src, port: s.srcPort };
    const dst = { address: s.dst, port: s.dstPort };
    const handshake = (s.flags & TCP_SYN) !== 0;
    this.emit({ kind: 'open', id: c.id, time, client: fromClient ? src : dst, server: fromClient ? dst : src, handshake, comment });
    return c;
  }

  /** A client's SYN of this connection (retransmitted, or the first seen after its SYN-ACK), not one that starts another. */
  private sameSyn(c: Connection, key: string, seq: number): boolean {
    if (key !== c.clientKey) return false;
    if (c.clientSyn === null) {
      const next = c.sides.frontend.next;
      if (next !== null && next !== (seq + 1) >>> 0) return false;
      c.clientSyn = seq;
    }
    return c.clientSyn === seq;
  }

  private sentByClient(s: Segment): boolean {
    if (s.flags & TCP_SYN) return !(s.flags & TCP_ACK);
    const toServer = this.serverPorts.has(s.dstPort);
    if (toServer !== this.serverPorts.has(s.srcPort)) return toServer;
    return s.srcPort !== s.dstPort ? s.srcPort > s.dstPort : true;
  }

  private data(c: Connection, direction: Direction, side: Side, seq: number, payload: Buffer, time: number): void {
    const ahead = seqDiff(seq, side.next!);
    if (ahead > 0) {
      this.hold(side, seq, payload);
      if (side.heldBytes > MAX_HELD) this.skipHole(c, direction, side, time);
      return;
    }
    // Bytes already given (a retransmission, or its overlap with what came before): once is
    // enough, the first copy stands; a copy that differs is said (a broken capture or a middlebox).
    this.compare(c, direction, side, -ahead, payload, time);
    if (-ahead >= payload.length) return;
    this.give(c, direction, side, payload.subarray(-ahead), time);
    this.drain(c, direction, side, time);
  }

  private give(c: Connection, direction: Direction, side: Side, bytes: Buffer, time: number): void {
    side.next = (side.next! + bytes.length) >>> 0;
    side.recent ??= Buffer.allocUnsafe(RECENT);
    // Only the last RECENT bytes of a segment can stay in the ring.
    const from = Math.max(0, bytes.length - RECENT);
    for (let i = from, at = (side.given + from) % RECENT; i < bytes.length; ) {
      const n = Math.min(bytes.length - i, RECENT - at);
      bytes.copy(side.recent, at, i, i + n);
      i += n;
      at = 0;
    }
    side.given += bytes.length;
    this.emit({ kind: 'data', id: c.id, time, direction, bytes });
  }

  /** A segment starting `behind` bytes before `next`: do its bytes already given (as far as kept) agree? */
  private compare(c: Connection, direction: Direction, side: Side, behind: number, payload: Buffer, time: number): void {
    const ring = side.recent;
    // Older than what is kept: not compared.
    if (ring === null || behind > Math.min(RECENT, side.given)) return;
    const n = Math.min(payload.length, behind);
    const start = side.given - behind;
    for (let i = 0; i < n; i++) {
      if (ring[(start + i) % RECENT] !== payload[i]) {
        this.emit({ kind: 'conflict', id: c.id, time, direction, at: start, length: n });
        return;
      }
    }
  }

  /** Keep a segment that came before the bytes it follows: a copy, so that the file's chunk is not kept with it. */
  private hold(side: Side, seq: number, payload: Buffer): void {
    const base = side.next!;
    let i = side.held.length;
    while (i > 0 && seqDiff(side.held[i - 1]!.seq, base) > seqDiff(seq, base)) i--;
    const same = side.held[i - 1];
    if (same && same.seq === seq) {
      if (same.bytes.length >= payload.length) return;
      side.heldBytes += payload.length - same.bytes.length;
      same.bytes = Buffer.from(payload);
      return;
    }
    side.held.splice(i, 0, { seq, bytes: Buffer.from(payload) });
    side.heldBytes += payload.length;
  }

  /** Give what was held, as far as it follows on. */
  private drain(c: Connection, direction: Direction, side: Side, time: number): void {
    while (side.held.length > 0) {
      const h = side.held[0]!;
      const ahead = seqDiff(h.seq, side.next!);
      if (ahead > 0) return;
      side.held.shift();
      side.heldBytes -= h.bytes.length;
      if (-ahead < h.bytes.length) this.give(c, direction, side, h.bytes.subarray(-ahead), time);
    }
  }

  /** The bytes before the first held segment are lost: say so, and go on from it. */
  private skipHole(c: Connection, direction: Direction, side: Side, time: number): void {
    const first = side.held[0];
    if (!first) return;
    this.lost(c, direction, side, first.seq, time);
    this.drain(c, direction, side, time);
  }

  private lost(c: Connection, direction: Direction, side: Side, upTo: number, time: number): void {
    const lost = seqDiff(upTo, side.next!);
    if (lost <= 0) return;
    side.next = upTo;
    this.emit({ kind: 'gap', id: c.id, time, direction, lost });
  }

  /**
   * The receiver acknowledged `ack`: bytes before it that this capture lacks were sent and
   * received, only not captured. Decided only when something waits behind the hole: an
   * acknowledgement captured a little before the data it acknowledges is not a loss.
   */
  private acknowledged(c: Connection, direction: Direction, ack: number, time: number): void {
    const side = c.sides[direction];
    if (side.held.length === 0 || side.next === null || seqDiff(ack, side.next) <= 0) return;
    const first = side.held[0]!;
    this.lost(c, direction, side, seqDiff(first.seq, ack) <= 0 ? first.seq : ack, time);
    this.drain(c, direction, side, time);
  }

  /** Both sides sent their FIN, and every byte before each FIN was given. */
  private complete(c: Connection): boolean {
    const { frontend: f, backend: b } = c.sides;
    return f.finAt !== null && b.finAt !== null && f.next === f.finAt && b.next === b.finAt;
  }

  private close(c: Connection, how: 'fin' | 'rst' | 'end', time: number, comment: string | null): void {
    for (const direction of ['frontend', 'backend'] as const) {
      const side = c.sides[direction];
      while (side.held.length > 0) this.skipHole(c, direction, side, time);
    }
    // Forgotten at once: memory follows the connections open, not all there were.
    this.byKey.delete(c.clientKey);
    this.byKey.delete(c.serverKey);
    this.emit({ kind: 'close', id: c.id, time, how, comment });
  }
}
