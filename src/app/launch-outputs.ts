import type { FaultSet } from '../faults/fault-set.js';
import { openOutputs, showsMessages, type OutputsConfig } from '../output/outputs.js';
import type { DecodeItem } from '../session/decode-elsewhere.js';
import type { ProxyEvent } from '../session/events.js';
import { applyFaultOp, localFaultControl } from '../web/fault-control.js';
import { DecodeThread, type OutputsPlan } from './decode-thread.js';
import { liveInspector, type LiveInspectorConfig } from './live-inspector.js';

/** --ui's inspector, wherever it runs: on the decode thread, or on this one next to inline decoding. */
export interface InspectorControl {
  /** Serve it; resolves to its address with the token, rejects as the server's listen does. */
  start(title: string, status: (text: string, level?: 'info' | 'warn') => void): Promise<string>;
  close(): Promise<void>;
}

/** The outputs as launch.ts drives them, on this thread or on the decode thread. */
export interface LaunchOutputs extends OutputsPlan {
  log(ev: ProxyEvent): void;
  flush(): void;
  /** Flush, resolving once what was logged is written (on the decode thread too). */
  flushed(): Promise<void>;
  /** The summary into the text log; false when there is none (no --summary). */
  printSummary(): boolean;
  /** Flush, give readers until `deadline`, close; false when something was given up. */
  close(deadline: number): Promise<boolean>;
  /** Where sessions hand their decoding over (the decode thread), or null: they decode on the forwarding thread. */
  readonly decodeElsewhere: ((item: DecodeItem) => void) | null;
  /** --ui: the inspector, fed every event `log` is given; null without --ui. */
  readonly inspector: InspectorControl | null;
}

export interface LaunchOutputsOptions {
  /**
   * Decode on the forwarding thread: --inline-decoding, or something there needs every
   * decoded event (startProxy()'s listeners), or the text log goes to a
   * function of the caller's. (A hook or fault rules decide on the forwarding thread, on its
   * own decoding; the outputs' decoding still moves.)
   */
  inline: boolean;
  /** Writes the text log instead of its file or stream (startProxy's `write`, tests). */
  writeText?: (text: string) => void;
  onTextLogGone: () => void;
  /** Stop reading traffic (true) or go on (false): an output's reader is behind under --lossless, or the decode thread is. */
  onBehind: (behind: boolean) => void;
  /**
   * --ui: the inspector's flags and the proxy's fault rules (which it lists and switches).
   * It runs where the decoding runs: on the decode thread, or here when `inline`.
   */
  inspector?: { config: LiveInspectorConfig; faults: FaultSet | null } | null;
}

/**
 * The outputs and --ui's inspector: on a decode thread (decode-thread.ts) unless `inline`
 * (or nothing shows traffic: then the sessions decode only what they need themselves, and
 * there is nothing to move off the forwarding thread).
 */
export async function openLaunchOutputs(config: OutputsConfig, opts: LaunchOutputsOptions): Promise<LaunchOutputs> {
  const ui = opts.inspector ?? null;
  let decodeBehind = false;
  let congested = false;
  const behind = (): void => opts.onBehind(decodeBehind || congested);
  const onCongestion = (c: boolean): void => {
    congested = c;
    behind();
  };
  if (opts.inline || opts.writeText || (!showsMessages(config) && !ui)) {
    const o = openOutputs(config, { ...(opts.writeText ? { writeText: opts.writeText } : {}), onTextLogGone: opts.onTextLogGone, onCongestion });
    const here = ui ? liveInspector(ui.config, ui.faults ? localFaultControl(ui.faults) : null) : null;
    const log = here
      ? (ev: ProxyEvent): void => {
          o.log(ev);
          here.sink.write(ev);
        }
      : o.log;
    const inspector: InspectorControl | null = here
      ? {
          start: async (title, status) => (await here.start(title, status)).url,
          close: () => here.close(),
        }
      : null;
    const flushed = async (): Promise<void> => o.flush();
    return { ...plan(o), log, flush: o.flush, flushed, printSummary: () => o.printSummary(), close: (deadline) => o.close(deadline), decodeElsewhere: null, inspector };
  }
  const t = await DecodeThread.start(config, {
    lossless: config.lossless,
    onBehind: (b) => {
      decodeBehind = b;
      behind();
    },
    onCongestion,
    onTextLogGone: opts.onTextLogGone,
    warn: (text) => process.stderr.write(`pgscope: ${text}\n`),
    inspector: ui ? { config: ui.config, faults: ui.faults ? (op) => applyFaultOp(ui.faults!, op) : null } : null,
  });
  return {
    ...t.plan,
    log: (ev) => t.log(ev),
    flush: () => t.flush(),
    flushed: () => t.flushed(),
    printSummary: () => t.printSummary(config.summary),
    close: (deadline) => t.close(deadline),
    decodeElsewhere: (item) => t.decode(item),
    inspector: ui ? { start: (title) => t.startInspector(title), close: () => t.closeInspector() } : null,
  };
}

function plan(o: OutputsPlan): OutputsPlan {
  return { wire: o.wire, statements: o.statements, showsMessages: o.showsMessages, textLogTarget: o.textLogTarget, filterDescription: o.filterDescription };
}
