import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { encodeErrorResponse } from '../protocol/encode.js';
import type { ProxyEvent } from '../session/events.js';
import type { KeyLogWriter } from '../tls/keylog.js';
import type { ClientTlsContexts } from './client-tls.js';
import { fmtHostPort } from '../session/host-port.js';
import { serverSideTls } from './tls-legs.js';

/**
 * Who gets in: `--max-connections`, and what happens when pgscope runs out of file
 * descriptors.
 *
 * **Out of descriptors.** When accept() fails with EMFILE or ENFILE, Node (libuv) does not
 * tell the program: its "EMFILE trick" closes a descriptor it keeps in reserve, accepts
 * every pending connection and closes it at once, then takes its reserve back; the net
 * Server emits nothing (its 'error' comes only when libuv has no reserve). Clients, real
 * ones included, see their connection closed without a word, and nothing reaches the log.
 * So pgscope watches for itself: it keeps a few descriptors of its own in reserve and, on
 * every client it accepts, checks that a descriptor is still free (one open and close of
 * /dev/null). When none is, it says so in the log (rate-limited, naming the limit and the
 * fix), gives a reserve descriptor back so that the next accept() succeeds instead of
 * libuv's silent close, and answers new clients with FATAL 53300 until descriptors free
 * up again (it then takes its reserve back and says so). Accept errors Node does report
 * (EMFILE without libuv's reserve, ENOBUFS, …) are logged the same way, rate-limited.
 *
 * **--max-connections N.** With N client connections open, a new client is refused as
 * PostgreSQL refuses one past max_connections: the answer comes after its startup packet
 * (SSLRequest answered 'S' and TLS done first, or 'N' with --client-deny-ssl; direct TLS
 * too), then ErrorResponse FATAL 53300 "sorry, too many clients already", then the
 * connection is closed. Answering before the startup packet would not do: libpq (since
 * 17.2, 16.6, 15.10, …) does not show an error that comes instead of the answer to
 * SSLRequest ("server sent an error response during SSL exchange"). CancelRequests are never
 * refused and do not count, as in PostgreSQL (a cancel takes no backend slot).
 *
 * Refusals in progress do not count either (PostgreSQL's dead-end backends do not), but
 * they are bounded: at most REFUSAL_HANDSHAKES at once, each within REFUSAL_TIMEOUT_MS. A
 * refused client that has sent nothing for IDLE_EVICT_MS is closed to make room for a newer
 * one (real clients send their first packet at once); with no room, a client gets the
 * ErrorResponse at once, without waiting for its startup packet, and its descriptor is
 * freed at once (PostgreSQL does the same when it cannot even fork:
 * report_fork_failure_to_client). libpq shows that one only to plaintext clients.
 */

/** PostgreSQL's own words (src/backend/storage/lmgr/proc.c), which drivers and people know. */
export const TOO_MANY_CLIENTS = 'sorry, too many clients already';
/** SQLSTATE too_many_connections. */
export const TOO_MANY_CONNECTIONS_CODE = '53300';

/** Descriptors pgscope keeps back, to answer clients when it has run out. */
export const RESERVE_DESCRIPTORS = 4;
/** Free descriptors needed (beyond the reserve) before pgscope takes clients again. */
export const RECOVERY_HEADROOM = 8;
/** At most this many refusals wait for a startup packet at once. */
export const REFUSAL_HANDSHAKES = 16;
/** A refused client has this long to send its startup packet (PostgreSQL: authentication_timeout, 60 s). */
export const REFUSAL_TIMEOUT_MS = 10_000;
/** A refused client that has sent nothing for this long may be closed to make room for a newer one. */
const IDLE_EVICT_MS = 1000;
/** After the ErrorResponse, how long the client has to close before pgscope does. */
const CLOSE_GRACE_MS = 1000;
/** At most one line per this long for each kind of trouble (then a count of what happened since). */
export const LOG_INTERVAL_MS = 5000;
/** How often pgscope checks, while out of descriptors, whether they have freed up. */
const RECOVERY_CHECK_MS = 500;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** PostgreSQL's MAX_STARTUP_PACKET_LENGTH. */
const MAX_STARTUP_PACKET = 10000;

// ---------------------------------------------------------------------------------------------
// The process's descriptor limit

export interface DescriptorLimit {
  /** RLIMIT_NOFILE, soft and hard (`ulimit -n`, `ulimit -Hn`); null: unlimited or unknown. */
  soft: number | null;
  hard: number | null;
}

/** This process's open-file limit, from /proc/self/limits (Linux); nulls elsewhere. */
export function readDescriptorLimit(text?: string): DescriptorLimit {
  try {
    const src = text ?? readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(src);
    if (!m) return { soft: null, hard: null };
    const num = (s: string): number | null => (/^[0-9]+$/.test(s) ? Number(s) : null);
    return { soft: num(m[1]!), hard: num(m[2]!) };
  } catch {
    return { soft: null, hard: null };
  }
}

/** Descriptors open in this process now (Linux), or null when that cannot be read. */
export function countOpenDescriptors(): number | null {
  try {
    // The listing itself holds one while it reads.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return null;
  }
}

function readFileMax(): number | null {
  try {
    const n = Number(readFileSync('/proc/sys/fs/file-max', 'utf8').trim());
    return Number.isSafeInteger(n) ? n : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The reserve

export interface DescriptorOps {
  /** Open a descriptor (throws as openSync does: EMFILE, ENFILE, …). */
  open(): number;
  close(fd: number): void;
}

const devNull: DescriptorOps = { open: () => openSync('/dev/null', 'r'), close: (fd) => closeSync(fd) };

export type OutOfDescriptors = 'EMFILE' | 'ENFILE';

/**
 * A few descriptors held back, and the check that one is free. `out` is set while pgscope
 * is out of descriptors (the code that said so).
 */
export class DescriptorGuard {
  private readonly reserve: number[] = [];
  out: OutOfDescriptors | null = null;

  constructor(
    private readonly ops: DescriptorOps = devNull,
    readonly size = RESERVE_DESCRIPTORS,
    private readonly headroom = RECOVERY_HEADROOM,
  ) {
    for (let i = 0; i < size; i++) {
      const fd = this.tryOpen();
      if (typeof fd !== 'number') break;
      this.reserve.push(fd);
    }
  }

  /** Reserve descriptors held now. */
  get held(): number {
    return this.reserve.length;
  }

  /** Is a descriptor free right now? True, or the code that says none is. Other failures say nothing: true. */
  probe(): true | OutOfDescriptors {
    const fd = this.tryOpen();
    if (typeof fd !== 'number') return fd === 'EMFILE' || fd === 'ENFILE' ? fd : true;
    this.ops.close(fd);
    return true;
  }

  /** Give one reserve descriptor back (so that the next accept() finds room); false when none is left. */
  release(): boolean {
    const fd = this.reserve.pop();
    if (fd === undefined) return false;
    this.ops.close(fd);
    return true;
  }

  /**
   * While out: are enough descriptors free again to refill the reserve and leave headroom?
   * If so the reserve is refilled, `out` cleared, and true returned; if not, nothing is kept.
   */
  recover(): boolean {
    const need = this.size - this.reserve.length + this.headroom;
    const got: number[] = [];
    while (got.length < need) {
      const fd = this.tryOpen();
      if (typeof fd !== 'number') break;
      got.push(fd);
    }
    if (got.length < need) {
      for (const fd of got) this.ops.close(fd);
      return false;
    }
    while (this.reserve.length < this.size) this.reserve.push(got.pop()!);
    for (const fd of got) this.ops.close(fd);
    this.out = null;
    return true;
  }

  /** Close the reserve (at exit). */
  close(): void {
    while (this.release()) {
      /* next */
    }
  }

  private tryOpen(): number | string {
    try {
      return this.ops.open();
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? 'EIO';
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

/**
 * One kind of log line, at most once per interval: the first occurrence is said at once;
 * later ones within the interval are counted and said together when it ends.
 */
export class RateLimitedLine {
  private last = -Infinity;
  private pending = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    /** `count`: occurrences this line covers; `first`: said at once (a single occurrence). */
    private readonly say: (count: number, first: boolean) => void,
  ) {}

  hit(): void {
    const t = this.now();
    if (this.timer === null && this.pending === 0 && t - this.last >= this.intervalMs) {
      this.last = t;
      this.say(1, true);
      return;
    }
    this.pending++;
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.last + this.intervalMs - t));
      this.timer.unref();
    }
  }

  /** Say what is counted, now (when it ends, or at exit). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending === 0) return;
    const n = this.pending;
    this.pending = 0;
    this.last = this.now();
    this.say(n, false);
  }

  /** Forget what is counted without saying it (another line said it); returns the count. */
  take(): number {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const n = this.pending;
    this.pending = 0;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// Admission

export interface AdmissionOptions {
  /** --max-connections; null: no limit. */
  maxConnections: number | null;
  /** Client connections being proxied now (CancelRequests among them are subtracted: see watch()). */
  openConnections: () => number;
  /** A line in the log, not tied to a connection. */
  status: (text: string, level: 'info' | 'warn' | 'error') => void;
  /** The client leg's certificates; null: answer SSLRequest 'N' (--client-deny-ssl). */
  clientTls: ClientTlsContexts | null;
  clientKeylog: KeyLogWriter | null;
  /** Tests: the descriptor operations (default: /dev/null), the limit, the clock. */
  descriptors?: DescriptorOps;
  limit?: DescriptorLimit;
  now?: () => number;
}

type Reason = { kind: 'max' } | { kind: 'fds'; code: OutOfDescriptors };

export class Admission {
  private readonly guard: DescriptorGuard;
  private readonly limit: DescriptorLimit;
  /** Descriptors open when pgscope started (its own files, the listener, the reserve). */
  private readonly baseline: number | null;
  private readonly now: () => number;
  /** Connections whose client sent a CancelRequest: they do not count against --max-connections. */
  private readonly cancels = new Set<number>();
  /** Refused clients whose startup packet pgscope waits for (as many as REFUSAL_HANDSHAKES). */
  private readonly refusals = new Set<Refusal>();
  private recoveryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  // What the rate-limited lines report.
  private maxLine: RateLimitedLine;
  private firstRefused = '';
  private fdLine: RateLimitedLine;
  private outSince = 0;
  private refusedWhileOut = 0;
  private outCause = '';
  /** Refusals said at once, without waiting for the startup packet. */
  private immediate = 0;
  private acceptLine: RateLimitedLine;
  private acceptError = '';

  constructor(private readonly opts: AdmissionOptions) {
    this.now = opts.now ?? Date.now;
    this.limit = opts.limit ?? readDescriptorLimit();
    this.guard = new DescriptorGuard(opts.descriptors);
    this.baseline = opts.descriptors ? null : countOpenDescriptors();
    const max = opts.maxConnections;
    this.maxLine = new RateLimitedLine(LOG_INTERVAL_MS, this.now, (n, first) => {
      const open = `${this.regularOpen()} client connection${this.regularOpen() === 1 ? '' : 's'} open`;
      if (first) opts.status(`--max-connections ${max} reached (${open}): refused a client from ${this.firstRefused} with FATAL ${TOO_MANY_CONNECTIONS_CODE} "${TOO_MANY_CLIENTS}", as PostgreSQL does past max_connections (CancelRequests still pass)`, 'warn');
      else opts.status(`--max-connections ${max}: refused ${n} more client${n === 1 ? '' : 's'} in the last ${this.seconds()} (${open})`, 'warn');
    });
    this.fdLine = new RateLimitedLine(LOG_INTERVAL_MS, this.now, (n, first) => {
      if (first) this.sayOutOfDescriptors();
      else opts.status(`still out of file descriptors (${this.guard.out ?? 'EMFILE'}; ${this.limitText()}): ${n} more client${n === 1 ? '' : 's'} refused in the last ${this.seconds()}; ${this.openText()}; raise the limit or use --max-connections`, 'error');
    });
    this.acceptLine = new RateLimitedLine(LOG_INTERVAL_MS, this.now, (n, first) => {
      opts.status(first ? `cannot accept a new client: ${this.acceptError}; the listener keeps listening` : `accept() failed ${n} more time${n === 1 ? '' : 's'} in the last ${this.seconds()} (last: ${this.acceptError})`, 'error');
    });
    const need = max === null ? null : this.descriptorsFor(max);
    if (need !== null && this.limit.soft !== null && need > this.limit.soft) {
      opts.status(
        `--max-connections ${max} may need about ${need} file descriptors (two per client, plus pgscope's own), more than its limit of ${this.limit.soft} (ulimit -n): past about ${this.suggestedMax()} clients, some will be refused for want of descriptors`,
        'warn',
      );
    }
  }

  /**
   * The `log` for a connection: what it logs, seen on the way (a CancelRequest marks it as
   * one, which does not count against --max-connections). Without a limit, `log` itself.
   */
  watch(log: (ev: ProxyEvent) => void): (ev: ProxyEvent) => void {
    if (this.opts.maxConnections === null) return log;
    return (ev) => {
      if (ev.kind === 'codec') {
        if (ev.label === 'client -> server' && ev.event.kind === 'message' && ev.event.message.name === 'CancelRequest') this.cancels.add(ev.conn);
      } else if (ev.kind === 'connection' && ev.phase === 'closed') this.cancels.delete(ev.conn);
      log(ev);
    };
  }

  /**
   * A client was accepted: `serve` it (hand it to a ProxyConnection), or refuse it. A refused
   * client that turns out to send a CancelRequest is served after all.
   */
  admit(socket: net.Socket, serve: (socket: net.Socket) => void): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const g = this.guard;
    if (g.out !== null && g.recover()) this.recovered();
    const free = g.probe();
    const justRanOut = free !== true && g.out === null;
    if (justRanOut) this.ranOut(free, `${free} (${free === 'EMFILE' ? 'too many open files' : "the system's file table is full"}): no descriptor left once a client was accepted`);
    if (g.out !== null) {
      // Nothing left for this client's server leg: refuse it. With no descriptor free for the
      // next accept() either, give one back from the reserve, or take one from a refused
      // client that has sent nothing for a while; else answer this client at once, which
      // frees its own descriptor at once.
      const room = free === true || g.release() || this.evictIdle();
      this.refusedWhileOut++;
      if (!justRanOut) this.fdLine.hit();
      this.refuse(socket, { kind: 'fds', code: g.out }, room, serve);
      return;
    }
    const max = this.opts.maxConnections;
    if (max !== null && this.regularOpen() >= max) {
      this.firstRefused = fmtHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? '?');
      this.maxLine.hit();
      this.refuse(socket, { kind: 'max' }, true, serve);
      return;
    }
    serve(socket);
  }

  /**
   * The listener's 'error': true when it was about accepting a client (logged here,
   * rate-limited; the listener keeps listening), false for anything else.
   */
  acceptFailed(e: Error): boolean {
    const err = e as NodeJS.ErrnoException;
    if (err.syscall !== 'accept') return false;
    const text = err.code ? `${err.code} (${err.message})` : err.message;
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      // libuv had no reserve to do its trick with: it will try again at once. Giving one of
      // ours back lets that accept() succeed, and the client is then answered.
      if (this.guard.out === null) this.ranOut(err.code, `accept() failed: ${text}`);
      else this.fdLine.hit();
      this.guard.release();
      return true;
    }
    this.acceptError = text;
    this.acceptLine.hit();
    return true;
  }

  /** At stop: say what is still counted, end refusals in progress, give the reserve back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.maxLine.flush();
    this.fdLine.flush();
    this.acceptLine.flush();
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    this.recoveryTimer = null;
    for (const r of [...this.refusals]) r.destroy();
    this.guard.close();
  }

  /** Client connections that count against --max-connections. */
  regularOpen(): number {
    return Math.max(0, this.opts.openConnections() - this.cancels.size);
  }

  // --- out of descriptors -------------------------------------------------------------

  private ranOut(code: OutOfDescriptors, cause: string): void {
    this.guard.out = code;
    this.outSince = this.now();
    this.outCause = cause;
    this.refusedWhileOut = 0;
    this.immediate = 0;
    this.fdLine.hit();
    if (!this.recoveryTimer) {
      this.recoveryTimer = setInterval(() => {
        if (this.guard.out !== null && this.guard.recover()) this.recovered();
      }, RECOVERY_CHECK_MS);
      this.recoveryTimer.unref();
    }
  }

  private sayOutOfDescriptors(): void {
    const code = this.guard.out ?? 'EMFILE';
    const fix =
      code === 'ENFILE'
        ? `Fix: raise the system's limit (sysctl fs.file-max), or keep pgscope below it with --max-connections`
        : `Fix: start pgscope with a higher limit (${this.raiseText()}), or keep it below the limit with --max-connections ${this.suggestedMax()} (each client takes two descriptors: its own and its server's)`;
    this.opts.status(
      `out of file descriptors: ${this.outCause}; ${this.limitText()}; ${this.openText()}. New clients are refused with FATAL ${TOO_MANY_CONNECTIONS_CODE} until descriptors free up (when not even one is left to answer with, Node closes them unanswered). ${fix}`,
      'error',
    );
  }

  private recovered(): void {
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    this.recoveryTimer = null;
    this.fdLine.take();
    const secs = ((this.now() - this.outSince) / 1000).toFixed(1);
    const refused = this.refusedWhileOut;
    this.opts.status(
      `file descriptors are free again after ${secs} s (${this.openText()}): taking new clients again; ${refused} client${refused === 1 ? ' was' : 's were'} refused meanwhile${this.immediate ? ` (${this.immediate} of them answered at once, before their startup packet, for want of a descriptor to wait with)` : ''}`,
      'info',
    );
  }

  private limitText(): string {
    if (this.guard.out === 'ENFILE') {
      const max = readFileMax();
      return `the system's open-file table is full${max !== null ? ` (fs.file-max ${max})` : ''}`;
    }
    const { soft, hard } = this.limit;
    if (soft === null) return 'the limit is `ulimit -n`';
    return `the limit is ${soft} descriptors (ulimit -n${hard !== null ? `; hard limit ${hard}` : ''})`;
  }

  private raiseText(): string {
    const { soft, hard } = this.limit;
    if (hard === null) return 'ulimit -n 65536';
    if (soft !== null && hard <= soft) return `ulimit -n; the hard limit is also ${hard}: raise it in /etc/security/limits.conf or the service's LimitNOFILE`;
    return `ulimit -n ${hard}, the hard limit`;
  }

  private openText(): string {
    const n = this.opts.openConnections();
    const refusing = this.refusals.size;
    return `${n} client connection${n === 1 ? '' : 's'} open${refusing ? `, ${refusing} being refused` : ''}`;
  }

  /** Descriptors N clients may need: two each, what pgscope had at start, refusals in progress. */
  private descriptorsFor(clients: number): number | null {
    if (this.baseline === null) return null;
    return 2 * clients + this.baseline + REFUSAL_HANDSHAKES;
  }

  /** The --max-connections that fits the soft limit (or a guess when the limit is unknown). */
  private suggestedMax(): number {
    const soft = this.limit.soft;
    if (soft === null || this.baseline === null) return 100;
    return Math.max(1, Math.floor((soft - this.baseline - REFUSAL_HANDSHAKES) / 2));
  }

  private seconds(): string {
    return `${LOG_INTERVAL_MS / 1000} s`;
  }

  // --- refusing -----------------------------------------------------------------------

  /**
   * End the oldest refusal whose client has sent nothing for IDLE_EVICT_MS (real clients send
   * their first packet at once): its descriptor and its place serve a newer client.
   */
  private evictIdle(): boolean {
    const t = this.now();
    for (const r of this.refusals) {
      if (r.waiting && r.idleSince(t) >= IDLE_EVICT_MS) {
        r.destroy();
        return true;
      }
    }
    return false;
  }

  private refuse(socket: net.Socket, reason: Reason, mayWait: boolean, serve: (socket: net.Socket) => void): void {
    const error = refusalError(reason, this.opts.maxConnections, this.limit);
    if (!(mayWait && (this.refusals.size < REFUSAL_HANDSHAKES || this.evictIdle()))) {
      if (reason.kind === 'fds') this.immediate++;
      answerAtOnce(socket, error);
      return;
    }
    const deps: RefusalDeps = {
      clientTls: this.opts.clientTls,
      clientKeylog: this.opts.clientKeylog,
      handOver: (s) => {
        if (this.closed) s.destroy();
        else serve(s);
      },
      done: (r) => this.refusals.delete(r),
    };
    this.refusals.add(new Refusal(socket, error, deps, this.now()));
  }
}

/** The ErrorResponse a refused client gets. */
export function refusalError(reason: Reason, max: number | null, limit: DescriptorLimit): Buffer {
  const detail =
    reason.kind === 'max'
      ? `pgscope refused the connection: --max-connections ${max ?? '?'} reached.`
      : `pgscope is out of file descriptors (${reason.code}${reason.code === 'EMFILE' && limit.soft !== null ? `: its limit, ulimit -n, is ${limit.soft}` : ''}).`;
  return encodeErrorResponse({ severity: 'FATAL', code: TOO_MANY_CONNECTIONS_CODE, message: TOO_MANY_CLIENTS, detail });
}

interface RefusalDeps {
  clientTls: ClientTlsContexts | null;
  clientKeylog: KeyLogWriter | null;
  /** The client sent a CancelRequest: serve it after all (the stream, with the bytes put back). */
  handOver: (stream: net.Socket) => void;
  /** The refusal is over (the client's socket closed, or it was handed over). */
  done: (r: Refusal) => void;
}

/**
 * The answer without waiting for the startup packet, and the descriptor back at once: the
 * write reaches the kernel before close() (Node tries a write at once), which sends it on,
 * then FIN, or RST when the client had sent bytes still unread (a Linux client reads what
 * came before the reset).
 */
function answerAtOnce(socket: net.Socket, error: Buffer): void {
  socket.on('error', () => undefined);
  socket.setNoDelay(true);
  socket.write(error);
  socket.destroy();
}

/**
 * One refused client, as a PostgreSQL dead-end backend treats it: negotiate (SSLRequest,
 * GSSENCRequest, direct TLS), read the startup packet, answer FATAL 53300, close.
 */
class Refusal {
  private stream: net.Socket | tls.TLSSocket;
  private buf: Buffer = Buffer.alloc(0);
  private received = 0;
  private sslDone = false;
  private gssDone = false;
  private answered = false;
  private over = false;
  private readonly timer: NodeJS.Timeout;
  private readonly started: number;

  constructor(
    private readonly raw: net.Socket,
    private readonly error: Buffer,
    private readonly deps: RefusalDeps,
    now: number,
  ) {
    this.stream = raw;
    this.started = now;
    raw.setNoDelay(true);
    raw.on('error', this.onError);
    raw.once('close', this.onClose);
    this.timer = setTimeout(() => this.destroy(), REFUSAL_TIMEOUT_MS);
    this.timer.unref();
    raw.on('data', this.onData);
  }

  /** Still waiting for the client's startup packet (not answered, not over). */
  get waiting(): boolean {
    return !this.answered && !this.over;
  }

  /** How long the client has sent nothing (since it connected, if it never did). */
  idleSince(now: number): number {
    return this.received === 0 && this.stream === this.raw ? now - this.started : 0;
  }

  /** Close now; the refusal is over at once (its place is free for another). */
  destroy(): void {
    this.stream.destroy();
    this.raw.destroy();
    clearTimeout(this.timer);
    this.finish();
  }

  private readonly onError = (): void => {
    /* the client went away: 'close' follows */
  };

  private readonly onTlsClose = (): void => this.destroy();

  private readonly onClose = (): void => {
    clearTimeout(this.timer);
    this.finish();
  };

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.deps.done(this);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.answered || this.over) return; // after the answer: read and drop, until the client closes
    this.received += chunk.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.step();
  };

  private step(): void {
    for (;;) {
      if (this.answered || this.over) return;
      const b = this.buf;
      if (this.stream === this.raw && this.received === b.length && b.length >= 1 && b[0] === 0x16) {
        // Direct TLS (PostgreSQL 17): a TLS ClientHello where a startup packet would be.
        if (!this.deps.clientTls) return this.destroy();
        this.startTls(b);
        return;
      }
      if (b.length < 8) return;
      const len = b.readUInt32BE(0);
      // PostgreSQL closes these without a word ("invalid length of startup packet", a COMMERROR).
      if (len < 8 || len > MAX_STARTUP_PACKET) return this.destroy();
      if (b.length < len) return;
      const code = b.readUInt32BE(4);
      if (code === CANCEL_REQUEST) return this.handOver();
      if (code === SSL_REQUEST) {
        if (this.sslDone || this.stream !== this.raw) return this.answer();
        this.sslDone = true;
        this.buf = b.subarray(len);
        if (!this.deps.clientTls) {
          this.stream.write('N');
          continue;
        }
        // CVE-2021-23214: bytes after SSLRequest, before the handshake, are not to be trusted.
        if (this.buf.length) return this.destroy();
        this.stream.write('S');
        this.startTls(Buffer.alloc(0));
        return;
      }
      if (code === GSSENC_REQUEST) {
        if (this.gssDone) return this.answer();
        this.gssDone = true;
        this.buf = b.subarray(len);
        this.stream.write('N');
        continue;
      }
      // A StartupMessage (or anything else a server would refuse anyway): the answer.
      return this.answer();
    }
  }

  /** FATAL 53300, then close once the client has read it (or after a grace period). */
  private answer(): void {
    if (this.answered || this.over) return;
    this.answered = true;
    const s = this.stream;
    if (s.destroyed || !s.writable) return this.destroy();
    s.end(this.error);
    // The client closes when it has read the error; one that does not is closed for it.
    setTimeout(() => this.destroy(), CLOSE_GRACE_MS).unref();
  }

  private handOver(): void {
    const s = this.stream;
    s.off('data', this.onData);
    s.off('error', this.onError);
    s.off('close', this.onTlsClose);
    this.raw.off('error', this.onError);
    this.raw.off('close', this.onClose);
    clearTimeout(this.timer);
    s.pause();
    s.unshift(this.buf);
    this.buf = Buffer.alloc(0);
    this.finish();
    this.deps.handOver(s);
    // The connection has its 'data' listener now; the stream was paused explicitly, so it
    // flows again only when told (on the next tick, with the bytes put back first).
    s.resume();
  }

  private startTls(initial: Buffer): void {
    const raw = this.raw;
    raw.off('data', this.onData);
    this.buf = Buffer.alloc(0);
    this.received = 0;
    let t: tls.TLSSocket;
    try {
      t = serverSideTls(raw, initial, this.deps.clientTls!, this.deps.clientKeylog);
    } catch {
      this.destroy();
      return;
    }
    this.stream = t;
    t.on('error', this.onError);
    t.once('close', this.onTlsClose);
    t.once('secure', () => {
      this.sslDone = true;
      this.gssDone = true;
      t.on('data', this.onData);
    });
  }
}
