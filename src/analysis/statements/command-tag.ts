import type { StatementRecord } from '../records.js';
import { isEmptySql } from '../../protocol/sql/split.js';

/** Tags whose last word is a row count ("CommandComplete": INSERT oid rows, DELETE rows, UPDATE rows, MERGE rows, SELECT rows, MOVE rows, FETCH rows, COPY rows). */
const COUNTED = new Set(['INSERT', 'DELETE', 'UPDATE', 'MERGE', 'SELECT', 'MOVE', 'FETCH', 'COPY']);

/** Rows affected or returned according to a command tag, or null for tags without a count (BEGIN, CREATE TABLE). */
export function affectedRows(tag: string): number | null {
  const words = tag.split(' ');
  if (words.length < 2 || !COUNTED.has(words[0]!)) return null;
  const last = words[words.length - 1]!;
  return /^[0-9]+$/.test(last) ? Number(last) : null;
}

/**
 * How a statement ended, derived from a record: an ErrorResponse; a CommandComplete (tag);
 * EmptyQueryResponse ("a response to an empty query string", so the SQL is blank); else
 * PortalSuspended ("an Execute message's row-count limit was reached").
 */
export type Outcome = 'complete' | 'error' | 'empty' | 'suspended';

export function statementOutcome(r: StatementRecord): Outcome {
  if (r.error) return 'error';
  if (r.tag !== null) return 'complete';
  return isEmptySql(r.sql) ? 'empty' : 'suspended';
}
