/**
 * The forwarding thread's side of the decode thread (decode-worker.ts): the outputs as
 * launch.ts sees them (log, flush, summary, close), and where sessions hand their
 * conversations over (decode). Entries are gathered for one turn of the event loop (or up
 * to BATCH_BYTES) and posted as one message (decode-transfer.ts), after the I/O that
 * turn carried out.
 *
 * The hand-off is bounded: when the bytes posted and not yet decoded pass HIGH_WATER, the
 * decode thread is behind, and no client or server is read from (`onBehind(true)`) until
 * they are under a quarter of it. That is the speed of decoding setting the pace, as it did when
 * decoding ran on the forwarding thread; what the outputs cannot write in time is still
 * dropped with a marker (or waited for, with --lossless) by their own rule, on that thread.
 */
import { Worker } from 'node:worker_threads';
import { FaultRuleError } from '../faults/rule.js';
import { OutputSetupError } from '../output/output-setup-error.js';
import type { Outputs, OutputsConfig } from '../output/outputs.js';
import type { DecodeEntry, DecodeItem } from '../session/decode-elsewhere.js';
import type { ProxyEvent } from '../session/events.js';
import type { FaultOp } from '../web/fault-control.js';
import { batchBytes, packBatch, type Batch } from './decode-transfer.js';
import { pickLiveInspectorConfig, type LiveInspectorConfig } from './live-inspector.js';

/**
 * The hand-off's bookkeeping, shared by both threads (Int32Array over a SharedArrayBuffer,
 * read and written with Atomics; byte counts modulo 2^32): what was posted, what was
 * decoded, and whether the forwarding thread waits to be told that the decode thread caught
 * up. No message per batch goes back.
 */
export const SHARED = { posted: 0, decoded: 1, waiting: 2, low: 3 } as const;

/** What launch.ts needs to know of the outputs to set the sessions up. */
export type OutputsPlan = Pick<Outputs, 'wire' | 'statements' | 'showsMessages' | 'textLogTarget' | 'filterDescription'>;

export type ToDecodeThread =
  | { kind: 'batch'; batch: Batch }
  /** `ack`: answer 'flushed' once written (or queued for a slow reader). */
  | { kind: 'flush'; ack?: true }
  | { kind: 'summary' }
  | { kind: 'close'; deadline: number }
  /** --ui: serve the inspector now (the proxy listens). */
  | { kind: 'ui-start'; title: string }
  | { kind: 'ui-close' }
  /** The answer to a 'fault' request. */
  | { kind: 'fault-result'; id: number; value?: unknown; error?: FaultError };

/** An error of a fault operation, as it crosses: a FaultRuleError's parts, or a message. */
export type FaultError = { rule: string; pos: number; problem: string } | { message: string };

export type FromDecodeThread =
  | { kind: 'ready'; plan: OutputsPlan }
  | { kind: 'setup-error'; name: string; message: string }
  /** Bytes waiting to be decoded went under a quarter of the bound, while the forwarding thread waited. */
  | { kind: 'drained' }
  | { kind: 'congested'; congested: boolean }
  | { kind: 'text-log-gone' }
  | { kind: 'closed'; whole: boolean }
  | { kind: 'flushed' }
  | { kind: 'ui-started'; url: string }
  | { kind: 'ui-failed'; code?: string; message: string }
  | { kind: 'ui-closed' }
  /** The inspector's API lists or switches the fault rules, which live on the forwarding thread. */
  | { kind: 'fault'; id: number; op: FaultOp };

/** The inspector on the decode thread (--ui): its flags, and the proxy's fault rules it lists and switches. */
export interface DecodeThreadInspector {
  config: LiveInspectorConfig;
  /** Carries out one operation on the rules (throws as FaultSet does); null: no rules. */
  faults: ((op: FaultOp) => unknown) | null;
}

/** What the worker is started with. */
export interface DecodeWorkerData {
  outputs: OutputsConfig;
  shared: Int32Array;
  inspector: { config: LiveInspectorConfig; faults: boolean } | null;
}

/** Bytes handed to the decode thread and not yet decoded, above which traffic waits. */
const HIGH_WATER = 8 * 1024 * 1024;
/**
 * With --lossless, the traffic waits as soon as the decode thread is a little behind: an
 * output's reader that stops reading must stop the traffic within a few messages, as it
 * does when decoding inline, not after 8 MiB were forwarded unseen.
 */
const LOSSLESS_HIGH_WATER = 64 * 1024;
/** A batch goes at once when its bytes pass this (a bulk transfer). */
const BATCH_BYTES = 1024 * 1024;

export interface DecodeThreadOptions {
  /** --lossless (see LOSSLESS_HIGH_WATER). */
  lossless: boolean;
  /** The hand-off is full (true: stop reading traffic) or has room again. */
  onBehind: (behind: boolean) => void;
  /** --lossless: an output's reader is behind, or caught up (from the decode thread). */
  onCongestion: (congested: boolean) => void;
  /** The text log's reader on standard output went away. */
  onTextLogGone: () => void;
  /** Warnings about the thread itself (standard error). */
  warn: (text: string) => void;
  /** --ui: the inspector runs on the decode thread too (see startInspector). */
  inspector?: DecodeThreadInspector | null;
}

export class DecodeThread {
  private pending: DecodeEntry[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private behind = false;
  private dead = false;
  private readonly highWater: number;
  private closed: ((whole: boolean) => void) | null = null;
  private uiStarted: { resolve: (url: string) => void; reject: (e: Error) => void } | null = null;
  private uiClosed: (() => void) | null = null;
  private flushes: (() => void)[] = [];

  private constructor(
    private readonly worker: Worker,
    readonly plan: OutputsPlan,
    private readonly opts: DecodeThreadOptions,
    private readonly shared: Int32Array,
  ) {
    this.highWater = opts.lossless ? LOSSLESS_HIGH_WATER : HIGH_WATER;
    Atomics.store(shared, SHARED.low, this.highWater / 4);
    worker.on('message', (m: FromDecodeThread) => this.onMessage(m));
    worker.on('error', (e) => this.fail(e instanceof Error ? e.message : String(e)));
    worker.on('exit', (code) => {
      if (this.closed === null) this.fail(`it exited (${code})`);
    });
  }

  /** Start the thread and open the outputs there; an output that cannot be opened rejects as openOutputs throws. */
  static async start(outputs: OutputsConfig, opts: DecodeThreadOptions): Promise<DecodeThread> {
    const here = import.meta.url;
    // Run from src/ by tsx (tests), the worker is TypeScript too: the loader is inherited.
    const shared = new Int32Array(new SharedArrayBuffer(4 * 4));
    const ui = opts.inspector ?? null;
    const workerData: DecodeWorkerData = { outputs: pickOutputsConfig(outputs), shared, inspector: ui ? { config: pickLiveInspectorConfig(ui.config), faults: ui.faults !== null } : null };
    const worker = new Worker(new URL(here.endsWith('.ts') ? './decode-worker.ts' : './decode-worker.js', here), { workerData });
    const first = await new Promise<FromDecodeThread>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (first.kind === 'setup-error') {
      await worker.terminate();
      const e = first.name === 'OutputSetupError' ? new OutputSetupError(first.message) : new Error(first.message);
      throw e;
    }
    if (first.kind !== 'ready') throw new Error(`the decode thread said ${first.kind} first`);
    const t = new DecodeThread(worker, first.plan, opts, shared);
    // The thread alone does not keep the process alive (a setup error after this point ends
    // the process as before); close() holds it until the outputs are closed.
    worker.unref();
    return t;
  }

  /** An event of the proxy's own, in order with the decode items around it. */
  log(event: ProxyEvent): void {
    this.add({ kind: 'event', event });
  }

  /** A session's hand-over or chunk. */
  decode(item: DecodeItem): void {
    this.add(item);
    if (item.kind !== 'chunk') return;
    this.pendingBytes += item.bytes.length;
    if (this.pendingBytes >= Math.min(BATCH_BYTES, this.highWater)) this.post();
  }

  /** Post what is gathered, then have the outputs flush. */
  flush(): void {
    this.post();
    this.send({ kind: 'flush' });
  }

  /**
   * Like flush(), resolving once the decode thread has written what was logged before (or
   * queued it for a reader that is not reading), so that what the forwarding thread then
   * writes itself (the demo's banner) comes after it.
   */
  flushed(): Promise<void> {
    this.post();
    return new Promise<void>((resolve) => {
      if (this.dead) return resolve();
      this.flushes.push(resolve);
      this.send({ kind: 'flush', ack: true });
    });
  }

  /** The summary into the text log (at exit, SIGUSR1); `summary`: there is one (--summary). */
  printSummary(summary: boolean): boolean {
    this.post();
    this.send({ kind: 'summary' });
    return summary;
  }

  /**
   * --ui: serve the inspector (on the decode thread, which is fed every event); resolves to
   * its address with the token. Rejects as the server's listen does (with its `code`).
   */
  startInspector(title: string): Promise<string> {
    this.post();
    return new Promise<string>((resolve, reject) => {
      if (this.dead) return reject(new Error('the decode thread failed'));
      this.uiStarted = { resolve, reject };
      this.send({ kind: 'ui-start', title });
    });
  }

  /** Stop serving the inspector (what it was sent so far is taken first). */
  closeInspector(): Promise<void> {
    this.post();
    return new Promise<void>((resolve) => {
      if (this.dead) return resolve();
      this.uiClosed = resolve;
      this.send({ kind: 'ui-close' });
    });
  }

  /** Everything posted, the outputs closed (see Outputs.close), the thread ended. Resolves to false when something was given up. */
  async close(deadline: number): Promise<boolean> {
    this.post();
    this.worker.ref();
    let whole = true;
    if (!this.dead) {
      whole = await new Promise<boolean>((resolve) => {
        this.closed = resolve;
        this.send({ kind: 'close', deadline });
      });
    }
    this.closed ??= () => {};
    await this.worker.terminate();
    this.setBehind(false);
    return whole;
  }

  private add(entry: DecodeEntry): void {
    if (this.dead) return;
    this.pending.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      // After this turn's I/O: the bytes are on their way first. (Gathering for longer, a
      // timer of 2 ms, cost less CPU at one client but more at p99: the post, and the
      // decode thread's burst after it, then land at random on a round trip.)
      setImmediate(() => this.post());
    }
  }

  private post(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.dead) return;
    const batch = packBatch(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const bytes = batchBytes(batch);
    const shared = this.shared;
    if (bytes > 0) Atomics.add(shared, SHARED.posted, bytes);
    this.send({ kind: 'batch', batch }, batch.data ? [batch.data] : []);
    if (!this.behind && this.inFlight() > this.highWater) {
      // Waiting to be told; then looked at again, in case the decode thread caught up in between.
      Atomics.store(shared, SHARED.waiting, 1);
      if (this.inFlight() > this.highWater / 4) this.setBehind(true);
      else Atomics.store(shared, SHARED.waiting, 0);
    }
  }

  /** Bytes posted and not yet decoded. */
  private inFlight(): number {
    return (Atomics.load(this.shared, SHARED.posted) - Atomics.load(this.shared, SHARED.decoded)) | 0;
  }

  private send(m: ToDecodeThread, transfer: ArrayBuffer[] = []): void {
    if (!this.dead) this.worker.postMessage(m, transfer);
  }

  private onMessage(m: FromDecodeThread): void {
    switch (m.kind) {
      case 'drained':
        this.setBehind(false);
        return;
      case 'congested':
        this.opts.onCongestion(m.congested);
        return;
      case 'text-log-gone':
        this.opts.onTextLogGone();
        return;
      case 'closed':
        this.closed?.(m.whole);
        return;
      case 'flushed':
        this.flushes.shift()?.();
        return;
      case 'ui-started':
        this.uiStarted?.resolve(m.url);
        this.uiStarted = null;
        return;
      case 'ui-failed':
        this.uiStarted?.reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
        this.uiStarted = null;
        return;
      case 'ui-closed':
        this.uiClosed?.();
        this.uiClosed = null;
        return;
      case 'fault':
        this.send({ kind: 'fault-result', id: m.id, ...this.faultOp(m.op) });
        return;
      default:
        return;
    }
  }

  /** One operation on the proxy's fault rules, for the inspector on the decode thread. */
  private faultOp(op: FaultOp): { value?: unknown; error?: FaultError } {
    const faults = this.opts.inspector?.faults;
    if (!faults) return { error: { message: 'this proxy has no fault rules' } };
    try {
      return { value: faults(op) };
    } catch (e) {
      if (e instanceof FaultRuleError) return { error: { rule: e.rule, pos: e.pos, problem: e.problem } };
      return { error: { message: e instanceof Error ? e.message : String(e) } };
    }
  }

  private setBehind(behind: boolean): void {
    if (behind === this.behind) return;
    this.behind = behind;
    this.opts.onBehind(behind);
  }

  /** The thread failed (a bug): the outputs end here, the traffic goes on. */
  private fail(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.pending = [];
    this.opts.warn(`the decode thread failed (${why}): nothing more is logged; the traffic goes on`);
    this.setBehind(false);
    this.closed?.(false);
    this.uiStarted?.reject(new Error(`the decode thread failed (${why})`));
    this.uiStarted = null;
    this.uiClosed?.();
    this.uiClosed = null;
    for (const f of this.flushes.splice(0)) f();
  }
}

/** The flags the outputs read, alone (a Config holds more than a worker can be sent). */
function pickOutputsConfig(c: OutputsConfig): OutputsConfig {
  const { logForwarded, maxValueBytes, verbose, redactPasswords, colour, logfile, clearLogfile, jsonl, pcap, queryLog, filter, summary, lossless } = c;
  return { logForwarded, maxValueBytes, verbose, redactPasswords, colour, logfile, clearLogfile, jsonl, pcap, queryLog, filter, summary, lossless };
}
