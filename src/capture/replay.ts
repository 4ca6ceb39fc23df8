/**
 * Captured TCP connections through pgscope's own codec and statement analysis, into the
 * events a live proxy emits (src/session/events.ts): each connection's opened and
 * server-connected facts, its messages (or codec errors, or bytes not decoded), its
 * statements, and its closed fact. Connections are numbered as pgscope numbered them when
 * the capture is pgscope's own pcapng (the SYN's comment says "pgscope connection #N"),
 * else 1, 2, … in order of their first packet.
 *
 * What the live proxy knew and a capture cannot say (its own listening address, TLS on
 * either leg, the security verdict, the bytes of an SSLRequest it answered itself) is not
 * made up: those events are absent, and message offsets count from the first byte the
 * capture holds.
 */
import type { Conversation } from '../protocol/conversation.js';
import { CANCEL_REQUEST_CODE, DEFAULT_MAX_STARTUP_LENGTH, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE } from '../protocol/framer.js';
import type { CodecEvent } from '../protocol/types.js';
import type { Label, ProxyEvent } from '../session/events.js';
import { fmtHostPort } from '../session/host-port.js';
import { StatementStage } from '../session/statement-stage.js';
import { pgscopeClosing, pgscopeOpening } from './pgscope-comments.js';
import type { Direction, StreamEvent } from './tcp-streams.js';

export interface ReplayOptions {
  redact: boolean;
  /** A connection with an end on one of these ports is PostgreSQL; any other must begin like it. */
  serverPorts: ReadonlySet<number>;
  /** What the reader of the capture should know (also said as status events of the connection). */
  note: (text: string) => void;
}

type Opening = Extract<StreamEvent, { kind: 'open' }>;

interface Replayed {
  conn: number;
  conv: Conversation;
  handshake: boolean;
  /** Bytes each side sent, as far as the capture holds them. */
  sent: Record<Direction, number>;
  clientSpoke: boolean;
  encrypted: boolean;
  /** Bytes missing from the capture, per direction (decoding of that direction stopped at the first hole). */
  lost: Record<Direction, number>;
}

const LABEL: Record<Direction, Label> = { frontend: 'client -> server', backend: 'server -> client' };
const WHO: Record<Direction, string> = { frontend: 'client', backend: 'server' };

/** Most connections named in the note about those skipped. */
const SKIPPED_NAMED = 3;

export class Replay {
  private readonly stage: StatementStage;
  private readonly replayed = new Map<number, Replayed>();
  /** Connections on no server port, until their first bytes say whether they are PostgreSQL. */
  private readonly undecided = new Map<number, Opening>();
  /** Connections skipped as not PostgreSQL: how many, and the first few by their addresses. */
  private skipped = 0;
  private readonly skippedNamed: string[] = [];
  private readonly used = new Set<number>();
  private lowestFree = 1;

  constructor(
    private readonly emit: (ev: ProxyEvent) => void,
    private readonly opts: ReplayOptions,
  ) {
    // What --jsonl asks of the analysis: statement records, and values read as their types.
    this.stage = new StatementStage(emit, { redact: opts.redact, typed: true, records: true, warn: opts.note });
  }

  push(ev: StreamEvent): void {
    if (ev.kind === 'open') {
      if (this.opts.serverPorts.has(ev.server.port)) this.start(ev);
      else this.undecided.set(ev.id, ev);
      return;
    }
    const waiting = this.undecided.get(ev.id);
    if (waiting) {
      if (ev.kind === 'gap') return;
      this.undecided.delete(ev.id);
      if (ev.kind === 'close') return; // no byte: nothing to show
      if (ev.direction !== 'frontend' || !beginsLikePostgres(ev.bytes)) {
        if (this.skipped++ < SKIPPED_NAMED) this.skippedNamed.push(`${fmtHostPort(waiting.client.address, waiting.client.port)} → ${fmtHostPort(waiting.server.address, waiting.server.port)}`);
        return;
      }
      this.start(waiting);
    }
    const r = this.replayed.get(ev.id);
    if (!r) return;
    switch (ev.kind) {
      case 'data':
        this.data(r, ev.direction, ev.bytes, ev.time);
        return;
      case 'gap':
        this.gap(r, ev.direction, ev.lost, ev.time);
        return;
      case 'close': {
        const recorded = pgscopeClosing(ev.comment);
        const reason = recorded?.reason ?? (ev.how === 'fin' ? 'FIN seen' : ev.how === 'rst' ? 'RST seen' : 'capture ended');
        const bytes = recorded?.bytes ?? { fromClient: r.sent.frontend, fromServer: r.sent.backend };
        this.stage.write({ kind: 'connection', conn: r.conn, time: ev.time, phase: 'closed', reason, bytesFromClient: bytes.fromClient, bytesFromServer: bytes.fromServer });
        this.replayed.delete(ev.id);
        return;
      }
    }
  }

  /** After the last event: what was skipped. */
  finish(): void {
    const n = this.skipped;
    if (n === 0) return;
    const named = this.skippedNamed.join(', ') + (n > SKIPPED_NAMED ? `, … (${n - SKIPPED_NAMED} more)` : '');
    const ports = [...this.opts.serverPorts].join(', ');
    this.opts.note(`${n} TCP connection${n === 1 ? '' : 's'} skipped as not PostgreSQL (${named}): neither end is on a server port (${ports}) and the client's first bytes are not a startup packet`);
  }

  private start(open: Opening): void {
    const recorded = pgscopeOpening(open.comment);
    const conn = this.number(recorded?.conn ?? null);
    const conv = this.stage.conversation(conn);
    this.replayed.set(open.id, { conn, conv, handshake: open.handshake, sent: { frontend: 0, backend: 0 }, clientSpoke: false, encrypted: false, lost: { frontend: 0, backend: 0 } });
    const client = recorded?.clientPort != null ? { address: open.client.address, port: recorded.clientPort } : open.client;
    const server = recorded?.server ?? open.server;
    const time = open.time;
    this.stage.write({ kind: 'connection', conn, time, phase: 'opened', client, local: server });
    // pgscope's file says when the connection never reached a server.
    if (recorded && recorded.server === null) return;
    const why = recorded ? 'as pgscope recorded it in the capture' : 'the server end of the captured connection';
    this.stage.write({ kind: 'connection', conn, time, phase: 'server-connected', host: server.address, port: server.port, why, remote: server, local: open.client });
  }

  /** pgscope's own number when it is free, else the lowest free one. */
  private number(wanted: number | null): number {
    let n = wanted;
    if (n === null || this.used.has(n)) {
      while (this.used.has(this.lowestFree)) this.lowestFree++;
      n = this.lowestFree;
    }
    this.used.add(n);
    return n;
  }

  private data(r: Replayed, direction: Direction, bytes: Buffer, time: number): void {
    r.sent[direction] += bytes.length;
    if (direction === 'frontend' && !r.clientSpoke) {
      r.clientSpoke = true;
      if (!r.handshake && !beginsLikePostgres(bytes)) {
        // The capture joined the connection after its startup: the client's messages have type bytes.
        r.conv.frontend.resume('normal');
        this.say(r, time, 'info', `connection ${r.conn} began before the capture did: its startup is not in it, decoding starts at the first byte captured`);
      }
    }
    for (const c of r.conv.push(direction, bytes)) {
      // The head of a message still arriving: the live proxy does not log it either.
      if (c.kind === 'message-start') continue;
      if (!r.encrypted) this.checkEncrypted(r, c, time);
      this.stage.write({ kind: 'codec', conn: r.conn, time, label: LABEL[direction], event: c });
    }
  }

  private checkEncrypted(r: Replayed, c: CodecEvent, time: number): void {
    let why: string | null = null;
    if (c.kind === 'unparsed' && /^(TLS|GSS)-encrypted/.test(c.reason)) why = c.reason;
    else if (c.kind === 'message' && c.message.frame.kind === 'tls-record') why = 'TLS-encrypted (direct TLS)';
    if (why === null) return;
    r.encrypted = true;
    this.say(r, time, 'warn', `connection ${r.conn} is encrypted: ${why}; its messages cannot be read from this capture (pgscope does not decrypt captures)`);
  }

  /**
   * Bytes missing from the capture: message boundaries are lost in that direction, so the
   * rest of it is shown as bytes not decoded, and statements are no longer followed (a
   * response can no longer be matched to its request).
   */
  private gap(r: Replayed, direction: Direction, lost: number, time: number): void {
    const first = r.lost[direction] === 0;
    r.lost[direction] += lost;
    if (!first || r.encrypted) return;
    const why = `${lost} bytes from the ${WHO[direction]} are missing from the capture (lost, or cut by its snap length)`;
    r.conv.framer(direction).becomeOpaque(`not decoded: ${why}`);
    r.conv.statements?.fail(why);
    this.say(r, time, 'warn', `connection ${r.conn}: ${why}; the rest of what the ${WHO[direction]} sent is not decoded`);
  }

  private say(r: Replayed, time: number, level: 'info' | 'warn', text: string): void {
    this.opts.note(text);
    this.stage.write({ kind: 'status', conn: r.conn, time, level, text });
  }
}

/** A client's first bytes: a startup packet (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) or a TLS ClientHello (direct TLS). */
function beginsLikePostgres(b: Buffer): boolean {
  if (b.length >= 2 && b[0] === 0x16 && b[1] === 0x03) return true;
  if (b.length < 8) return false;
  const length = b.readUInt32BE(0);
  const code = b.readUInt32BE(4);
  return length >= 8 && length <= DEFAULT_MAX_STARTUP_LENGTH && (code >>> 16 === 3 || code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE || code === CANCEL_REQUEST_CODE);
}
