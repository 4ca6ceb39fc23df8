/**
 * TCP connections out of segments: which side is the client (the one that sent the SYN;
 * without a handshake in the capture, the side whose port is not the server port), and
 * each direction's bytes in sequence order: out-of-order segments wait for the gap to
 * fill, retransmitted bytes are given once, and a gap that never fills is skipped with a
 * note (the bytes are lost to this capture). Pure.
 */
import { FIN, RST, SYN, type Segment } from './tcp-segments.js';

/** The ACK flag: a SYN with it answers one (the server's side of the handshake). */
const ACK = 0x10;

export type Direction = 'frontend' | 'backend';

/** What the streams report, in capture order. */
export type StreamEvent =
  | { kind: 'open'; id: number; ts: number; client: { address: string; port: number }; server: { address: string; port: number }; comment: string | null }
  | { kind: 'data'; id: number; ts: number; direction: Direction; bytes: Buffer }
  | { kind: 'close'; id: number; ts: number; how: 'fin' | 'rst' | 'end'; comment: string | null }
  | { kind: 'note'; id: number; ts: number; text: string };

interface Side {
  /** Next sequence number expected; null until known. */
  next: number | null;
  /** Segments ahead of `next`, by their sequence number. */
  ahead: Map<number, Buffer>;
  fin: boolean;
}

interface Conn {
  id: number;
  clientKey: string;
  sides: Record<Direction, Side>;
  closed: boolean;
}

/** Most bytes held ahead of a gap per direction; beyond, the gap is declared lost. */
const MAX_AHEAD = 8 * 1024 * 1024;

const key = (a: string, ap: number, b: string, bp: number): string => `${a}|${ap}|${b}|${bp}`;

/** 32-bit sequence difference a - b, signed. */
const seqDiff = (a: number, b: number): number => ((a - b) | 0);

export class TcpStreams {
  private readonly byKey = new Map<string, Conn>();
  private nextId = 1;

  /** `serverPorts`: without a SYN, a side on one of these ports is the server. */
  constructor(private readonly serverPorts: ReadonlySet<number>) {}

  /** One segment at time `ts` (µs); `comment`: the packet's comment. */
  push(s: Segment, ts: number, comment: string | null): StreamEvent[] {
    const out: StreamEvent[] = [];
    const k = key(s.src, s.srcPort, s.dst, s.dstPort);
    const back = key(s.dst, s.dstPort, s.src, s.srcPort);
    let c = this.byKey.get(k) ?? this.byKey.get(back);
    const isSyn = (s.flags & SYN) !== 0;
    if (c && c.closed && isSyn && !(s.flags & ACK)) {
      // A new connection on the same addresses and ports.
      this.byKey.delete(k);
      this.byKey.delete(back);
      c = undefined;
    }
    if (!c) {
      if ((s.flags & (FIN | RST)) !== 0 && s.payload.length === 0) return out;
      // The client: who sent a bare SYN; else the side not on a server port.
      const fromClient = isSyn ? !(s.flags & ACK) : this.serverPorts.has(s.dstPort) || !this.serverPorts.has(s.srcPort);
      const clientKey = fromClient ? k : back;
      c = { id: this.nextId++, clientKey, sides: { frontend: { next: null, ahead: new Map(), fin: false }, backend: { next: null, ahead: new Map(), fin: false } }, closed: false };
      this.byKey.set(clientKey, c);
      const client = fromClient ? { address: s.src, port: s.srcPort } : { address: s.dst, port: s.dstPort };
      const server = fromClient ? { address: s.dst, port: s.dstPort } : { address: s.src, port: s.srcPort };
      out.push({ kind: 'open', id: c.id, ts, client, server, comment });
    }
    const direction: Direction = k === c.clientKey ? 'frontend' : 'backend';
    const side = c.sides[direction];
    if (isSyn) side.next = (s.seq + 1) >>> 0;
    else if (side.next === null) side.next = s.seq;
    if (s.payload.length > 0) this.deliver(c, direction, side, s.seq, s.payload, ts, out);
    if ((s.flags & RST) !== 0 && !c.closed) {
      c.closed = true;
      out.push({ kind: 'close', id: c.id, ts, how: 'rst', comment });
    } else if ((s.flags & FIN) !== 0) {
      side.fin = true;
      if (c.sides.frontend.fin && c.sides.backend.fin && !c.closed) {
        this.flushGaps(c, ts, out);
        c.closed = true;
        out.push({ kind: 'close', id: c.id, ts, how: 'fin', comment });
      } else if (direction === 'frontend' && comment) {
        // pgscope writes why the connection ended on the client's FIN.
        out.push({ kind: 'note', id: c.id, ts, text: comment });
      }
    }
    return out;
  }

  private deliver(c: Conn, direction: Direction, side: Side, seq: number, payload: Buffer, ts: number, out: StreamEvent[]): void {
    const next = side.next!;
    const d = seqDiff(seq, next);
    if (d > 0) {
      // Ahead of a gap: keep it until the gap fills.
      if (!side.ahead.has(seq)) side.ahead.set(seq, payload);
      let held = 0;
      for (const b of side.ahead.values()) held += b.length;
      if (held > MAX_AHEAD) this.skipGap(c, direction, side, ts, out);
      return;
    }
    // Overlap with what was given already (a retransmission): only the new part.
    if (-d >= payload.length) return;
    const fresh = payload.subarray(-d);
    out.push({ kind: 'data', id: c.id, ts, direction, bytes: fresh });
    side.next = (next + fresh.length) >>> 0;
    this.drainAhead(c, direction, side, ts, out);
  }

  private drainAhead(c: Conn, direction: Direction, side: Side, ts: number, out: StreamEvent[]): void {
    for (let progress = true; progress && side.ahead.size > 0; ) {
      progress = false;
      for (const [seq, b] of side.ahead) {
        const d = seqDiff(seq, side.next!);
        if (d > 0) continue;
        side.ahead.delete(seq);
        progress = true;
        if (-d < b.length) {
          const fresh = b.subarray(-d);
          out.push({ kind: 'data', id: c.id, ts, direction, bytes: fresh });
          side.next = (side.next! + fresh.length) >>> 0;
        }
      }
    }
  }

  /** Declare the bytes before the earliest held segment lost, and go on from it. */
  private skipGap(c: Conn, direction: Direction, side: Side, ts: number, out: StreamEvent[]): void {
    let first: number | null = null;
    for (const seq of side.ahead.keys()) if (first === null || seqDiff(seq, first) < 0) first = seq;
    if (first === null) return;
    const lost = seqDiff(first, side.next!);
    out.push({ kind: 'note', id: c.id, ts, text: `${lost} bytes from the ${direction === 'frontend' ? 'client' : 'server'} are missing from the capture (lost or not captured); what follows may not decode` });
    side.next = first;
    this.drainAhead(c, direction, side, ts, out);
  }

  private flushGaps(c: Conn, ts: number, out: StreamEvent[]): void {
    for (const direction of ['frontend', 'backend'] as const) {
      const side = c.sides[direction];
      while (side.ahead.size > 0) this.skipGap(c, direction, side, ts, out);
    }
  }

  /** The capture ended: what is held ahead of gaps is given, open connections end. */
  end(ts: number): StreamEvent[] {
    const out: StreamEvent[] = [];
    const seen = new Set<Conn>();
    for (const c of this.byKey.values()) {
      if (seen.has(c)) continue;
      seen.add(c);
      if (c.closed) continue;
      this.flushGaps(c, ts, out);
      c.closed = true;
      out.push({ kind: 'close', id: c.id, ts, how: 'end', comment: null });
    }
    return out;
  }
}
