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
import type { Label, ProxyEvent, TlsInfo } from '../session/events.js';
import { fmtHostPort } from '../session/host-port.js';
import { StatementStage } from '../session/statement-stage.js';
import { findBoundary, MAX_SEARCH_BYTES } from './message-boundary.js';
import { pgscopeClosing, pgscopeOpening } from './pgscope-comments.js';
import type { Direction, StreamEvent } from './tcp-streams.js';
import type { KeyLog } from './tls/key-log.js';
import { TlsConnection, type TlsEvent } from './tls/tls-connection.js';

export interface ReplayOptions {
  redact: boolean;
  /** A connection with an end on one of these ports is PostgreSQL; any other must begin like it. */
  serverPorts: ReadonlySet<number>;
  /** What the reader of the capture should know (also said as status events of the connection). */
  note: (text: string) => void;
  /** Notes about one connection go to `note` too (default); false: only to its status events (a text log shows them). */
  noteConnections?: boolean;
  /** Secrets to decrypt TLS with (--keylog); null: none given (what the handshake shows is still said). */
  keys: KeyLog | null;
  /** Emit 'wire' events (the plaintext conversation, for --pcap), as sessions do when Outputs.wire. */
  wire?: boolean;
  /** Say each connection's opening, TLS and end in status lines too, for a text log (read, sniff). */
  narrate?: boolean;
  /** What the outputs ask of the statement analysis (Outputs.statements); default: what --jsonl asks. */
  statements?: { redact: boolean; typed: boolean; records: boolean } | null;
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
  /** The client sent an SSLRequest: the server's 'S' starts TLS. */
  sslRequested: boolean;
  /** TLS (after SSLRequest, or direct): what decrypts it. */
  tls: TlsConnection | null;
  /** Per direction, while looking for the next message boundary (after a hole, or a start not captured): the bytes searched so far. */
  searching: Record<Direction, Buffer | null>;
  /** Why each direction is being searched: bytes missing, or the capture joined the connection. */
  searchingAfter: Record<Direction, 'gap' | 'join'>;
  /** After bytes went missing: statements are followed again once the server said ReadyForQuery and both directions are in step. */
  restartStatements: boolean;
  /** The offset of the server's last ReadyForQuery since bytes went missing, or null. */
  readyAt: number | null;
  /** The offset of the server's last message when it was a ReadyForQuery, else null. */
  lastReady: number | null;
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
    const statements = opts.statements === undefined ? { redact: opts.redact, typed: true, records: true } : opts.statements;
    this.stage = new StatementStage(emit, { ...(statements ?? { redact: false, typed: false, records: false }), warn: opts.note });
  }

  push(ev: StreamEvent): void {
    if (ev.kind === 'open') {
      if (this.opts.serverPorts.has(ev.server.port)) this.start(ev);
      else this.undecided.set(ev.id, ev);
      return;
    }
    const waiting = this.undecided.get(ev.id);
    if (waiting) {
      if (ev.kind === 'gap' || ev.kind === 'conflict') return;
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
      case 'conflict':
        this.say(r, ev.time, 'warn', `connection ${r.conn}: a retransmission from the ${WHO[ev.direction]} differs from the first copy in ${ev.length} bytes at TCP stream offset ${ev.at}; the first copy is decoded`);
        return;
      case 'gap':
        this.gap(r, ev.direction, ev.lost, ev.time);
        return;
      case 'close': {
        for (const d of ['frontend', 'backend'] as const) this.endSearch(r, d, ev.time);
        const recorded = pgscopeClosing(ev.comment);
        const reason = recorded?.reason ?? (ev.how === 'fin' ? 'FIN seen' : ev.how === 'rst' ? 'RST seen' : 'capture ended');
        const bytes = recorded?.bytes ?? { fromClient: r.sent.frontend, fromServer: r.sent.backend };
        if (this.opts.narrate) this.stage.write({ kind: 'status', conn: r.conn, time: ev.time, level: 'info', text: `connection ${r.conn} closed (${reason}): ${bytes.fromClient} bytes from the client, ${bytes.fromServer} from the server` });
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
    this.replayed.set(open.id, { conn, conv, handshake: open.handshake, sent: { frontend: 0, backend: 0 }, clientSpoke: false, encrypted: false, sslRequested: false, tls: null, searching: { frontend: null, backend: null }, searchingAfter: { frontend: 'join', backend: 'join' }, restartStatements: false, readyAt: null, lastReady: null });
    const client = recorded?.clientPort != null ? { address: open.client.address, port: recorded.clientPort } : open.client;
    const server = recorded?.server ?? open.server;
    const time = open.time;
    this.stage.write({ kind: 'connection', conn, time, phase: 'opened', client, local: server });
    // The text log says it in words, as a live proxy's does.
    if (this.opts.narrate) this.stage.write({ kind: 'status', conn, time, level: 'info', text: `connection ${conn}: ${fmtHostPort(client.address, client.port)} → ${fmtHostPort(server.address, server.port)}${open.handshake ? '' : ' (its start is not in the capture)'}` });
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
    if (r.tls) return this.tlsEvents(r, r.tls.push(direction, bytes), time);
    if (r.searching[direction] !== null) return this.search(r, direction, bytes, time);
    if (!r.handshake && r.sent.frontend === 0 && r.sent.backend === 0 && looksLikeTlsRecord(bytes)) {
      // Joined a TLS connection after its handshake: nothing to decrypt it with, which TlsConnection says.
      r.clientSpoke = true;
      r.tls = new TlsConnection(this.opts.keys, `connection ${r.conn}`);
      return this.tlsEvents(r, r.tls.push(direction, bytes), time);
    }
    if (!r.handshake && r.sent[direction] === 0 && direction === 'backend') {
      // The capture joined the connection: the server's first captured byte may be inside a message.
      return this.startSearch(r, direction, bytes, time, 'join');
    }
    if (direction === 'frontend' && !r.clientSpoke) {
      r.clientSpoke = true;
      if (bytes.length >= 2 && bytes[0] === 0x16 && bytes[1] === 0x03) {
        // Direct TLS (PostgreSQL 17+): the connection is TLS from its first byte.
        r.tls = new TlsConnection(this.opts.keys, `connection ${r.conn}`);
        return this.tlsEvents(r, r.tls.push(direction, bytes), time);
      }
      if (!r.handshake && !beginsLikePostgres(bytes)) {
        // The capture joined the connection after its startup: the client's messages have type bytes.
        r.conv.frontend.resume('normal');
        this.say(r, time, 'info', `connection ${r.conn} began before the capture did: its startup is not in it`);
        return this.startSearch(r, direction, bytes, time, 'join');
      }
    }
    if (direction === 'backend' && r.sslRequested && bytes.length > 0) {
      r.sslRequested = false;
      if (bytes[0] === 0x53 /* S */) {
        // The server accepted the SSLRequest: its answer (negotiation, not conversation: no 'wire'), then TLS both ways.
        this.plaintext(r, direction, bytes.subarray(0, 1), time, false);
        r.conv.encryptionEstablished();
        r.tls = new TlsConnection(this.opts.keys, `connection ${r.conn}`);
        if (bytes.length > 1) this.tlsEvents(r, r.tls.push(direction, bytes.subarray(1)), time);
        return;
      }
    }
    this.plaintext(r, direction, bytes, time);
  }

  /** Plaintext bytes (as sent, or decrypted) through the codec and the analysis. */
  private plaintext(r: Replayed, direction: Direction, bytes: Buffer, time: number, wire = true): void {
    const offset = r.conv.framer(direction).offset;
    r.sent[direction] += bytes.length;
    let ready: number | null = null;
    for (const c of r.conv.push(direction, bytes)) {
      // The head of a message still arriving: the live proxy does not log it either.
      if (c.kind === 'message-start') continue;
      if (c.kind === 'message' && direction === 'backend') ready = r.lastReady = c.message.frame.type === 'Z' ? c.message.frame.offset : null;
      if (c.kind === 'message' && c.message.frame.kind === 'startup' && isSslRequest(c.message.frame.bytes)) {
        r.sslRequested = true;
        // Negotiation, not conversation (when it came alone, as clients send it).
        if (bytes.length === c.message.frame.size) wire = false;
      }
      if (!r.encrypted) this.checkEncrypted(r, c, time);
      this.stage.write({ kind: 'codec', conn: r.conn, time, label: LABEL[direction], event: c });
    }
    // As a session emits them: the conversation's bytes, without the SSLRequest and its answer.
    if (wire && this.opts.wire && bytes.length > 0) this.stage.write({ kind: 'wire', conn: r.conn, time, label: LABEL[direction], direction, offset, bytes });
    if (r.restartStatements && ready !== null) {
      r.readyAt = ready;
      this.restartStatements(r, time);
    }
  }

  private tlsEvents(r: Replayed, events: TlsEvent[], time: number): void {
    for (const e of events) {
      switch (e.kind) {
        case 'plaintext':
          this.plaintext(r, e.direction, e.bytes, time);
          break;
        case 'established':
          // Direct TLS: nothing was sent in plaintext before it. One TLS session between the captured client and server: both legs are it.
          this.stage.write({ kind: 'connection', conn: r.conn, time, phase: 'client-tls', tls: e.info, direct: r.sent.frontend === 0 });
          this.stage.write({ kind: 'connection', conn: r.conn, time, phase: 'server-tls', tls: e.info });
          if (e.decrypting && this.opts.narrate) this.stage.write({ kind: 'status', conn: r.conn, time, level: 'info', text: `connection ${r.conn}: ${describeTls(e.info, r.sent.frontend === 0)}, decrypted with the key log` });
          break;
        case 'note':
          if (e.detail) this.stage.write({ kind: 'status', conn: r.conn, time, level: e.level, text: e.text });
          else this.say(r, time, e.level, e.text);
          break;
        case 'opaque': {
          const framer = r.conv.framer(e.direction);
          if (framer.mode !== 'opaque' && framer.mode !== 'broken') framer.becomeOpaque(e.reason);
          this.plaintext(r, e.direction, e.bytes, time);
          break;
        }
      }
    }
  }

  private checkEncrypted(r: Replayed, c: CodecEvent, time: number): void {
    // TLS is decrypted (or said why not) by TlsConnection; GSSAPI encryption cannot be.
    if (!(c.kind === 'unparsed' && c.reason.startsWith('GSS-encrypted'))) return;
    r.encrypted = true;
    this.say(r, time, 'warn', `connection ${r.conn} is encrypted: ${c.reason}; pgscope cannot decrypt GSSAPI encryption, its messages cannot be read from this capture`);
  }

  /**
   * Bytes missing from the capture: message boundaries are lost in that direction, so the
   * rest of it is shown as bytes not decoded, and statements are no longer followed (a
   * response can no longer be matched to its request).
   */
  /**
   * Bytes missing from the capture: message boundaries are lost in that direction until
   * the next one is found again (message-boundary.ts); statements are no longer followed
   * on this connection (a response can no longer be matched to its request).
   */
  private gap(r: Replayed, direction: Direction, lost: number, time: number): void {
    if (r.tls) return this.tlsEvents(r, r.tls.gap(direction, lost), time);
    if (r.encrypted) return;
    const at = r.conv.framer(direction).offset;
    const why = `${lost} bytes from the ${WHO[direction]} are missing from the capture at offset ${at} (lost, or cut by its snap length)`;
    r.conv.statements?.fail(why);
    this.say(r, time, 'warn', `connection ${r.conn}: ${why}; decoding resumes at the next message boundary found, statements at the next ReadyForQuery`);
    r.restartStatements = r.conv.statements !== null;
    // Bytes the client sent went missing after the server's last ReadyForQuery: that one will
    // do (in capture order it may come before the acknowledgement that revealed the loss).
    r.readyAt = direction === 'frontend' ? r.lastReady : null;
    this.endSearch(r, direction, time);
    this.startSearch(r, direction, Buffer.alloc(0), time, 'gap');
  }

  /**
   * The server said ReadyForQuery after bytes went missing: if both directions are at a
   * message boundary, the statement analysis starts afresh here (a new Conversation taking
   * up the same offsets): what the client asks from now on is matched to its answers again.
   * Requests already pipelined past this point would be matched wrongly; a client that
   * waits for ReadyForQuery (most do) is followed exactly.
   */
  private restartStatements(r: Replayed, time: number): void {
    const old = r.conv;
    const readyAt = r.readyAt;
    if (!r.restartStatements || readyAt === null || r.searching.frontend !== null || r.searching.backend !== null || !old.frontend.idle || !old.backend.idle || old.frontend.mode !== 'normal') return;
    r.restartStatements = false;
    const fresh = this.stage.conversation(r.conn, { frontendMode: 'normal', backendMode: 'normal', offsets: { frontend: old.frontend.offset, backend: old.backend.offset } });
    // What the startup said still holds: the protocol version, the startup parameters.
    fresh.ctx.protocol = old.ctx.protocol;
    fresh.ctx.startupParams = old.ctx.startupParams;
    r.conv = fresh;
    this.say(r, time, 'info', `connection ${r.conn}: statements are followed again from here (the server's ReadyForQuery at offset ${readyAt})`);
  }

  /** Look for the next message boundary in this direction's bytes from here on. */
  private startSearch(r: Replayed, direction: Direction, bytes: Buffer, time: number, after: 'gap' | 'join'): void {
    const why = after === 'gap' ? 'bytes before these are missing from the capture' : 'the capture joined the connection inside a message';
    r.conv.framer(direction).becomeOpaque(`not decoded: ${why}; looking for the next message boundary`);
    r.searching[direction] = Buffer.alloc(0);
    r.searchingAfter[direction] = after;
    if (bytes.length > 0) this.search(r, direction, bytes, time);
  }

  private search(r: Replayed, direction: Direction, bytes: Buffer, time: number): void {
    const held = r.searching[direction]!;
    const buf = held.length === 0 ? bytes : Buffer.concat([held, bytes]);
    const found = findBoundary(buf, direction, buf.length >= MAX_SEARCH_BYTES);
    if (found === 'more') {
      r.searching[direction] = Buffer.from(buf);
      return;
    }
    if (found === null) {
      // No message can start in these bytes: they are shown undecoded, and the search goes on.
      r.searching[direction] = Buffer.alloc(0);
      this.plaintext(r, direction, buf, time);
      return;
    }
    r.searching[direction] = null;
    if (found.at > 0) this.plaintext(r, direction, buf.subarray(0, found.at), time);
    const framer = r.conv.framer(direction);
    framer.resume('normal');
    // Joining at a message boundary (as segments mostly start) is nothing to say.
    if (r.searchingAfter[direction] === 'gap' || found.at > 0) {
      this.say(r, time, 'info', `connection ${r.conn}: the ${WHO[direction]}'s messages are decoded again from offset ${framer.offset}${found.at > 0 ? ` (${found.at} bytes before it skipped)` : ''}`);
    }
    // In step again after the server's ReadyForQuery: statements are followed from this message on.
    this.restartStatements(r, time);
    this.plaintext(r, direction, buf.subarray(found.at), time);
  }

  /** The connection ended while searching: what was held is shown undecoded. */
  private endSearch(r: Replayed, direction: Direction, time: number): void {
    const held = r.searching[direction];
    r.searching[direction] = null;
    if (held && held.length > 0) this.plaintext(r, direction, held, time);
  }

  private say(r: Replayed, time: number, level: 'info' | 'warn', text: string): void {
    if (this.opts.noteConnections !== false) this.opts.note(text);
    this.stage.write({ kind: 'status', conn: r.conn, time, level, text });
  }
}

function describeTls(t: TlsInfo, direct: boolean): string {
  return `${direct ? 'direct ' : ''}${t.protocol ?? 'TLS'}, ${t.cipher ?? 'cipher unknown'}${t.sni ? `, SNI ${t.sni}` : ''}${t.alpn ? `, ALPN ${t.alpn}` : ''}`;
}

/** A TLS record header (ChangeCipherSpec, alert, handshake or application data; TLS 1.0 to 1.3 record versions). */
function looksLikeTlsRecord(b: Buffer): boolean {
  return b.length >= 5 && b[0]! >= 20 && b[0]! <= 23 && b[1] === 3 && b[2]! <= 4;
}

function isSslRequest(b: Buffer): boolean {
  return b.length >= 8 && b.readUInt32BE(4) === SSL_REQUEST_CODE;
}

/** A client's first bytes: a startup packet (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) or a TLS ClientHello (direct TLS). */
function beginsLikePostgres(b: Buffer): boolean {
  if (b.length >= 2 && b[0] === 0x16 && b[1] === 0x03) return true;
  if (b.length < 8) return false;
  const length = b.readUInt32BE(0);
  const code = b.readUInt32BE(4);
  return length >= 8 && length <= DEFAULT_MAX_STARTUP_LENGTH && (code >>> 16 === 3 || code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE || code === CANCEL_REQUEST_CODE);
}
