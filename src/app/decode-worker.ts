/**
 * The decode thread (a worker_threads Worker started by decode-thread.ts): the outputs,
 * and the DecodeStage that decodes what the sessions handed over. Everything the outputs
 * write is written from here, so that neither decoding, nor rendering, nor the garbage
 * they make, nor a slow disk ever runs on the thread that forwards the traffic.
 */
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openOutputs, type Outputs, type OutputsConfig } from '../output/outputs.js';
import { DecodeStage } from '../session/decode-elsewhere.js';
import { batchBytes, unpackBatch } from './decode-transfer.js';
import { SHARED, type FromDecodeThread, type ToDecodeThread } from './decode-thread.js';

const port = parentPort!;
const shared = (workerData as { shared: Int32Array }).shared;
const post = (m: FromDecodeThread): void => port.postMessage(m);

// The thread's name in /proc/PID/task/TID/comm, where the bench finds its CPU time.
try {
  writeFileSync('/proc/thread-self/comm', 'pgscope-decode');
} catch {
  // Not Linux: the name is only for measuring.
}

function open(): Outputs | null {
  try {
    return openOutputs((workerData as { outputs: OutputsConfig }).outputs, {
      onCongestion: (congested) => post({ kind: 'congested', congested }),
      onTextLogGone: () => post({ kind: 'text-log-gone' }),
    });
  } catch (e) {
    post({ kind: 'setup-error', name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) });
    port.close();
    return null;
  }
}

const outputs = open();
if (outputs) {
  post({ kind: 'ready', plan: { wire: outputs.wire, statements: outputs.statements, showsMessages: outputs.showsMessages, textLogTarget: outputs.textLogTarget, filterDescription: outputs.filterDescription } });
  const stage = new DecodeStage({ statements: outputs.statements, wire: outputs.wire }, outputs.log);
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
        return;
      case 'summary':
        outputs.printSummary();
        return;
      case 'close':
        void outputs.close(m.deadline).then((whole) => post({ kind: 'closed', whole }));
        return;
    }
  });
}
