import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync, type Stats } from 'node:fs';
import net from 'node:net';
import { OutputSetupError } from './output-setup-error.js';

/**
 * Where one output's bytes go (a file, a FIFO, a terminal, standard output or error), written
 * so that a reader that stops reading can never stop pgscope: forwarding never waits on an
 * output.
 *
 * - Writes never block. Pipes and terminals are written through a file description of
 *   pgscope's own opened with O_NONBLOCK (reopened through /proc/self/fd, so the shell's
 *   description, shared with other programs, keeps its mode); sockets through Node's own
 *   non-blocking stream; regular files as they are (the kernel never makes those wait on a
 *   reader). What the reader does not take at once waits in a queue, retried on a timer.
 * - The queue is bounded (`limit` bytes). When it is full, each further batch is dropped
 *   whole (a batch is whole lines or whole pcapng blocks, so what is written stays
 *   readable), counted, and where the gap is, a marker says how many units were dropped
 *   ("N lines dropped here: …"). With `lossless`, nothing is dropped: the queue may grow
 *   past the limit, and `onCongestion(true)` asks the proxy to stop reading from clients
 *   and servers until the reader has caught up (`onCongestion(false)`).
 * - A write error (the reader went away: EPIPE; a full disk) stops this output with one
 *   warning; the proxy and the other outputs go on.
 */
export interface OutputTargetOptions {
  /** How messages name this output: "the text log", "--jsonl trace.jsonl". */
  label: string;
  /** What one unit of this output is, for the drop counts: "line", "block". */
  unit: string;
  warn: (text: string) => void;
  /** Most bytes queued for a reader that is behind (default OUTPUT_QUEUE_LIMIT). */
  limit?: number;
  /** Never drop: report congestion instead (--lossless). */
  lossless?: boolean;
  /** The marker written where `units` units were dropped, or null to write none. */
  gapMarker?: (units: number, time: number) => Buffer | null;
  /** Called once when the reader has gone (EPIPE) instead of the warning (the text log on standard output stops pgscope, as SIGPIPE would). */
  onBrokenPipe?: () => void;
  onCongestion?: (congested: boolean) => void;
}

/** 8 MiB per output: seconds of a busy annotated log, a few MB of memory at most per output. */
export const OUTPUT_QUEUE_LIMIT = 8 * 1024 * 1024;

/** Retry delays while a reader is behind: short at first, then at most this often. */
const RETRY_MIN_MS = 2;
const RETRY_MAX_MS = 50;

/** What a target has dropped so far. */
export interface DropCount {
  label: string;
  unit: string;
  units: number;
  bytes: number;
}

export class OutputTarget {
  private readonly queue: Buffer[] = [];
  /** Bytes of queue[0] already written. */
  private headOffset = 0;
  private queued = 0;
  private retry: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  private failed = false;
  private closed = false;
  private congested = false;
  /** Dropped since the last marker, not yet marked. */
  private gapUnits = 0;
  private readonly total: DropCount;
  private readonly limit: number;
  /** Set for sockets: Node's non-blocking stream does the queueing. */
  private readonly socket: net.Socket | null;
  /** Where writeText encodes (reused: most batches are written at once). */
  private scratch: Buffer = Buffer.alloc(0);

  private constructor(
    private readonly fd: number,
    private readonly owned: boolean,
    /** The file (device, inode) behind it, to refuse two outputs on one file; null for terminals and devices. */
    readonly identity: string | null,
    private readonly opts: OutputTargetOptions,
    /** Opened from a path named on the command line (not standard output or error). */
    readonly named: boolean,
    socket: net.Socket | null = null,
  ) {
    this.limit = opts.limit ?? OUTPUT_QUEUE_LIMIT;
    this.total = { label: opts.label, unit: opts.unit, units: 0, bytes: 0 };
    this.socket = socket;
    socket?.on('error', (e) => this.fail(e));
  }

  /**
   * An output file named on the command line: opened fresh (truncated; `append` keeps what
   * is there, for --logfile without -c), readable by its owner only (it holds decrypted
   * traffic: an existing regular file is made owner-only too), never through a symbolic
   * link (one planted in /tmp could send the traffic elsewhere). A FIFO or a device is the
   * user's choice, used as is. "-" is standard output. An error opening it is a mistake in
   * the command line (OutputSetupError).
   */
  static openPath(flag: string, path: string, append: boolean, opts: Omit<OutputTargetOptions, 'label'> & { label?: string }): OutputTarget {
    const label = opts.label ?? `${flag} ${path}`;
    if (path === '-') return OutputTarget.forFd(1, { ...opts, label });
    let fd: number | null = null;
    try {
      // O_APPEND: a file truncated from outside (logrotate's copytruncate, `: > FILE`) is written from its new end, without a hole.
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW | (append ? 0 : constants.O_TRUNC), 0o600);
      const st = fstatSync(fd);
      if (st.isFile() && (st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      const nb = st.isFIFO() || st.isCharacterDevice() ? reopenNonBlocking(fd) : null;
      if (nb !== null) closeSync(fd);
      return new OutputTarget(nb ?? fd, true, identityOf(st), { ...opts, label }, true);
    } catch (e) {
      if (fd !== null) {
        try {
          closeSync(fd);
        } catch {
          /* the error below says what went wrong */
        }
      }
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ELOOP' ? 'it is a symbolic link (refused: outputs hold decrypted traffic)' : err instanceof Error ? err.message : String(e);
      throw new OutputSetupError(`${flag}: cannot open "${path}": ${why}`);
    }
  }

  /** Standard output (1) or error (2): a non-blocking description of its own where it is a pipe or a terminal. */
  static forFd(fd: 1 | 2, opts: OutputTargetOptions): OutputTarget {
    const st = safeFstat(fd);
    // A socket (a service's journal) cannot be reopened: Node's own stream for it is
    // non-blocking already (a second handle on the same descriptor would confuse libuv).
    if (st?.isSocket()) return new OutputTarget(fd, false, null, opts, false, (fd === 1 ? process.stdout : process.stderr) as net.Socket);
    const nb = st && (st.isFIFO() || st.isCharacterDevice()) ? reopenNonBlocking(fd) : null;
    return new OutputTarget(nb ?? fd, nb !== null, st ? identityOf(st) : null, opts, false);
  }

  /** How messages name this output. */
  get label(): string {
    return this.opts.label;
  }

  /** Bytes waiting for the reader. */
  get backlog(): number {
    return this.socket ? this.socket.writableLength : this.queued;
  }

  /** Everything dropped so far. */
  get dropped(): DropCount {
    return { ...this.total };
  }

  /** Write `text` (`units` lines of it), or queue it, or drop it if the queue is full. */
  writeText(text: string, units: number): void {
    if (this.failed || this.closed) return;
    const most = text.length * 3;
    if (this.scratch.length < most && most <= 4 * 1024 * 1024) this.scratch = Buffer.allocUnsafeSlow(Math.max(most, 64 * 1024));
    if (most > this.scratch.length) return this.write(Buffer.from(text, 'utf8'), units);
    const n = this.scratch.write(text, 0, 'utf8');
    this.write(this.scratch.subarray(0, n), units);
  }

  /**
   * Write `bytes` (`units` lines or blocks), or queue a copy, or drop them if the queue is
   * full. `bytes` may be reused by the caller once this returns.
   */
  write(bytes: Buffer, units: number): void {
    if (this.failed || this.closed || bytes.length === 0) return;
    if (!this.opts.lossless && this.backlog > 0 && this.backlog + bytes.length > this.limit) {
      this.gapUnits += units;
      this.total.units += units;
      this.total.bytes += bytes.length;
      return;
    }
    if (this.gapUnits > 0) this.markGap();
    this.send(bytes, true);
  }

  /** Everything queued written (or given up on) by `deadline` (ms, Date.now()); true if nothing is left. */
  async drain(deadline: number): Promise<boolean> {
    if (this.gapUnits > 0 && !this.failed) this.markGap();
    while (!this.failed && this.backlog > 0 && Date.now() < deadline) {
      this.pump();
      if (this.backlog === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.failed || this.backlog === 0;
  }

  /** Stop: what is still queued is given up (drain first to keep it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.queue.length = 0;
    this.queued = 0;
    // Node's stream would keep the process alive until a reader that is not reading takes
    // what it holds: given up, as the queue above.
    if (this.socket && this.socket.writableLength > 0) this.socket.destroy();
    if (this.owned) {
      try {
        closeSync(this.fd);
      } catch {
        /* nothing to report */
      }
    }
  }

  private markGap(): void {
    const units = this.gapUnits;
    this.gapUnits = 0;
    const marker = this.opts.gapMarker?.(units, Date.now());
    if (marker) this.send(marker, true);
  }

  private send(bytes: Buffer, copy: boolean): void {
    if (this.socket) {
      this.socket.write(copy ? Buffer.from(bytes) : bytes);
      this.watchCongestion();
      return;
    }
    let off = 0;
    if (this.queued === 0) {
      const r = this.writeSome(bytes, 0);
      if (r === null) return;
      off = r;
      if (off === bytes.length) return;
    }
    const rest = bytes.subarray(off);
    this.queue.push(copy ? Buffer.from(rest) : rest);
    this.queued += rest.length;
    this.watchCongestion();
    this.schedule();
  }

  /** Write as much of bytes[from…] as the reader takes now; the new offset, or null after an error. */
  private writeSome(bytes: Buffer, from: number): number | null {
    let off = from;
    while (off < bytes.length) {
      try {
        const n = writeSync(this.fd, bytes, off, bytes.length - off);
        if (n <= 0) break;
        off += n;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        this.fail(e);
        return null;
      }
    }
    return off;
  }

  /** Write what the queue holds, as far as the reader takes it. */
  private pump(): void {
    while (this.queue.length > 0 && !this.failed) {
      const head = this.queue[0]!;
      const off = this.writeSome(head, this.headOffset);
      if (off === null) return;
      this.queued -= off - this.headOffset;
      if (off < head.length) {
        this.headOffset = off;
        break;
      }
      this.queue.shift();
      this.headOffset = 0;
    }
    this.watchCongestion();
  }

  private schedule(): void {
    if (this.retry || this.closed || this.failed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      const before = this.queued;
      this.pump();
      if (this.queued === 0) {
        this.retryMs = RETRY_MIN_MS;
        return;
      }
      // Back off while the reader takes nothing; come back quickly while it is taking.
      this.retryMs = this.queued < before ? RETRY_MIN_MS : Math.min(this.retryMs * 2, RETRY_MAX_MS);
      this.schedule();
    }, this.retryMs);
    this.retry.unref();
  }

  private watchCongestion(): void {
    if (!this.opts.lossless || !this.opts.onCongestion) return;
    const b = this.backlog;
    if (!this.congested && b > this.limit) {
      this.congested = true;
      this.opts.onCongestion(true);
      if (this.socket) this.socket.once('drain', () => this.watchCongestion());
    } else if (this.congested && b <= this.limit / 2) {
      this.congested = false;
      this.opts.onCongestion(false);
    }
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.queue.length = 0;
    this.queued = 0;
    if (this.congested) {
      this.congested = false;
      this.opts.onCongestion?.(false);
    }
    if ((e as NodeJS.ErrnoException).code === 'EPIPE' && this.opts.onBrokenPipe) {
      this.opts.onBrokenPipe();
      return;
    }
    this.opts.warn(`${this.opts.label}: cannot write any more (${e instanceof Error ? e.message : String(e)}): this output stopped, proxying goes on`);
  }
}

/**
 * A non-blocking description of the pipe or terminal behind `fd`, of pgscope's own: opening
 * /proc/self/fd/N opens the pipe or device anew, so O_NONBLOCK does not change the mode of
 * the description the shell (and other programs) share. null where that is not possible.
 */
function reopenNonBlocking(fd: number): number | null {
  try {
    return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY | constants.O_APPEND);
  } catch {
    return null;
  }
}

function safeFstat(fd: number): Stats | null {
  try {
    return fstatSync(fd);
  } catch {
    return null;
  }
}

/** Files and pipes are identified by device and inode; terminals and other devices (/dev/null) may be shared. */
function identityOf(st: Stats): string | null {
  return st.isFile() || st.isFIFO() ? `${st.dev}:${st.ino}` : null;
}
