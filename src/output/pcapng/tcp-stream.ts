import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, tcpFrame, type TcpEnd } from './packets.js';

export type Side = 'client' | 'server';

/** Payload bytes per data segment: well under IP's 65535-byte limit. */
export const MAX_SEGMENT = 16 * 1024;

/**
 * The peer acknowledges at least every this many segments, so data in flight never exceeds
 * the advertised window (65535 << WINDOW_SCALE = 8 MiB): Wireshark would flag it otherwise.
 */
const ACK_EVERY = 32;
const WINDOW_SCALE = 7;
const WINDOW = 0xffff;
/** SYN options: MSS (kind 2: our segment size, which Wireshark notes when absent), NOP, window scale (kind 3). */
const SYN_OPTIONS = Buffer.from([2, 4, MAX_SEGMENT >> 8, MAX_SEGMENT & 0xff, 1, 3, 3, WINDOW_SCALE]);

export type EmitPacket = (frame: Buffer, time: number, comment?: string) => void;

/**
 * One synthetic TCP connection: sequence and acknowledgement numbers, IPv4 identification,
 * handshake, data with the peer's ACKs, FIN exchange. `time`s are passed through to `emit`.
 */
export class TcpStream {
  private readonly seq: Record<Side, number>;
  private readonly ipId: Record<Side, number>;
  private finished = false;

  constructor(
    private readonly ends: Record<Side, TcpEnd>,
    /** Initial sequence numbers: fixed per connection so files are reproducible. */
    isn: Record<Side, number>,
    private readonly emit: EmitPacket,
  ) {
    this.seq = { client: isn.client >>> 0, server: isn.server >>> 0 };
    this.ipId = { client: isn.client & 0xffff, server: isn.server & 0xffff };
  }

  /** SYN (carrying `comment`), SYN-ACK, ACK. */
  open(time: number, comment?: string): void {
    this.segment('client', TCP_SYN, Buffer.alloc(0), time, comment, SYN_OPTIONS);
    this.segment('server', TCP_SYN | TCP_ACK, Buffer.alloc(0), time, undefined, SYN_OPTIONS);
    this.segment('client', TCP_ACK, Buffer.alloc(0), time);
  }

  /** `bytes` from one side, cut into segments, then the other side's ACK. */
  send(from: Side, bytes: Buffer, time: number): void {
    if (this.finished || bytes.length === 0) return;
    const peer: Side = from === 'client' ? 'server' : 'client';
    let segments = 0;
    for (let at = 0; at < bytes.length; at += MAX_SEGMENT) {
      const end = Math.min(bytes.length, at + MAX_SEGMENT);
      this.segment(from, TCP_PSH | TCP_ACK, bytes.subarray(at, end), time);
      if (++segments % ACK_EVERY === 0 && end < bytes.length) this.segment(peer, TCP_ACK, Buffer.alloc(0), time);
    }
    this.segment(peer, TCP_ACK, Buffer.alloc(0), time);
  }

  /** The client's FIN (carrying `comment`), the server's FIN, the client's last ACK. */
  close(time: number, comment?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.segment('client', TCP_FIN | TCP_ACK, Buffer.alloc(0), time, comment);
    this.segment('server', TCP_FIN | TCP_ACK, Buffer.alloc(0), time);
    this.segment('client', TCP_ACK, Buffer.alloc(0), time);
  }

  private segment(from: Side, flags: number, payload: Buffer, time: number, comment?: string, options?: Buffer): void {
    const to: Side = from === 'client' ? 'server' : 'client';
    const frame = tcpFrame(this.ends[from], this.ends[to], {
      seq: this.seq[from],
      ack: flags & TCP_ACK ? this.seq[to] : 0,
      flags,
      window: WINDOW,
      ipId: this.ipId[from],
      options,
      payload,
    });
    this.ipId[from] = (this.ipId[from] + 1) & 0xffff;
    // SYN and FIN each take one sequence number.
    this.seq[from] = (this.seq[from] + payload.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0;
    this.emit(frame, time, comment);
  }
}
