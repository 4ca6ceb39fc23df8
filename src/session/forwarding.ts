import { backendKeyData } from '../protocol/backend/backend-key-data.js';
import { decoderFor, tryFields } from '../protocol/registry.js';
import { encodeErrorResponse } from '../protocol/encode.js';
import { errorFields } from '../protocol/inspect.js';
import type { CodecEvent, DecodedMessage, Direction } from '../protocol/types.js';
import type { SessionCore } from './core.js';
import { timerMs } from './io.js';
import type { Label } from './events.js';
import { describeDecision, type MessageDecision, type MessageHook } from './message-hook.js';
import { chunkWanted } from './header-scanner.js';
import { replacementOf } from './codec-log.js';
import type { ChunkMark } from './decode-elsewhere.js';

/** Toward the server (frontend) or the client (backend): the send action, the labels. */
const WAY = {
  frontend: { send: 'send-server', label: 'client -> server', consumed: 'client -> script', own: 'script -> server', back: 'send-client', backLabel: 'script -> client' },
  backend: { send: 'send-client', label: 'server -> client', consumed: 'server -> script', own: 'script -> client', back: 'send-server', backLabel: 'script -> server' },
} as const;

/** What waits behind a delay in one direction, in order. */
type Queued = { kind: 'send'; to: 'send-server' | 'send-client'; bytes: Buffer; forwarded: boolean } | { kind: 'delay'; ms: number } | { kind: 'close'; how: 'end' | 'reset'; reason: string };

/** One direction's state when a hook decides: bytes of a message still arriving, a long message streaming, what waits behind a delay. */
class Way {
  /** Raw bytes of an incomplete message, held until it is whole (bounded by the codec's retain limit). */
  carry: Buffer[] = [];
  carryBytes = 0;
  /** A message too long to hold, passed at its header: forwarded as it comes until this absolute offset. */
  streamingUntil = -1;
  /** After a framing error nothing can be decided any more: everything passes as it comes. */
  transparent = false;
  /** Outputs held behind a delay (a timer named delay:<direction> is running while `delayed`). */
  readonly queue: Queued[] = [];
  delayed = false;
  /** A decision closes the connection: nothing more is forwarded this way. */
  stopped = false;

  /** Output is waiting here (behind a delay): what is sent now would overtake it. */
  get busy(): boolean {
    return this.delayed || this.queue.length > 0;
  }
}

/**
 * The forwarding phase: every byte from either side goes to the other, message by message
 * when a hook decides (message-hook.ts), else chunk by chunk as it came. Without a hook, or
 * for a chunk that holds no message the hook wants, the bytes are sent first and decoded
 * after (a round trip then never waits for pgscope's decoding or logging). The messages are
 * watched here too: BackendKeyData (to route cancels), Terminate, the server's last
 * message (a goodbye), and authentication (the security verdict).
 */
export class Forwarding {
  private readonly ways: Record<Direction, Way> = { frontend: new Way(), backend: new Way() };
  private readonly hook: MessageHook | null;

  constructor(private readonly core: SessionCore) {
    this.hook = core.settings.hook ?? null;
  }

  /**
   * What pgscope says to the client (a hook's reply; a close after it) while the server's
   * stream is in the middle of a message: held until that message is whole, so that it
   * never lands inside one.
   */
  private readonly toClientAtBoundary: Queued[] = [];

  /** Bytes from one side, in the forwarding phase. */
  data(direction: Direction, bytes: Buffer): void {
    if (direction === 'backend' && this.toClientAtBoundary.length > 0) {
      this.dataUpToBoundary(bytes);
      return;
    }
    this.route(direction, bytes);
  }

  /** The server's bytes while replies wait for a message boundary: up to it, the replies, then the rest. */
  private dataUpToBoundary(bytes: Buffer): void {
    const core = this.core;
    const framer = core.conv.backend;
    let rest = bytes;
    while (rest.length > 0 && this.toClientAtBoundary.length > 0 && core.phase !== 'closed') {
      const p = framer.partial;
      if (p === null) break;
      // The header's five bytes first (its length says where the message ends), then the rest of it.
      const need = p.size === null ? 5 - p.seen : p.offset + p.size - framer.offset;
      const take = Math.min(Math.max(need, 1), rest.length);
      this.route('backend', rest.subarray(0, take));
      rest = rest.subarray(take);
    }
    if (framer.idle) this.releaseAtBoundary();
    if (rest.length > 0 && core.phase !== 'closed') this.data('backend', rest);
  }

  private releaseAtBoundary(): void {
    const held = this.toClientAtBoundary.splice(0);
    for (const q of held) {
      if (q.kind === 'send') this.replyToClient(q.bytes);
      else this.emit('backend', q);
    }
  }

  /** pgscope's own message to the client, in order with the server's, decoded and logged as pgscope's. */
  private replyToClient(bytes: Buffer): void {
    const core = this.core;
    if (this.toClientAtBoundary.length > 0 || !core.conv.backend.idle) {
      this.toClientAtBoundary.push({ kind: 'send', to: 'send-client', bytes, forwarded: false });
      return;
    }
    // In order with the server's messages held behind a delay toward the client.
    core.reply(bytes, (b) => this.emit('backend', { kind: 'send', to: 'send-client', bytes: b, forwarded: false }));
  }

  private route(direction: Direction, bytes: Buffer): void {
    const way = this.ways[direction];
    if (way.stopped) {
      // A decision ended the connection: nothing more goes this way (the close may still be
      // waiting for what pgscope says to the client); what arrives is logged as taken.
      const w = WAY[direction];
      const core = this.core;
      const offset = core.conv.framer(direction).offset;
      const time = core.now();
      if (core.handedOver) core.decodeElsewhere(w.consumed, direction, bytes, time, 0);
      for (const ev of core.conv.push(direction, bytes)) this.observe(direction, w.consumed, ev, time);
      core.wire(w.consumed, direction, offset, bytes, time);
      return;
    }
    if (this.hook && !way.transparent) {
      const scan = chunkWanted(bytes, this.core.conv.framer(direction), this.hook, direction);
      // The fast path still holds when nothing in this chunk is wanted and nothing waits.
      if (scan.wanted || scan.headerCut || way.carryBytes > 0 || way.streamingUntil >= 0 || way.queue.length > 0 || way.delayed) {
        this.decide(direction, bytes);
        return;
      }
    }
    this.passThrough(direction, bytes);
  }

  /**
   * Forward bytes as they came, then decode and log them: the bytes are written before any
   * decoding happens (the shell carries out `act` at once).
   */
  passThrough(direction: Direction, bytes: Buffer): void {
    const core = this.core;
    const w = WAY[direction];
    core.act({ type: w.send, bytes, forwarded: true });
    // The bytes' arrival: every event made of them has this time.
    const time = core.now();
    if (core.handOver()) {
      // Decoded on the decode thread; here only what the session needs is framed.
      core.decodeElsewhere(w.label, direction, bytes, time, bytes.length);
      for (const ev of core.conv.push(direction, bytes)) this.observe(direction, w.label, ev, time);
      return;
    }
    const offset = core.conv.framer(direction).offset;
    for (const ev of core.conv.push(direction, bytes)) this.observe(direction, w.label, ev, time);
    core.wire(w.label, direction, offset, bytes, time);
    core.forwarded(w.label, bytes.length, time);
  }

  /** A timer named delay:<direction> went off: release what waited, up to the next delay. */
  delayOver(direction: Direction): void {
    const way = this.ways[direction];
    way.delayed = false;
    this.drain(direction);
  }

  /**
   * The server hung up while forwarding: say why to a client that would otherwise see a bare
   * EOF, then close, after what the server sent that still waits behind a delay.
   */
  serverClosed(error: string | undefined): void {
    const core = this.core;
    const last = core.lastServerMessage;
    const saidGoodbye = last !== null && isFatal(last);
    // A server that vanishes without a word (killed, network gone) leaves the client with
    // a bare EOF. At a message boundary an ErrorResponse can say what happened.
    if (!core.clientSentTerminate && !saidGoodbye && core.conv.backend.idle && !core.cancelOnly) {
      this.replyToClient(encodeErrorResponse({ severity: 'FATAL', code: '08006', message: `pgscope: the server ${core.describeTarget()} closed the connection unexpectedly${error ? ` (${error})` : ''}` }));
    }
    this.ways.frontend.stopped = true;
    this.toClientAtBoundary.length = 0;
    this.closeAfterOutput('backend', { kind: 'close', how: 'end', reason: 'server hung up' });
  }

  // --- decisions, message by message -------------------------------------------------

  /**
   * The slow path: the chunk is decoded first, then each message is passed, or handed to
   * the hook if it wants it, and what the hook decides is sent. Runs of passed messages go
   * out as one write.
   */
  private decide(direction: Direction, bytes: Buffer): void {
    const core = this.core;
    const way = this.ways[direction];
    const w = WAY[direction];
    const framer = core.conv.framer(direction);
    const chunkStart = framer.offset;
    // Handed over: the decode thread logs these bytes' events, fed up to each point where
    // the session logs something of its own, with the messages the hook took marked.
    // The bytes' arrival: every event made of them has this time.
    const time = core.now();
    this.feed = core.handOver() ? { direction, chunk: bytes, start: chunkStart, fed: chunkStart, time, label: w.label, marks: [] } : null;
    // The raw bytes at hand: a held incomplete message, then this chunk.
    const raw = way.carryBytes > 0 ? Buffer.concat([...way.carry, bytes]) : bytes;
    const rawStart = chunkStart - way.carryBytes;
    way.carry = [];
    way.carryBytes = 0;
    const rawEnd = rawStart + raw.length;
    /** Bytes before this absolute offset are dealt with. */
    let done = rawStart;
    /** A run of passed bytes not sent yet: [runFrom, done). */
    let runFrom = rawStart;
    const flushRun = (): void => {
      if (done > runFrom) this.emit(direction, { kind: 'send', to: w.send, bytes: raw.subarray(runFrom - rawStart, done - rawStart), forwarded: true });
      runFrom = done;
    };
    // A long message passed at its header streams through first.
    if (way.streamingUntil >= 0) {
      done = Math.min(way.streamingUntil, rawEnd);
      if (done >= way.streamingUntil) way.streamingUntil = -1;
    }
    const logged: { label: Label; ev: CodecEvent }[] = [];
    let closing = false;
    for (const ev of core.conv.push(direction, bytes)) {
      if (closing) {
        logged.push({ label: w.consumed, ev });
        continue;
      }
      if (ev.kind === 'message-start') {
        // Too long to hold: decided from its header alone, then streamed.
        const view = { conn: core.id, direction, message: headerOnly(ev), bytes: null, sql: null };
        const d = ev.type !== null && this.hook!.wants(direction, ev.type) ? this.hook!.decide(view) : null;
        if (d?.delayMs !== undefined && !d.close) {
          // Held from its first byte on (the stream that follows queues behind the delay).
          flushRun();
          if (d.note) core.status('info', `${d.note}: ${describeDecision(view.message, d)}`);
          this.emit(direction, { kind: 'delay', ms: d.delayMs });
        }
        if (d?.close) {
          flushRun();
          if (d.note) core.status('info', `${d.note}: closing the connection at a ${ev.type === null ? 'startup packet' : JSON.stringify(ev.type)} message of ${ev.size} bytes`);
          this.emit(direction, { kind: 'close', how: d.close, reason: d.note ?? 'closed by a hook' });
          done = rawEnd;
          runFrom = rawEnd;
          break;
        }
        way.streamingUntil = ev.offset + ev.size;
        done = Math.min(way.streamingUntil, rawEnd);
        if (done >= way.streamingUntil) way.streamingUntil = -1;
        continue;
      }
      if (ev.kind !== 'message') {
        // A framing error: boundaries are lost; from here on everything passes as it comes.
        way.transparent = true;
        logged.push({ label: w.label, ev });
        done = rawEnd;
        continue;
      }
      const m = ev.message;
      const end = m.frame.offset + m.frame.size;
      const type = m.frame.type;
      // A message whose start went out earlier, as it came, is passed whole (its rest too):
      // it cannot be decided on any more.
      const wanted = type !== null && m.frame.complete && m.frame.offset >= rawStart && this.hook!.wants(direction, type);
      if (!wanted) {
        logged.push({ label: w.label, ev });
        done = Math.max(done, Math.min(end, rawEnd));
        continue;
      }
      flushRun();
      const own = raw.subarray(m.frame.offset - rawStart, end - rawStart);
      const d = this.hook!.decide({ conn: core.id, direction, message: m, bytes: own, sql: ev.sql ?? null });
      done = end;
      runFrom = end;
      if (!d || (d.forward === undefined && !d.reply && d.delayMs === undefined && !d.close && d.pieces === undefined)) {
        logged.push({ label: w.label, ev });
        this.emit(direction, { kind: 'send', to: w.send, bytes: own, forwarded: true });
        continue;
      }
      // Logged now, in order: the message as pgscope's to take or pass, then what it sends.
      this.flushLogged(direction, logged, time);
      this.apply(direction, ev, own, d, time);
      if (d.close) {
        // The connection ends here: what came after this message is not forwarded, nor decided on.
        closing = true;
        done = rawEnd;
        runFrom = rawEnd;
      }
    }
    flushRun();
    this.flushLogged(direction, logged, time);
    if (this.feed) {
      this.feedUpTo(chunkStart + bytes.length, bytes.length);
      this.feed = null;
    }
    // What is left: the start of a message still arriving, held until it is whole.
    if (done < rawEnd && way.streamingUntil < 0 && !way.transparent && core.phase !== 'closed') {
      const rest = Buffer.from(raw.subarray(done - rawStart));
      way.carry.push(rest);
      way.carryBytes = rest.length;
    } else if (done < rawEnd) {
      this.emit(direction, { kind: 'send', to: w.send, bytes: raw.subarray(done - rawStart), forwarded: true });
    }
    core.wire(w.label, direction, chunkStart, bytes, time);
    core.forwarded(w.label, bytes.length, time);
  }

  private flushLogged(direction: Direction, logged: { label: Label; ev: CodecEvent }[], time: number): void {
    for (const { label, ev } of logged) this.observe(direction, label, ev, time);
    if (this.feed && logged.length > 0) this.feedUpTo(eventEnd(logged[logged.length - 1]!.ev, this.feed), 0);
    logged.length = 0;
  }

  /** The chunk being decided on, when handed over (see decide). */
  private feed: { direction: Direction; chunk: Buffer; start: number; fed: number; time: number; label: Label; marks: ChunkMark[] } | null = null;

  /** The decode thread gets the chunk's bytes up to `end` (an absolute offset), with the marks so far. */
  private feedUpTo(end: number, forwarded: number): void {
    const f = this.feed!;
    const to = Math.min(end, f.start + f.chunk.length);
    if (to <= f.fed && forwarded === 0) return;
    this.core.decodeElsewhere(f.label, f.direction, f.chunk.subarray(f.fed - f.start, Math.max(to, f.fed) - f.start), f.time, forwarded, f.marks.splice(0));
    f.fed = Math.max(to, f.fed);
  }

  /** Carry out a hook's decision about one whole message. */
  private apply(direction: Direction, ev: Extract<CodecEvent, { kind: 'message' }>, own: Buffer, d: MessageDecision, time: number): void {
    const core = this.core;
    const w = WAY[direction];
    // The message itself goes on unless the decision sends other messages in its place
    // (a list that holds the message's own bytes keeps it: messages injected around it).
    const sends = d.forward ?? [own];
    const kept = sends.includes(own);
    const instead = direction === 'backend' && !kept && sends.length === 1 ? replacementOf(sends[0]!, ev.message, core.conv.ctx) : null;
    if (instead) this.observeReplaced(ev, instead, sends[0]!, time);
    else this.observe(direction, kept ? w.label : w.consumed, ev, time);
    // Handed over: its events go before what the session says of it.
    if (this.feed) this.feedUpTo(ev.message.frame.offset + ev.message.frame.size, 0);
    if (d.note) core.status('info', `${d.note}: ${describeDecision(ev.message, d)}`);
    if (d.delayMs !== undefined) this.emit(direction, { kind: 'delay', ms: d.delayMs });
    const piece = d.pieces !== undefined && d.pieces >= 1 ? Math.floor(d.pieces) : 0;
    for (const b of sends) {
      const theirs = b === own;
      if (piece > 0) for (let at = 0; at < b.length; at += piece) this.emit(direction, { kind: 'send', to: w.send, bytes: b.subarray(at, at + piece), forwarded: theirs });
      else this.emit(direction, { kind: 'send', to: w.send, bytes: b, forwarded: theirs });
      if (!theirs) core.status('debug', `${w.own}: ${b.length} bytes of pgscope's own toward the ${direction === 'frontend' ? 'server' : 'client'} (${d.note ?? 'a hook'}), ${kept ? 'around' : 'in place of'} ${ev.message.name}`);
    }
    if (d.reply && d.reply.length > 0) {
      // An answer to the sender: part of the client's conversation when the client is the sender.
      for (const b of d.reply) {
        if (direction === 'frontend') this.replyToClient(b);
        else core.act({ type: 'send-server', bytes: b, forwarded: false });
      }
    }
    if (d.close) {
      this.ways[direction].stopped = true;
      this.closeAfterOutput(direction, { kind: 'close', how: d.close, reason: d.note ?? 'closed by a hook' });
    }
  }

  /**
   * Close once what was decided before has gone out: behind what waits for the server's
   * message boundary, else behind the client-bound queue (a delay there holds pgscope's own
   * messages too), else behind this direction's own queue.
   */
  private closeAfterOutput(direction: Direction, close: Queued): void {
    if (this.toClientAtBoundary.length > 0) this.toClientAtBoundary.push(close);
    else if (this.ways.backend.busy) this.emit('backend', close);
    else this.emit(direction, close);
  }

  /** A server message replaced by one of pgscope's: both logged, the analysis told, the session's watch kept. */
  private observeReplaced(ev: Extract<CodecEvent, { kind: 'message' }>, sent: DecodedMessage, bytes: Buffer, time: number): void {
    const core = this.core;
    // Handed over: the decode thread logs both, told by a mark.
    if (this.feed) this.feed.marks.push({ offset: ev.message.frame.offset, label: 'server -> script', replacedBy: bytes });
    else core.replacedFromServer(ev, sent, time);
    core.lastServerMessage = sent;
  }

  /** Send now, or queue behind a delay in this direction. */
  private emit(direction: Direction, q: Queued): void {
    const way = this.ways[direction];
    if (way.delayed || way.queue.length > 0) {
      way.queue.push(q);
      if (!way.delayed) this.drain(direction);
      return;
    }
    if (q.kind === 'delay') {
      way.queue.push(q);
      this.drain(direction);
      return;
    }
    this.carryOut(q);
  }

  private drain(direction: Direction): void {
    const way = this.ways[direction];
    while (way.queue.length > 0 && !way.delayed) {
      const q = way.queue.shift()!;
      if (q.kind === 'delay') {
        if (q.ms === Infinity) {
          // Held until the connection ends.
          way.delayed = true;
          return;
        }
        way.delayed = true;
        this.core.act({ type: 'set-timer', name: `delay:${direction}`, ms: timerMs(q.ms) });
        return;
      }
      this.carryOut(q);
    }
  }

  private carryOut(q: Exclude<Queued, { kind: 'delay' }>): void {
    const core = this.core;
    if (q.kind === 'close') {
      core.close(q.reason, q.how === 'reset' ? 'reset' : 'close');
      return;
    }
    if (core.phase === 'closed') return;
    core.act({ type: q.to, bytes: q.bytes, forwarded: q.forwarded });
  }

  // --- watching ---------------------------------------------------------------------

  /** Log one codec event of the client's conversation and watch what the session needs from it. */
  private observe(direction: Direction, label: Label, ev: CodecEvent, time?: number): void {
    const core = this.core;
    core.codec(label, ev, time);
    // Handed over, deciding: a message not labelled as the chunk is (taken by pgscope) is marked for the decode thread.
    if (this.feed && ev.kind === 'message' && label !== this.feed.label) this.feed.marks.push({ offset: ev.message.frame.offset, label });
    if (ev.kind !== 'message') return;
    const m = ev.message;
    if (!core.security.done) {
      const notes = core.security.observe(m);
      for (const w of notes.warnings) core.status('warn', w);
      if (notes.verdict) core.log({ kind: 'security', conn: core.id, time: core.now(), verdict: notes.verdict });
    }
    if (direction === 'backend') {
      core.lastServerMessage = m;
      if (m.name === 'BackendKeyData' && core.target) {
        const key = tryFields(backendKeyData, m);
        if (key) core.cancels.remember(key.processId, Buffer.from(key.secretKey), { ...core.target, conn: core.id });
      }
    } else if (m.name === 'Terminate') {
      core.clientSentTerminate = true;
    }
  }
}

/** Where the bytes of a codec event end (an absolute offset; the chunk's end when it does not say). */
function eventEnd(ev: CodecEvent, feed: { start: number; chunk: Buffer }): number {
  if (ev.kind === 'message') return ev.message.frame.offset + ev.message.frame.size;
  if (ev.kind === 'unparsed') return ev.offset + ev.length;
  return feed.start + feed.chunk.length;
}

/** An ErrorResponse whose severity ends the session (FATAL, PANIC). */
export function isFatal(m: DecodedMessage): boolean {
  if (m.name !== 'ErrorResponse') return false;
  const f = errorFields(m);
  return ['FATAL', 'PANIC'].includes(f['V'] ?? f['S'] ?? '');
}

/** A message-start event as a DecodedMessage with no fields (for a hook deciding from the header). */
function headerOnly(ev: Extract<CodecEvent, { kind: 'message-start' }>): DecodedMessage {
  // Named as its codec names it ('p' aside: which of four it is depends on the context).
  const named = ev.type === null || ev.type === 'p' ? undefined : decoderFor(ev.direction, ev.type)?.name;
  return {
    frame: { direction: ev.direction, kind: ev.type === null ? 'startup' : 'message', offset: ev.offset, type: ev.type, length: ev.length, size: ev.size, bytes: Buffer.alloc(0), complete: false },
    name: named ?? (ev.type === null ? 'startup packet' : `a ${JSON.stringify(ev.type)} message`),
    sub: [],
    spans: [],
  };
}
