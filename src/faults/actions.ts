import { randomBytes } from 'node:crypto';
import { encodeErrorResponse } from '../protocol/encode.js';
import { copyFail } from '../protocol/frontend/copy-fail.js';
import { parse } from '../protocol/frontend/parse.js';
import { query } from '../protocol/frontend/query.js';
import { sqlstateCondition } from '../protocol/sqlstate.js';
import type { Direction } from '../protocol/types.js';
import type { MessageDecision, MessageView } from '../session/message-hook.js';
import type { FaultAction } from './rule.js';

/** An injected error whose server answer is awaited: the nonce it will quote, and what the client gets instead. */
export interface Injected {
  nonce: string;
  error: Buffer;
  note: string;
  /** A CopyFail: the server ignores the rest of the COPY's data until it answers. */
  copy: boolean;
}

/**
 * Client messages an `error` can fail, and how the server is made to fail it too:
 * a Query or FunctionCall becomes a Query the server cannot parse (it answers ErrorResponse
 * and ReadyForQuery, and a transaction block it is in is aborted); a message of the
 * extended protocol becomes a Parse the server cannot parse, into a statement name no
 * client uses (nothing is created or destroyed; the server "reads and discards messages
 * until a Sync is reached"); Sync and Flush keep their place after that Parse; COPY data
 * from the client becomes a CopyFail (the server ends the COPY with an error).
 */
const FAILS_AS_QUERY = new Set(['Q', 'F']);
const FAILS_AS_PARSE = new Set(['P', 'B', 'D', 'E', 'C']);
const FAILS_BEFORE = new Set(['S', 'H']);
const FAILS_AS_COPY_FAIL = new Set(['d', 'c', 'f']);

/** Whether an action can act on a message of this direction and type byte (null: the StartupMessage). */
export function actionApplies(a: FaultAction, direction: Direction, type: string | null): boolean {
  switch (a.k) {
    case 'refuse':
      return false;
    case 'error':
      return direction === 'frontend' && (type === null || FAILS_AS_QUERY.has(type) || FAILS_AS_PARSE.has(type) || FAILS_BEFORE.has(type) || FAILS_AS_COPY_FAIL.has(type));
    case 'fatal':
    case 'delay':
    case 'reset':
    case 'close':
    case 'stall':
      return true;
    case 'chunk':
    case 'bandwidth':
      // The StartupMessage is answered or held, never rewritten.
      return type !== null;
    case 'notice':
      // Not during authentication: a client waiting for an authentication request refuses a
      // NoticeResponse there (libpq: "expected authentication request from server").
      return type !== null && type !== 'p' && !(direction === 'backend' && type === 'R');
  }
}

/** The usual primary message of the codes tests inject most, as PostgreSQL words them. */
const MESSAGES: Record<string, string> = {
  '40001': 'could not serialize access due to concurrent update',
  '40P01': 'deadlock detected',
  '57P01': 'terminating connection due to administrator command',
  '57P02': 'terminating connection due to crash of another server process',
  '57P03': 'the database system is not yet accepting connections',
  '53300': 'sorry, too many clients already',
  '57014': 'canceling statement due to user request',
  '55P03': 'could not obtain lock on row in relation',
  '23505': 'duplicate key value violates unique constraint',
  '25006': 'cannot execute statement in a read-only transaction',
  '53100': 'could not extend file: No space left on device',
  '08006': 'connection to client lost',
};

function errorBytes(severity: 'ERROR' | 'FATAL', code: string, message: string | null, note: string): Buffer {
  const condition = sqlstateCondition(code);
  return encodeErrorResponse({
    severity,
    code,
    message: message ?? MESSAGES[code] ?? (condition ? condition.replace(/_/g, ' ') : `error ${code}`),
    detail: `Injected by pgscope: ${note}.`,
  });
}

/** What a rule's action does to one message: the decision, and an injected error to watch for. */
export function decisionFor(a: FaultAction, view: MessageView, note: string, random: () => number, debt: { frontend: number; backend: number }): { decision: MessageDecision; injected?: Injected } {
  const m = view.message;
  const type = m.frame.kind === 'startup' ? null : m.frame.type;
  const own = view.bytes;
  switch (a.k) {
    case 'error': {
      if (type === null) return { decision: { reply: [errorBytes('FATAL', a.code, a.message, note)], close: 'end', note } };
      const nonce = `pgscope_fault_${randomBytes(6).toString('hex')}`;
      const failing = FAILS_AS_QUERY.has(type!)
        ? [query.encode({ query: nonce })]
        : FAILS_AS_COPY_FAIL.has(type!)
          ? [copyFail.encode({ message: nonce })]
          : FAILS_BEFORE.has(type!) && own !== null
            ? [parse.encode({ statement: nonce, query: nonce, parameterTypes: [] }), own]
            : [parse.encode({ statement: nonce, query: nonce, parameterTypes: [] })];
      return { decision: { forward: failing, note }, injected: { nonce, error: errorBytes('ERROR', a.code, a.message, note), note, copy: FAILS_AS_COPY_FAIL.has(type!) } };
    }
    case 'fatal': {
      const fatal = errorBytes('FATAL', a.code, a.message, note);
      // Toward the client in the server's place (the server's connection is closed: it rolls back).
      if (view.direction === 'backend') return { decision: { forward: [fatal], close: 'end', note } };
      return { decision: { forward: [], reply: [fatal], close: 'end', note } };
    }
    case 'delay':
      return { decision: { delayMs: Math.round(a.minMs + random() * (a.maxMs - a.minMs)), note } };
    case 'reset':
      return { decision: { forward: [], close: 'reset', note } };
    case 'close':
      return { decision: { forward: [], close: 'end', note } };
    case 'stall':
      return { decision: { delayMs: Infinity, note } };
    case 'chunk':
      return { decision: { pieces: a.bytes, note } };
    case 'bandwidth': {
      // Timers wait whole milliseconds: what a small message owes is carried over to the
      // next, so that many of them take as long as their bytes at the rate.
      const owed = debt[view.direction] + (m.frame.size / a.bytesPerSecond) * 1000;
      const wait = Math.floor(owed);
      debt[view.direction] = owed - wait;
      return { decision: { delayMs: wait, note } };
    }
    case 'notice': {
      const notice = encodeErrorResponse({ severity: 'NOTICE', code: '00000', message: a.text, detail: `Injected by pgscope: ${note}.` }, 'N');
      if (view.direction === 'backend' && own !== null) return { decision: { forward: [notice, own], note } };
      return { decision: { reply: [notice], note } };
    }
    case 'refuse':
      return { decision: {} };
  }
}
