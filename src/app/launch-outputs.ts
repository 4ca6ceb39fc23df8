import { openOutputs, showsMessages, type OutputsConfig } from '../output/outputs.js';
import type { DecodeItem } from '../session/decode-elsewhere.js';
import type { ProxyEvent } from '../session/events.js';
import { DecodeThread, type OutputsPlan } from './decode-thread.js';

/** The outputs as launch.ts drives them, on this thread or on the decode thread. */
export interface LaunchOutputs extends OutputsPlan {
  log(ev: ProxyEvent): void;
  flush(): void;
  /** The summary into the text log; false when there is none (no --summary). */
  printSummary(): boolean;
  /** Flush, give readers until `deadline`, close; false when something was given up. */
  close(deadline: number): Promise<boolean>;
  /** Where sessions hand their decoding over (the decode thread), or null: they decode on the forwarding thread. */
  readonly decodeElsewhere: ((item: DecodeItem) => void) | null;
}

export interface LaunchOutputsOptions {
  /**
   * Decode on the forwarding thread: --inline-decoding, or something there needs every
   * decoded event (the inspector, startProxy()'s listeners), or the text log goes to a
   * function of the caller's. (A hook or fault rules decide on the forwarding thread, on its
   * own decoding; the outputs' decoding still moves.)
   */
  inline: boolean;
  /** Writes the text log instead of its file or stream (startProxy's `write`, tests). */
  writeText?: (text: string) => void;
  onTextLogGone: () => void;
  /** Stop reading traffic (true) or go on (false): an output's reader is behind under --lossless, or the decode thread is. */
  onBehind: (behind: boolean) => void;
}

/**
 * The outputs: on a decode thread (decode-thread.ts) unless `inline` (or nothing shows
 * traffic: then the sessions decode only what they need themselves, and there is nothing to
 * move off the forwarding thread).
 */
export async function openLaunchOutputs(config: OutputsConfig, opts: LaunchOutputsOptions): Promise<LaunchOutputs> {
  let decodeBehind = false;
  let congested = false;
  const behind = (): void => opts.onBehind(decodeBehind || congested);
  const onCongestion = (c: boolean): void => {
    congested = c;
    behind();
  };
  if (opts.inline || opts.writeText || !showsMessages(config)) {
    const o = openOutputs(config, { ...(opts.writeText ? { writeText: opts.writeText } : {}), onTextLogGone: opts.onTextLogGone, onCongestion });
    return { ...plan(o), log: o.log, flush: o.flush, printSummary: () => o.printSummary(), close: (deadline) => o.close(deadline), decodeElsewhere: null };
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
  });
  return {
    ...t.plan,
    log: (ev) => t.log(ev),
    flush: () => t.flush(),
    printSummary: () => t.printSummary(config.summary),
    close: (deadline) => t.close(deadline),
    decodeElsewhere: (item) => t.decode(item),
  };
}

function plan(o: OutputsPlan): OutputsPlan {
  return { wire: o.wire, statements: o.statements, showsMessages: o.showsMessages, textLogTarget: o.textLogTarget, filterDescription: o.filterDescription };
}
