/**
 * The fault rules as a session's hook (src/faults/fault-set.ts), events in and actions out:
 * how an injected error makes the server fail the request too (and the server's answer is
 * replaced), what each action does to a message, limits counted per rule, what `wants`
 * lets through the fast path, refused connections and refused startups.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultSet } from '../../../src/faults/fault-set.js';
import { errorResponse } from '../../../src/protocol/backend/error-response.js';
import { noticeResponse } from '../../../src/protocol/backend/notice-response.js';
import { Conversation } from '../../../src/protocol/conversation.js';
import { codecOf, tryFields } from '../../../src/protocol/registry.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import { CancelRegistry } from '../../../src/session/cancel-registry.js';
import { combineHooks, type MessageHook } from '../../../src/session/message-hook.js';
import { Session, type SessionAction, type SessionSettings } from '../../../src/session/session.js';
import { clientData, serverData } from '../../helpers/playbook.js';
import { cstr, int16, int32, msg, startupMessage } from '../../helpers/wire.js';

const settings = (hook: MessageHook | null): SessionSettings => ({
  serverHost: 'db',
  serverDeleteSuffix: '',
  serverConnectPort: 5432,
  serverSslnegotiation: 'mimic',
  clientDenySsl: false,
  serverTls: { attempt: false, requireEncryption: false, mode: 'disable' },
  hook,
});

const STARTUP = startupMessage({ user: 'alice', database: 'db' });
const ready = (status = 'I'): Buffer => msg('Z', status);
const query = (sql: string): Buffer => msg('Q', cstr(sql));
const parse = (name: string, sql: string): Buffer => msg('P', cstr(name), cstr(sql), int16(0));
const bind = (portal: string, statement: string): Buffer => msg('B', cstr(portal), cstr(statement), int16(0), int16(0), int16(0));
const execute = (portal = ''): Buffer => msg('E', cstr(portal), int32(0));
const sync = msg('S');
const dataRow = (v: string): Buffer => msg('D', int16(1), int32(Buffer.byteLength(v)), v);
const serverError = (code: string, text: string): Buffer => msg('E', 'SERROR\0', 'C' + code + '\0', 'M' + text + '\0', '\0');

function forwarding(hook: MessageHook | null, conn = 1): Session {
  const s = new Session(conn, settings(hook), new CancelRegistry());
  s.handle({ type: 'client-connected', address: '127.0.0.1', port: 50000, localAddress: '127.0.0.1', localPort: 5432 });
  s.handle(clientData(STARTUP));
  s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
  s.handle(serverData(Buffer.concat([msg('R', int32(0)), ready()])));
  return s;
}

/** Every message the actions send one way, decoded (to read what pgscope made up). */
function sent(acts: SessionAction[], to: 'send-server' | 'send-client'): DecodedMessage[] {
  const conv = new Conversation({ frontendMode: 'normal' });
  const bytes = Buffer.concat(acts.flatMap((a) => (a.type === to ? [a.bytes] : [])));
  return conv.push(to === 'send-server' ? 'frontend' : 'backend', bytes).flatMap((e) => (e.kind === 'message' ? [e.message] : []));
}
const names = (ms: DecodedMessage[]): string[] => ms.map((m) => m.name);
/** A field of a decoded message, read through its codec (ErrorResponse/NoticeResponse fields by their type code). */
function field(m: DecodedMessage, name: string): unknown {
  if (m.name === 'ErrorResponse' || m.name === 'NoticeResponse') {
    const code = { Severity: 'V', Code: 'C', Message: 'M' }[name as 'Severity' | 'Code' | 'Message'];
    return tryFields(m.name === 'ErrorResponse' ? errorResponse : noticeResponse, m)?.fields.find((f) => f.type === code)?.value;
  }
  const codec = codecOf(m);
  return codec ? (tryFields(codec, m) as Record<string, unknown> | null)?.[name] : undefined;
}
const statuses = (acts: SessionAction[]): string[] => acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'status' ? [a.event.text] : []));

describe('an injected error', () => {
  it('simple Query: the server gets a Query it cannot parse, and its error is replaced by the rule\'s', () => {
    const faults = new FaultSet(['error 40001 when sql ~* "^\\s*update"']);
    const s = forwarding(faults);
    const out = s.handle(clientData(query('UPDATE t SET x = 1')));
    const toServer = sent(out, 'send-server');
    assert.deepEqual(names(toServer), ['Query']);
    const nonce = String(field(toServer[0]!, 'query'));
    assert.match(nonce, /^pgscope_fault_[0-9a-f]{12}$/);
    assert.ok(statuses(out).some((t) => t.startsWith('fault rule 1 (error 40001 when sql ~* "^\\s*update")')));
    // The server fails it (a syntax error that quotes the nonce) and says the transaction state.
    const back = s.handle(serverData(Buffer.concat([serverError('42601', `syntax error at or near "${nonce}"`), ready('E')])));
    const toClient = sent(back, 'send-client');
    assert.deepEqual(names(toClient), ['ErrorResponse', 'ReadyForQuery']);
    assert.equal(field(toClient[0]!, 'Code'), '40001');
    assert.match(String(field(toClient[0]!, 'Message')), /could not serialize access/);
    assert.equal(field(toClient[1]!, 'status'), 'E', "the server's transaction status reaches the client");
    assert.deepEqual(faults.list().map((f) => [f.matches, f.hits]), [[1, 1]]);
  });

  it('extended protocol: the Execute becomes a Parse the server cannot parse; Sync stays; a real server error is not touched', () => {
    const faults = new FaultSet(['error 40P01 "custom words" when Execute and sql contains "marker" times 1']);
    const s = forwarding(faults);
    const out = s.handle(clientData(Buffer.concat([parse('s1', 'select 1 /* marker */'), bind('', 's1'), execute(), sync])));
    const toServer = sent(out, 'send-server');
    assert.deepEqual(names(toServer), ['Parse', 'Bind', 'Parse', 'Sync']);
    const nonce = String(field(toServer[2]!, 'query'));
    assert.equal(field(toServer[2]!, 'statement'), nonce, 'a statement name no client uses');
    // An unrelated server error (no nonce) passes as it came.
    const other = serverError('42P01', 'relation "x" does not exist');
    const back1 = s.handle(serverData(other));
    assert.deepEqual(back1.filter((a) => a.type === 'send-client').map((a) => (a.type === 'send-client' ? a.bytes.toString('hex') : '')), [other.toString('hex')]);
    const back = s.handle(serverData(Buffer.concat([msg('1'), msg('2'), serverError('42601', `syntax error at or near "${nonce}"`), ready()])));
    const toClient = sent(back, 'send-client');
    assert.deepEqual(names(toClient), ['ParseComplete', 'BindComplete', 'ErrorResponse', 'ReadyForQuery']);
    assert.equal(field(toClient[2]!, 'Code'), '40P01');
    assert.equal(field(toClient[2]!, 'Message'), 'custom words');
    // times 1: the next one passes.
    const again = s.handle(clientData(Buffer.concat([bind('', 's1'), execute(), sync])));
    assert.deepEqual(names(sent(again, 'send-server')), ['Bind', 'Execute', 'Sync']);
  });

  it('Sync keeps its place after the failing Parse; COPY data becomes a CopyFail', () => {
    const s = forwarding(new FaultSet(['error 40001 when Sync once', 'error 57014 when CopyData once']));
    assert.deepEqual(names(sent(s.handle(clientData(sync)), 'send-server')), ['Parse', 'Sync']);
    const copy = sent(s.handle(clientData(msg('d', 'a\tb\n'))), 'send-server');
    assert.deepEqual(names(copy), ['CopyFail']);
    assert.match(String(field(copy[0]!, 'message')), /^pgscope_fault_/);
  });

  it("the statement's record says the error the client got, not the server's", () => {
    const s = new Session(1, { ...settings(new FaultSet(['error 40001 when sql contains "marker"'])), statements: { redact: false, typed: true, records: true } }, new CancelRegistry());
    s.handle({ type: 'client-connected', address: '127.0.0.1', port: 50000, localAddress: '127.0.0.1', localPort: 5432 });
    s.handle(clientData(STARTUP));
    s.handle({ type: 'server-connected', address: '127.0.0.1', port: 5432, localAddress: '127.0.0.1', localPort: 40000 });
    s.handle(serverData(Buffer.concat([msg('R', int32(0)), ready()])));
    const nonce = String(field(sent(s.handle(clientData(query("select 'marker'"))), 'send-server')[0]!, 'query'));
    const acts = s.handle(serverData(Buffer.concat([serverError('42601', `syntax error at or near "${nonce}"`), ready()])));
    const records = acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'statement' ? [a.event.record] : []));
    assert.deepEqual(
      records.map((r) => [r.sql, r.error?.code, r.error?.message]),
      [["select 'marker'", '40001', 'could not serialize access due to concurrent update']],
    );
    const labels = acts.flatMap((a) => (a.type === 'log' && a.event.kind === 'codec' && a.event.event.kind === 'message' ? [`${a.event.label} ${a.event.event.message.name}`] : []));
    assert.deepEqual(labels, ['server -> script ErrorResponse', 'script -> client ErrorResponse', 'server -> client ReadyForQuery']);
  });

  it('on a StartupMessage: FATAL, and the server is never contacted', () => {
    const s = new Session(1, settings(new FaultSet(['error 53300 "sorry, too many clients already" when StartupMessage'])), new CancelRegistry());
    const acts = s.handle(clientData(STARTUP));
    assert.ok(!acts.some((a) => a.type === 'connect-server'));
    const toClient = sent(acts, 'send-client');
    assert.deepEqual(names(toClient), ['ErrorResponse']);
    assert.equal(field(toClient[0]!, 'Severity'), 'FATAL');
    assert.equal(field(toClient[0]!, 'Code'), '53300');
    assert.ok(acts.some((a) => a.type === 'close'));
  });
});

describe('the other actions', () => {
  it('fatal from the client side: nothing forwarded, FATAL to the client, both legs closed', () => {
    const s = forwarding(new FaultSet(['fatal 57P01 when sql contains "boom"']));
    const acts = s.handle(clientData(query("select 'boom'")));
    assert.deepEqual(names(sent(acts, 'send-server')), []);
    assert.deepEqual(names(sent(acts, 'send-client')), ['ErrorResponse']);
    assert.ok(acts.some((a) => a.type === 'close'));
  });

  it('reset after N: the N+1th DataRow is not forwarded, nor is anything after it in its chunk', () => {
    const faults = new FaultSet(['reset when server and DataRow after 2']);
    const s = forwarding(faults);
    s.handle(clientData(query('select')));
    const acts = s.handle(serverData(Buffer.concat([dataRow('1'), dataRow('2'), dataRow('3'), dataRow('4'), msg('C', cstr('SELECT 4')), ready()])));
    assert.deepEqual(names(sent(acts, 'send-client')), ['DataRow', 'DataRow']);
    assert.ok(acts.some((a) => a.type === 'reset'), 'reset, not a quiet close');
    assert.deepEqual(faults.list().map((f) => [f.matches, f.hits]), [[3, 1]], 'one act, and no deciding after the close');
  });

  it('delay and stall hold the message (timers the shell runs); chunk writes pieces; notice answers the sender', () => {
    const delayed = forwarding(new FaultSet(['delay 300ms when Query']));
    const d = delayed.handle(clientData(query('select 1')));
    assert.deepEqual(d.filter((a) => a.type !== 'log').map((a) => a.type), ['set-timer']);
    assert.deepEqual(names(sent(delayed.handle({ type: 'timer', name: 'delay:frontend' }), 'send-server')), ['Query']);

    const stalled = forwarding(new FaultSet(['stall when Query']));
    assert.deepEqual(stalled.handle(clientData(query('select 1'))).filter((a) => a.type !== 'log'), [], 'held, with no timer');

    const chunked = forwarding(new FaultSet(['chunk 3 when Query']));
    const pieces = chunked.handle(clientData(query('select 1'))).filter((a) => a.type === 'send-server');
    assert.deepEqual(
      pieces.map((a) => (a.type === 'send-server' ? a.bytes.length : 0)),
      [3, 3, 3, 3, 2],
    );
    assert.ok(pieces.every((a) => a.type === 'send-server' && a.forwarded), "the client's own bytes, in pieces");

    const noticed = forwarding(new FaultSet(['notice "hello" when Query']));
    const n = noticed.handle(clientData(query('select 1')));
    assert.deepEqual(names(sent(n, 'send-server')), ['Query']);
    const toClient = sent(n, 'send-client');
    assert.deepEqual(names(toClient), ['NoticeResponse']);
    assert.equal(field(toClient[0]!, 'Message'), 'hello');
  });

  it('bandwidth holds each message its size divided by the rate', () => {
    const s = forwarding(new FaultSet(['bandwidth 1KB/s when server and DataRow']));
    s.handle(clientData(query('select')));
    const acts = s.handle(serverData(dataRow('x'.repeat(1013))));
    const timer = acts.find((a) => a.type === 'set-timer');
    assert.ok(timer && timer.type === 'set-timer' && timer.ms === 1000, JSON.stringify(timer));
  });

  it('refuse: a new connection is reset before it says anything', () => {
    const faults = new FaultSet(['refuse when conn=2']);
    const s1 = new Session(1, settings(faults), new CancelRegistry());
    assert.ok(!s1.handle({ type: 'client-connected', address: '127.0.0.1', port: 1, localAddress: '127.0.0.1', localPort: 2 }).some((a) => a.type === 'close' || a.type === 'reset'));
    const s2 = new Session(2, settings(faults), new CancelRegistry());
    const acts = s2.handle({ type: 'client-connected', address: '127.0.0.1', port: 1, localAddress: '127.0.0.1', localPort: 2 });
    assert.ok(acts.some((a) => a.type === 'reset'));
  });
});

describe('rules that change while a message is half through', () => {
  it('a message whose start passed before a rule wanted its type passes whole', () => {
    const faults = new FaultSet();
    const s = forwarding(faults);
    const notice = msg('N', 'SNOTICE\0', 'Mhello there\0', '\0');
    const first = s.handle(serverData(notice.subarray(0, 10)));
    faults.add('delay 5ms when server');
    const second = s.handle(serverData(Buffer.concat([notice.subarray(10), ready()])));
    const out = Buffer.concat([...first, ...second].flatMap((a) => (a.type === 'send-client' ? [a.bytes] : [])));
    // The NoticeResponse whole, then the ReadyForQuery (held 5 ms, a timer).
    assert.equal(out.toString('hex'), notice.toString('hex'));
    assert.deepEqual(names(sent(s.handle({ type: 'timer', name: 'delay:backend' }), 'send-client')), ['ReadyForQuery']);
  });

  it('after a fatal, what the client sends next never reaches the server', () => {
    const s = forwarding(new FaultSet(['fatal 57P01 when sql contains "boom"']));
    s.handle(clientData(query('select big')));
    // The server is in the middle of a DataRow: the FATAL waits for its end.
    const row = dataRow('y'.repeat(100));
    s.handle(serverData(row.subarray(0, 20)));
    const fatal = s.handle(clientData(query("select 'boom'")));
    assert.ok(!fatal.some((a) => a.type === 'close'), 'the close waits for the FATAL');
    const later = s.handle(clientData(query("insert into audit values ('after the fatal')")));
    assert.deepEqual(names(sent(later, 'send-server')), [], 'nothing more toward the server');
    const end = s.handle(serverData(row.subarray(20)));
    const toClient = end.flatMap((a) => (a.type === 'send-client' ? [a.bytes] : []));
    assert.equal(toClient[0]!.toString('hex'), row.subarray(20).toString('hex'), 'the DataRow ends first');
    assert.deepEqual(names(sent(end.filter((a) => a.type === 'send-client' && !a.forwarded), 'send-client')), ['ErrorResponse'], "then pgscope's FATAL");
    assert.ok(end.some((a) => a.type === 'close'), 'then the connection closes');
  });
});

describe('limits, counts and the fast path', () => {
  it('limits apply in order to the matches: after, every, times, once; probability draws', () => {
    const fire = (rule: string, n: number, random?: () => number): string => {
      const f = new FaultSet([rule], random);
      const s = forwarding(f);
      let out = '';
      for (let i = 0; i < n; i++) out += names(sent(s.handle(clientData(query(`select ${i}`))), 'send-server')).length === 0 ? 'x' : '.';
      return out;
    };
    assert.equal(fire('close when Query once', 1), 'x');
    assert.equal(fire('close when Query after 2', 3), '..x');
    const counted = new FaultSet(['notice "n" when Query after 2 every 2 times 2']);
    const s = forwarding(counted);
    const hits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const acts = s.handle(clientData(query(`select ${i}`)));
      if (names(sent(acts, 'send-client')).includes('NoticeResponse')) hits.push(i);
    }
    assert.deepEqual(hits, [3, 5], 'skip 2, then every second, at most twice');
    assert.deepEqual(counted.list()[0]!.matches, 10);
    assert.deepEqual(counted.list()[0]!.hits, 2);
    const draws = [0.9, 0.1, 0.6, 0.4];
    const p = new FaultSet(['notice "n" when Query probability 0.5'], () => draws.shift()!);
    const sp = forwarding(p);
    const got = [0, 1, 2, 3].map((i) => names(sent(sp.handle(clientData(query(`select ${i}`))), 'send-client')).includes('NoticeResponse'));
    assert.deepEqual(got, [false, true, false, true]);
  });

  it('wants only what a rule could act on: names and senders from the type byte', () => {
    const rows = new FaultSet(['reset when server and DataRow', 'refuse']);
    assert.equal(rows.wants('backend', 'D'), true);
    assert.equal(rows.wants('backend', 'C'), false);
    assert.equal(rows.wants('frontend', 'D'), false, 'Describe from the client: DataRow is a server message');
    assert.equal(rows.wants('frontend', 'S'), true, 'Sync ends a statement a rule may have matched at its Parse');
    const f = new FaultSet(['error 40001 when sql contains "x"']);
    assert.equal(f.wants('frontend', 'Q'), true, 'error rules act on requests');
    assert.equal(f.wants('frontend', 'D'), true, 'a Describe can be failed');
    assert.equal(f.wants('backend', 'D'), false, 'errors are made of client requests only');
    assert.equal(f.wants('frontend', 'X'), false, 'no error can be made of a Terminate');
    assert.equal(f.wants('frontend', 'd'), false, 'COPY data runs no SQL: sql terms are false for it');
    const fatal = new FaultSet(['fatal 57P01 when sql contains "boom"']);
    assert.equal(fatal.wants('backend', 'D'), false, 'server messages run no SQL: a sql rule leaves them on the fast path');
    const auth = new FaultSet(['delay 10ms when AuthenticationSASL']);
    assert.equal(auth.wants('backend', 'R'), true, "Authentication's requests are named by their content");
    const none = new FaultSet();
    for (const t of ['Q', 'P', 'B', 'E', 'S', 'D']) assert.equal(none.wants('frontend', t), false);
    assert.equal(none.wants('frontend', 'S'), false);
    // Rules change while running: the cache follows.
    const id = none.add('delay 1ms when Parse');
    assert.equal(none.wants('frontend', 'P'), true);
    none.setEnabled(id, false);
    assert.equal(none.wants('frontend', 'P'), false);
    none.setEnabled(id, true);
    none.remove(id);
    assert.equal(none.wants('frontend', 'P'), false);
  });

  it('one statement of the extended protocol is one match, at its first message', () => {
    const f = new FaultSet(['notice "n" when sql ~* "^update" after 1 once']);
    const s = forwarding(f);
    const upd = (): Buffer => Buffer.concat([parse('', 'update t set x = 1'), bind('', ''), msg('D', 'P', cstr('')), execute(), sync]);
    const first = s.handle(clientData(upd()));
    assert.deepEqual(names(sent(first, 'send-client')), [], 'the first UPDATE (four messages) is skipped whole');
    assert.deepEqual(f.list()[0]!.matches, 1);
    const second = s.handle(clientData(upd()));
    assert.deepEqual(names(sent(second, 'send-client')), ['NoticeResponse'], 'the second UPDATE fires, once');
    assert.deepEqual([f.list()[0]!.matches, f.list()[0]!.hits], [2, 1]);
    // A prepared statement run again: Bind and Execute, one match.
    s.handle(clientData(Buffer.concat([bind('', ''), execute(), sync])));
    assert.deepEqual(f.list()[0]!.matches, 3);
  });

  it('the StartupMessage is acted on only by rules that name it', () => {
    const unnamed = new Session(1, settings(new FaultSet(['error 40001 once', 'delay 1s when client'])), new CancelRegistry());
    assert.ok(unnamed.handle(clientData(STARTUP)).some((a) => a.type === 'connect-server'));
    const named = new Session(1, settings(new FaultSet(['delay 250ms when StartupMessage'])), new CancelRegistry());
    const acts = named.handle(clientData(STARTUP));
    assert.ok(!acts.some((a) => a.type === 'connect-server'));
    assert.ok(acts.some((a) => a.type === 'set-timer' && a.name === 'delay:frontend' && a.ms === 250));
    assert.ok(named.handle({ type: 'timer', name: 'delay:frontend' }).some((a) => a.type === 'connect-server'));
  });

  it('bandwidth carries fractions of a millisecond over: many small messages take their bytes at the rate', () => {
    const s = forwarding(new FaultSet(['bandwidth 10MB/s when server and DataRow']));
    s.handle(clientData(query('select')));
    let total = 0;
    for (let i = 0; i < 100; i++) {
      for (const a of s.handle(serverData(dataRow('x'.repeat(1037))))) if (a.type === 'set-timer') total += a.ms;
      s.handle({ type: 'timer', name: 'delay:backend' });
    }
    // 100 rows of 1048 bytes at 10 MiB/s: 10 ms in all (not 100 × 1 ms).
    assert.ok(total >= 9 && total <= 10, String(total));
  });

  it('combined with a user hook: the rules decide first; every hook hears of ended connections', () => {
    const ended: number[] = [];
    const user: MessageHook = { wants: () => true, decide: () => ({ note: 'user', reply: [] , forward: undefined }), ended: (c) => ended.push(c) };
    const f = new FaultSet(['close when sql contains "bye"']);
    const both = combineHooks([f, user])!;
    const s = forwarding(both, 7);
    const acts = s.handle(clientData(query("select 'bye'")));
    assert.ok(statuses(acts).some((t) => t.startsWith('fault rule 1')));
    s.handle({ type: 'ended' });
    assert.deepEqual(ended, [7]);
    assert.equal(combineHooks([null, undefined]), null);
    assert.equal(combineHooks([f, null]), f);
  });
});
