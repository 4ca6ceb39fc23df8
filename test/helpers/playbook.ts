/**
 * Session tests that read like the conversation (mitmproxy's Playbook is the model):
 *
 *   playbook(session, [
 *     ['>>', clientData(query)],          // an input
 *     ['<<', sendServer(query)],          // the actions it must produce, in order
 *     ['>>', serverData(answer)],
 *     ['<<', sendClient(answer)],
 *   ]);
 *
 * Log actions are left out of the comparison unless asked for (`logs: true`); `['<<', …]`
 * also takes a predicate for an action that varies. After the last step, every action the
 * last input produced must have been matched.
 */
import assert from 'node:assert/strict';
import type { Session, SessionAction, SessionInput } from '../../src/session/session.js';

export type Play = ['>>', SessionInput] | ['<<', SessionAction | ((a: SessionAction) => boolean)];

export function playbook(session: Session, steps: Play[], opts: { logs?: boolean } = {}): SessionAction[] {
  const all: SessionAction[] = [];
  let pending: SessionAction[] = [];
  let lastInput = '';
  const checkDone = (): void => {
    assert.deepEqual(pending.map(show), [], `after ${lastInput}: actions not in the playbook`);
  };
  for (const [dir, what] of steps) {
    if (dir === '>>') {
      checkDone();
      lastInput = describeInput(what);
      const acts = session.handle(what);
      all.push(...acts);
      pending = opts.logs ? acts : acts.filter((a) => a.type !== 'log');
      continue;
    }
    const next = pending.shift();
    assert.ok(next, `after ${lastInput}: expected ${typeof what === 'function' ? 'an action' : show(what)}, got none`);
    if (typeof what === 'function') assert.ok(what(next), `after ${lastInput}: unexpected ${show(next)}`);
    else assert.deepEqual(show(next), show(what), `after ${lastInput}`);
  }
  checkDone();
  return all;
}

export const clientData = (bytes: Buffer): SessionInput => ({ type: 'client-data', bytes });
export const serverData = (bytes: Buffer): SessionInput => ({ type: 'server-data', bytes });
export const sendServer = (bytes: Buffer, forwarded = true): SessionAction => ({ type: 'send-server', bytes, forwarded });
export const sendClient = (bytes: Buffer, forwarded = true): SessionAction => ({ type: 'send-client', bytes, forwarded });

/** Actions compared with their bytes as hex, so a failure shows what differs. */
function show(a: SessionAction): unknown {
  if (a.type === 'send-client' || a.type === 'send-server') return { type: a.type, forwarded: a.forwarded, bytes: a.bytes.toString('hex') };
  if (a.type === 'log') return { type: 'log', kind: a.event.kind };
  return a;
}

function describeInput(i: SessionInput): string {
  return 'bytes' in i ? `${i.type} (${i.bytes.length} bytes)` : i.type;
}
