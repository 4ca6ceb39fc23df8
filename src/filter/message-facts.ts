import type { DecodedMessage } from '../protocol/types.js';
import { F, T, type Facts } from './evaluate.js';
import type { Sender } from './ast.js';
import { normalizeName } from './message-names.js';

/** Client requests that start a statement or call, and the server messages that end one (`queries`). */
const QUERY_REQUESTS = new Set(['query', 'parse', 'bind', 'execute', 'functioncall']);
const QUERY_RESULTS = new Set(['commandcomplete', 'errorresponse', 'emptyqueryresponse', 'portalsuspended', 'functioncallresponse']);
const ERROR_RESPONSE = 'errorresponse';

const NO_SUB: readonly string[] = [];

/** Normalized names are few (the codec's vocabulary): remember them rather than redo the string work per message. */
const normalized = new Map<string, string>();
export function normalizedName(name: string): string {
  let n = normalized.get(name);
  if (n === undefined) {
    n = normalizeName(name);
    if (normalized.size < 4096) normalized.set(name, n);
  }
  return n;
}

/** What messageFacts reads of a message: a DecodedMessage, or a JSON-lines message's members. */
export interface FactsOfMessage {
  name: string;
  sub: readonly string[];
  frame: { direction: DecodedMessage['frame']['direction'] };
  error?: unknown;
}

/**
 * Fill `f` (reused between messages) with what a condition can ask of one decoded message:
 * its sender, connection, name and nested names, whether it is a query request or result,
 * an error, and the SQL it runs (given: the caller knows it, see MessageView.sql).
 */
export function messageFacts(m: FactsOfMessage, sender: Sender, conn: number | null, sql: string | null, f: Facts): Facts {
  f.conn = conn;
  f.sender = sender;
  f.name = normalizedName(m.name);
  f.sub = m.sub.length > 0 ? m.sub.map(normalizedName) : NO_SUB;
  f.named = true;
  f.query = (m.frame.direction === 'backend' ? QUERY_RESULTS : QUERY_REQUESTS).has(f.name) ? T : F;
  f.error = f.name === ERROR_RESPONSE || m.error !== undefined ? T : F;
  f.sql = sql;
  return f;
}
