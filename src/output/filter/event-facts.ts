import { parseAsRead } from '../../protocol/frontend/parse.js';
import { queryText } from '../../protocol/frontend/query.js';
import type { Label, ProxyEvent } from '../../session/events.js';
import { messageFacts, normalizedName, T, F, U, type Facts, type Sender } from '../../filter/index.js';

const NO_SUB: readonly string[] = [];

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
        // The SQL a request runs: on the event when the conversation follows statements
        // (Bind, Describe and Execute too), else what a Query or Parse carries (a huge one
        // not kept whole: none).
        let sql: string | null = c.sql ?? null;
        if (c.sql === undefined && m.frame.direction === 'frontend') {
          if (m.name === 'Query') sql = queryText(m) ?? null;
          else if (m.name === 'Parse') sql = parseAsRead(m).query ?? null;
        }
        messageFacts(m, f.sender, ev.conn, sql, f);
      } else if (c.kind === 'error') {
        f.name = normalizedName(c.error.messageName);
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
