import type { Label, ProxyEvent } from '../../session/events.js';
import type { FilterNode, Sender } from './ast.js';
import { normalizeName } from './message-names.js';

/**
 * Three-valued truth: a term that does not apply to an event (a message name asked of a
 * status line) is UNKNOWN, and an expression that ends UNKNOWN lets the event through.
 * So `conn=3` hides other connections' status lines but `server and not DataRow` keeps them.
 */
export const F = 0;
export const T = 1;
export const U = 2;
export type Truth = typeof F | typeof T | typeof U;

/** What the terms of an expression can ask of one event. */
export interface Facts {
  conn: number | null;
  sender: Sender | null;
  /** The message's normalized name, or null when names do not apply. */
  name: string | null;
  /** Normalized nested names (DecodedMessage.sub). */
  sub: readonly string[];
  /** Whether names apply at all: false for non-message events (every name term is unknown). */
  named: boolean;
  query: Truth;
  error: Truth;
}

/** Client requests that start a statement or call, and the server messages that end one. */
const QUERY_REQUESTS = new Set(['query', 'parse', 'bind', 'execute', 'functioncall']);
const QUERY_RESULTS = new Set(['commandcomplete', 'errorresponse', 'emptyqueryresponse', 'portalsuspended', 'functioncallresponse']);
const ERROR_RESPONSE = 'errorresponse';

const NO_SUB: readonly string[] = [];

/** Normalized names are few (the codec's vocabulary): remember them rather than redo the string work per message. */
const normalized = new Map<string, string>();
function norm(name: string): string {
  let n = normalized.get(name);
  if (n === undefined) {
    n = normalizeName(name);
    if (normalized.size < 4096) normalized.set(name, n);
  }
  return n;
}

function senderOf(label: Label): Sender {
  return label.startsWith('client') ? 'client' : label.startsWith('server') ? 'server' : 'pgscope';
}

/** Fill `f` (reused between events) with what the terms need to know about `ev`. */
export function factsOf(ev: ProxyEvent, f: Facts): Facts {
  f.conn = ev.conn;
  f.sender = null;
  f.name = null;
  f.sub = NO_SUB;
  f.named = false;
  f.query = U;
  f.error = U;
  switch (ev.kind) {
    case 'codec': {
      f.sender = senderOf(ev.label);
      const c = ev.event;
      f.named = true;
      if (c.kind === 'message') {
        const m = c.message;
        f.name = norm(m.name);
        if (m.sub.length > 0) f.sub = m.sub.map(norm);
        const backend = m.frame.direction === 'backend';
        f.query = (backend ? QUERY_RESULTS : QUERY_REQUESTS).has(f.name) ? T : F;
        f.error = f.name === ERROR_RESPONSE || m.error !== undefined ? T : F;
      } else if (c.kind === 'error') {
        f.name = norm(c.error.messageName);
        f.query = F;
        f.error = T;
      } else if (c.kind === 'unparsed') {
        f.query = F;
        f.error = T;
      } else {
        // The head of a huge message: its name is decided when it ends.
        f.named = false;
      }
      return f;
    }
    case 'forwarded':
      // A forwarded batch is a line about messages, but not any one message: names do not match.
      f.sender = senderOf(ev.label);
      f.named = true;
      f.query = F;
      f.error = F;
      return f;
    case 'status':
      f.error = ev.level === 'error' ? T : F;
      return f;
    case 'statement':
      f.query = T;
      f.error = ev.record.error ? T : F;
      return f;
    case 'connection':
    case 'security':
      // Context for everything else, but never an error: `errors` alone leaves them out.
      f.error = F;
      return f;
    case 'wire':
      f.sender = senderOf(ev.label);
      return f;
    default:
      return f;
  }
}

/** Evaluate `n` against the facts of one event. */
export function evaluate(n: FilterNode, f: Facts): Truth {
  switch (n.k) {
    case 'or': {
      let r: Truth = F;
      for (const i of n.items) {
        const v = evaluate(i, f);
        if (v === T) return T;
        if (v === U) r = U;
      }
      return r;
    }
    case 'and': {
      let r: Truth = T;
      for (const i of n.items) {
        const v = evaluate(i, f);
        if (v === F) return F;
        if (v === U) r = U;
      }
      return r;
    }
    case 'not': {
      const v = evaluate(n.item, f);
      return v === U ? U : v === T ? F : T;
    }
    case 'name':
      if (!f.named) return U;
      return f.name === n.key || f.sub.includes(n.key) ? T : F;
    case 'sender':
      return f.sender === null ? U : f.sender === n.who ? T : F;
    case 'conn':
      return f.conn === null ? U : f.conn >= n.lo && f.conn <= n.hi ? T : F;
    case 'queries':
      return f.query;
    case 'errors':
      return f.error;
  }
}
