/**
 * The decode thread (a worker_threads Worker started by decode-thread.ts): the outputs,
 * and the DecodeStage that decodes what the sessions handed over. Everything the outputs
 * write is written from here, so that neither decoding, nor rendering, nor the garbage
 * they make, nor a slow disk ever runs on the thread that forwards the traffic.
 */
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { mergeAnalysis } from '../analysis/connection-statements.js';
import { FaultRuleError } from '../faults/rule.js';
import { openOutputs, type Outputs } from '../output/outputs.js';
import { DecodeStage } from '../session/decode-elsewhere.js';
import type { ProxyEvent } from '../session/events.js';
import { faultControl, type FaultOp } from '../web/fault-control.js';
import { batchBytes, unpackBatch } from './decode-transfer.js';
import { SHARED, type DecodeWorkerData, type FaultError, type FromDecodeThread, type ToDecodeThread } from './decode-thread.js';
import { inspectorAnalysis, liveInspector, type LiveInspector } from './live-inspector.js';

const port = parentPort!;
const data = workerData as DecodeWorkerData;
const shared = data.shared;
const post = (m: FromDecodeThread): void => port.postMessage(m);

// The thread's name in /proc/PID/task/TID/comm, where the bench finds its CPU time.
try {
  writeFileSync('/proc/thread-self/comm', 'pgscope-decode');
} catch {
  // Not Linux: the name is only for measuring.
}

function open(): Outputs | null {
  try {
    return openOutputs(data.outputs, {
      onCongestion: (congested) => post({ kind: 'congested', congested }),
      onTextLogGone: () => post({ kind: 'text-log-gone' }),
    });
  } catch (e) {
    post({ kind: 'setup-error', name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) });
    port.close();
    return null;
  }
}

/** The fault rules' operations asked of the forwarding thread, by request id. */
const faultRequests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextFaultRequest = 1;
function askFaults(op: FaultOp): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = nextFaultRequest++;
    faultRequests.set(id, { resolve, reject });
    post({ kind: 'fault', id, op });
  });
}
function faultAnswered(id: number, value: unknown, error: FaultError | undefined): void {
  const r = faultRequests.get(id);
  if (!r) return;
  faultRequests.delete(id);
  if (!error) r.resolve(value);
  else r.reject('rule' in error ? new FaultRuleError(error.rule, error.pos, error.problem) : new Error(error.message));
}

const outputs = open();
if (outputs) {
  post({ kind: 'ready', plan: { wire: outputs.wire, statements: outputs.statements, showsMessages: outputs.showsMessages, textLogTarget: outputs.textLogTarget, filterDescription: outputs.filterDescription } });
  // --ui: the inspector is fed every event here, after the outputs (as launch.ts taps them inline).
  const ui: LiveInspector | null = data.inspector ? liveInspector(data.inspector.config, data.inspector.faults ? faultControl(askFaults) : null, { sliced: false }) : null;
  const log = ui
    ? (ev: ProxyEvent): void => {
        outputs.log(ev);
        ui.sink.write(ev);
      }
    : outputs.log;
  const statements = mergeAnalysis(outputs.statements, data.inspector ? inspectorAnalysis(data.inspector.config) : null);
  const stage = new DecodeStage({ statements, wire: outputs.wire }, log);
  const status = (text: string, level: 'info' | 'warn' = 'info'): void => log({ kind: 'status', conn: null, time: Date.now(), level, text });
  let uiClosing: Promise<void> | null = null;
  const closeUi = (): Promise<void> => (uiClosing ??= ui ? ui.close() : Promise.resolve());
  port.on('message', (m: ToDecodeThread) => {
    switch (m.kind) {
      case 'batch': {
        for (const entry of unpackBatch(m.batch)) stage.take(entry);
        const bytes = batchBytes(m.batch);
        if (bytes === 0) return;
        Atomics.add(shared, SHARED.decoded, bytes);
        // The forwarding thread stopped reading until the hand-off is down to a quarter.
        const left = (Atomics.load(shared, SHARED.posted) - Atomics.load(shared, SHARED.decoded)) | 0;
        if (Atomics.load(shared, SHARED.waiting) === 1 && left <= Atomics.load(shared, SHARED.low)) {
          Atomics.store(shared, SHARED.waiting, 0);
          post({ kind: 'drained' });
        }
        return;
      }
      case 'flush':
        outputs.flush();
        if (m.ack) post({ kind: 'flushed' });
        return;
      case 'summary':
        outputs.printSummary();
        return;
      case 'close':
        void closeUi()
          .then(() => outputs.close(m.deadline))
          .then((whole) => post({ kind: 'closed', whole }));
        return;
      case 'ui-start':
        if (!ui) return post({ kind: 'ui-failed', message: 'the decode thread has no inspector' });
        ui.start(m.title, status).then(
          (server) => post({ kind: 'ui-started', url: server.url }),
          (e: unknown) => post({ kind: 'ui-failed', message: e instanceof Error ? e.message : String(e), ...((e as NodeJS.ErrnoException).code ? { code: (e as NodeJS.ErrnoException).code! } : {}) }),
        );
        return;
      case 'ui-close':
        void closeUi().then(() => post({ kind: 'ui-closed' }));
        return;
      case 'fault-result':
        faultAnswered(m.id, m.value, m.error);
        return;
    }
  });
}
