import { parseAsRead } from '../../protocol/frontend/parse.js';
import { queryText } from '../../protocol/frontend/query.js';
import type { Label, ProxyEvent } from '../../session/events.js';
import { normalizeName, T, F, U, type Facts, type Sender } from '../../filter/index.js';

/** Client requests that start a statement or call, and the server messages that end one. */
const QUERY_REQUESTS = new Set(['query', 'parse', 'bind', 'execute', 'functioncall']);
const QUERY_RESULTS = new Set(['commandcomplete', 'errorresponse', 'emptyqueryresponse', 'portalsuspended', 'functioncallresponse']);
const ERROR_RESPONSE = 'errorresponse';
/** The client messages that carry SQL (normalized names). */
const QUERY = 'query';
const PARSE = 'parse';

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
  f.sql = null;
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
        // The SQL a request runs: on the event when the conversation follows statements
        // (Bind, Describe and Execute too), else what a Query or Parse carries (a huge one
        // not kept whole: none).
        if (c.sql !== undefined) f.sql = c.sql;
        else if (!backend) {
          if (f.name === QUERY) f.sql = queryText(m) ?? null;
          else if (f.name === PARSE) f.sql = parseAsRead(m).query ?? null;
        }
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
      f.sql = ev.record.sql;
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
