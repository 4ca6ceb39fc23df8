import type { StatementRecord } from '../../session/events.js';
import { isWord, tokenize } from './sql-lexer.js';

export const REDACTED = '<redacted>';

/**
 * True when the SQL carries a password: CREATE/ALTER ROLE/USER/GROUP … [ENCRYPTED]
 * PASSWORD '…' (psql's \password sends the SCRAM verifier this way), and OPTIONS (password
 * '…') of user mappings and foreign servers. Its parameters, if any, are then redacted too.
 */
export function carriesPassword(sql: string): boolean {
  return /password/i.test(sql) && tokenize(sql).some((t) => isWord(t, 'PASSWORD') || (t.kind === 'string' && /password\s*=/i.test(t.text)));
}

/**
 * The SQL with password literals replaced by '<redacted>': a string constant right after
 * the word PASSWORD (spaces and comments between are allowed), and the value of
 * `password=` inside a connection-string literal (CREATE SUBSCRIPTION … CONNECTION '…').
 */
export function redactSql(sql: string): string {
  if (!/password/i.test(sql)) return sql;
  const tokens = tokenize(sql);
  let afterPassword = false;
  let out = '';
  for (const t of tokens) {
    if (t.kind === 'space' || t.kind === 'comment') {
      out += t.text;
      continue;
    }
    if ((t.kind === 'string' || t.kind === 'dollar') && afterPassword) out += `'${REDACTED}'`;
    else if (t.kind === 'string' && /password\s*=/i.test(t.text)) out += t.text.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']+)/gi, `$1${REDACTED}`);
    else out += t.text;
    afterPassword = isWord(t, 'PASSWORD');
  }
  return out;
}

/** A record as redacted outputs show it: password literals in the SQL, and all parameters of such statements. */
export function redactRecord(r: StatementRecord): StatementRecord {
  if (!carriesPassword(r.sql)) return r;
  return { ...r, sql: redactSql(r.sql), params: r.params.map((p) => ({ ...p, value: p.value === null ? null : REDACTED })) };
}
