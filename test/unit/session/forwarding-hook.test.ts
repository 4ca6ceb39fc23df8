/**
 * The forwarding phase decides per message when a hook is installed (src/session/
 * message-hook.ts): pass, drop, replace, inject, answer the sender, delay (a timer the
 * shell carries out), close or reset; order kept; messages split across chunks and
 * messages too long to hold; and with no hook, or a hook that wants nothing, the same
 * actions as before, bytes first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeErrorResponse } from '../../../src/protocol/encode.js';
import { CancelRegistry } from '../../../src/session/cancel-registry.js';
import type { MessageDecision, MessageHook, MessageView } from '../../../src/session/message-hook.js';
import { Session, type SessionAction, type SessionSettings } from '../../../src/session/session.js';
import { clientData, playbook, sendClient, sendServer, serverData } from '../../helpers/playbook.js';
import { cstr, int16, int32, msg, startupMessage } from '../../helpers/wire.js';

const settings = (hook: MessageHook | null, over: Partial<SessionSettings> = {}): SessionSettings => ({
  serverHost: 'db',
  serverDeleteSuffix: '.local.neon.build',
  serverConnectPort: 5432,
  serverSslnegotiation: 'mimic',
  clientDenySsl: false,
  serverTls: { attempt: false, requireEncryption: false, mode: 'disable' },
  hook,
  ...over,
});

const STARTUP = startupMessage({ user: 'alice', database: 'db' });
const parse = msg('P', cstr(''), cstr('select 1'), int16(0));
const bind = msg('B', cstr(''), cstr(''), int16(0), int16(0), int16(0));
const execute = msg('E', cstr(''), int32(0));
const sync = msg('S');
const query = (sql: string): Buffer => msg('Q', cstr(sql));
const ready = msg('Z', 'I');
const complete = (tag: string): Buffer => msg('C', cstr(tag));

/** A session in the forwarding phase (plaintext both ways), with this hook. */
function forwarding(hook: MessageHook | null, over: Partial<SessionSettings> = {}): Session {
  const s = new Session(1, settings(hook, over), new CancelRegistry());
  s.handle({ type: 'client-data', bytes: STARTUP });
  s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
  s.handle(serverData(Buffer.concat([msg('R', int32(0)), ready])));
  return s;
}

/** A hook that wants client Queries and decides with `decide`; it records what it saw. */
function queryHook(decide: (v: MessageView) => MessageDecision | null): MessageHook & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    wants: (direction, type) => direction === 'frontend' && type === 'Q',
    decide: (v) => {
      seen.push(`${v.message.name} ${v.bytes?.length ?? 'header'}`);
      return decide(v);
    },
  };
}

const labels = (acts: SessionAction[]): string[] =>
  acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'codec' && a.event.event.kind === 'message' ? [`${a.event.label} ${a.event.event.message.name}`] : []));
const statuses = (acts: SessionAction[]): string[] => acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'status' ? [a.event.text] : []));

describe('forwarding without a hook, or with one that wants nothing', () => {
  it('each chunk is written as it came, before it is decoded', () => {
    const chunk = Buffer.concat([parse, bind, execute, sync]);
    for (const hook of [null, { wants: () => false, decide: () => assert.fail('asked') } satisfies MessageHook]) {
      const acts = playbook(forwarding(hook), [
        ['>>', clientData(chunk)],
        ['<<', sendServer(chunk)],
      ]);
      assert.equal(acts[0]!.type, 'send-server', 'the write comes before any log');
      assert.deepEqual(labels(acts), ['client -> server Parse', 'client -> server Bind', 'client -> server Execute', 'client -> server Sync']);
    }
  });
});

describe('forwarding with a hook', () => {
  it('pass: what is not wanted goes out in one run, the wanted message after its decision, in order', () => {
    const hook = queryHook(() => null);
    const s = forwarding(hook);
    const chunk = Buffer.concat([sync, query('select 1'), sync]);
    const acts = playbook(s, [
      ['>>', clientData(chunk)],
      ['<<', sendServer(sync)],
      ['<<', sendServer(query('select 1'))],
      ['<<', sendServer(sync)],
    ]);
    assert.deepEqual(hook.seen, ['Query 14']);
    assert.deepEqual(labels(acts), ['client -> server Sync', 'client -> server Query', 'client -> server Sync']);
  });

  it('answer the sender instead: the Query is not forwarded, the client gets an ErrorResponse and ReadyForQuery as pgscope\'s own', () => {
    const error = encodeErrorResponse({ severity: 'ERROR', code: '40001', message: 'could not serialize access' });
    let calls = 0;
    const s = forwarding(queryHook(() => (calls++ === 0 ? { forward: [], reply: [error, ready], note: 'fault rule 1' } : null)));
    const acts = playbook(s, [
      ['>>', clientData(query('update t set x = 1'))],
      ['<<', sendClient(error, false)],
      ['<<', sendClient(ready, false)],
    ]);
    assert.deepEqual(labels(acts), ['client -> script Query', 'script -> client ErrorResponse', 'script -> client ReadyForQuery']);
    assert.ok(statuses(acts).some((t) => t === 'fault rule 1: Query not forwarded, answered with 2 message(s)'), statuses(acts).join('\n'));
    // The conversation goes on: the next query passes.
    playbook(s, [
      ['>>', clientData(query('select 2'))],
      ['<<', sendServer(query('select 2'))],
    ]);
  });

  it('replace, and inject before and after', () => {
    const s = forwarding(queryHook((v) => ({ forward: [query('select 0'), v.bytes!, query('select 9')] })));
    const q = query('select 1');
    playbook(s, [
      ['>>', clientData(q)],
      ['<<', sendServer(query('select 0'), false)],
      ['<<', sendServer(q)],
      ['<<', sendServer(query('select 9'), false)],
    ]);
    const r = forwarding(queryHook(() => ({ forward: [query('select 42')] })));
    const acts = playbook(r, [
      ['>>', clientData(q)],
      ['<<', sendServer(query('select 42'), false)],
    ]);
    assert.deepEqual(labels(acts), ['client -> script Query']);
  });

  it('delay: the message and everything after it in that direction wait for the timer; the other direction does not', () => {
    const s = forwarding(queryHook((v) => (v.message.spans.some((sp) => sp.value === 'select pg_sleep') ? { delayMs: 300 } : null)));
    const slow = query('select pg_sleep');
    playbook(s, [
      ['>>', clientData(Buffer.concat([sync, slow, sync]))],
      ['<<', sendServer(sync)],
      ['<<', { type: 'set-timer', name: 'delay:frontend', ms: 300 }],
      // Later client messages queue behind it, even ones the hook does not want.
      ['>>', clientData(query('select 2'))],
      ['>>', clientData(execute)],
      // The server's messages are not held.
      ['>>', serverData(complete('SELECT 1'))],
      ['<<', sendClient(complete('SELECT 1'))],
      ['>>', { type: 'timer', name: 'delay:frontend' }],
      ['<<', sendServer(slow)],
      ['<<', sendServer(sync)],
      ['<<', sendServer(query('select 2'))],
      ['<<', sendServer(execute)],
      // Nothing waits any more: bytes go at once again.
      ['>>', clientData(sync)],
      ['<<', sendServer(sync)],
    ]);
  });

  it('a delay of Infinity holds the direction until the connection ends (a server that stops answering)', () => {
    const s = forwarding(queryHook(() => ({ delayMs: Infinity })));
    playbook(s, [
      ['>>', clientData(query('select 1'))],
      ['>>', clientData(sync)],
      ['>>', { type: 'client-closed' }],
      ['<<', { type: 'close', reason: 'client hung up' }],
    ]);
  });

  it('close quietly after the message, or reset at once', () => {
    const q = query('select 1');
    playbook(forwarding(queryHook(() => ({ close: 'end', note: 'boom' }))), [
      ['>>', clientData(q)],
      ['<<', sendServer(q)],
      ['<<', { type: 'close', reason: 'boom' }],
    ]);
    playbook(forwarding(queryHook(() => ({ forward: [], close: 'reset' }))), [
      ['>>', clientData(Buffer.concat([q, sync]))],
      ['<<', { type: 'reset', reason: 'closed by a hook' }],
    ]);
  });

  it('a wanted message split across chunks is decided once it is whole; its start is not sent before', () => {
    const hook = queryHook(() => null);
    const s = forwarding(hook);
    const q = query('select a_rather_long_column_name from t');
    playbook(s, [
      ['>>', clientData(Buffer.concat([sync, q.subarray(0, 3)]))],
      ['<<', sendServer(sync)],
      ['>>', clientData(q.subarray(3, 20))],
      ['>>', clientData(q.subarray(20))],
      ['<<', sendServer(q)],
    ]);
    assert.deepEqual(hook.seen, [`Query ${q.length}`]);
  });

  it('a message too long to hold is decided from its header, then streams through as it comes', () => {
    const hook = queryHook(() => null);
    const s = forwarding(hook, { retain: 64 });
    const q = query(`select '${'x'.repeat(200)}'`);
    const a = q.subarray(0, 100);
    const b = q.subarray(100);
    playbook(s, [
      ['>>', clientData(a)],
      ['<<', sendServer(a)],
      ['>>', clientData(Buffer.concat([b, sync]))],
      ['<<', sendServer(Buffer.concat([b, sync]))],
    ]);
    assert.deepEqual(hook.seen, ['Query header']);
    // close is honoured from the header alone.
    const c = forwarding(queryHook(() => ({ close: 'end', note: 'too big' })), { retain: 64 });
    playbook(c, [
      ['>>', clientData(a)],
      ['<<', { type: 'close', reason: 'too big' }],
    ]);
  });
});

describe('Session.step', () => {
  it('an action that hands in an input of its own does not lose the rest of the outer step', () => {
    const s = forwarding(null);
    const seen: string[] = [];
    let nested = false;
    // The server vanishes: pgscope answers the client (a write) and closes. The write
    // reports backpressure, as a full socket does, from inside the step.
    s.step({ type: 'server-closed' }, function perform(a) {
      seen.push(a.type === 'log' ? `log ${a.event.kind}` : a.type);
      if (a.type === 'send-client' && !nested) {
        nested = true;
        s.step({ type: 'backpressure', full: 'client' }, perform);
      }
    });
    assert.ok(seen.includes('send-client'));
    assert.equal(seen.at(-1), 'close', `the close after the nested input: ${seen.join(', ')}`);
  });
});
