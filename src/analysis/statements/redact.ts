import type { StatementRecord } from '../records.js';
import { isWord, tokenize, type Token } from '../../protocol/sql/lexer.js';
import { carriesPassword, connInfoCarriesPassword, MAYBE_PASSWORD } from '../../protocol/sql/passwords.js';

/**
 * Redaction of what the statement records and status lines say. Which SQL and which values
 * carry a password is decided in src/protocol/sql/passwords.ts (decoding marks such spans
 * secret itself); this replaces the passwords in text.
 */
export { carriesPassword, connInfoCarriesPassword };

export const REDACTED = '<redacted>';

/**
 * The SQL with password literals replaced by '<redacted>': a string constant right after
 * the word PASSWORD (spaces and comments between are allowed), and the password inside a
 * string constant holding a connection string (CREATE SUBSCRIPTION … CONNECTION '…'):
 * the constant is read as SQL does (doubled quotes, E'' escapes), parsed as libpq does
 * (key = value pairs, or a postgresql:// URI), the password value replaced, and the
 * constant written again as a plain '…' constant. A constant that does not parse loses
 * all of its contents.
 */
export function redactSql(sql: string): string {
  if (!MAYBE_PASSWORD.test(sql)) return sql;
  const tokens = tokenize(sql);
  let afterPassword = false;
  let out = '';
  for (const t of tokens) {
    if (t.kind === 'space' || t.kind === 'comment') {
      out += t.text;
      continue;
    }
    if ((t.kind === 'string' || t.kind === 'dollar') && afterPassword) out += `'${REDACTED}'`;
    else if ((t.kind === 'string' || t.kind === 'dollar') && connInfoCarriesPassword(t.text)) out += redactConstant(t);
    else out += t.text;
    afterPassword = isWord(t, 'PASSWORD');
  }
  return out;
}

/** A string constant holding a connection string with a password, with the password replaced. */
function redactConstant(t: Token): string {
  const body = constantBody(t);
  // Bit strings and hex strings cannot hold one; U&'' escapes and unterminated constants are not worth reading.
  if (body === null) return /^[bBxX]'/.test(t.text) ? t.text : `'${REDACTED}'`;
  const redacted = redactConnInfo(body);
  return redacted === null ? `'${REDACTED}'` : `'${redacted.replace(/'/g, "''")}'`;
}

/** The value of a '…', N'…', E'…' or $tag$…$tag$ constant; null for other kinds or when unterminated. */
function constantBody(t: Token): string | null {
  const s = t.text;
  if (t.kind === 'dollar') {
    const tag = /^\$[^$]*\$/.exec(s)?.[0];
    if (!tag || s.length < 2 * tag.length || !s.endsWith(tag)) return null;
    return s.slice(tag.length, s.length - tag.length);
  }
  const first = s[0]!;
  if (first === "'") return plainBody(s, 1);
  if (first === 'n' || first === 'N') return plainBody(s, 2);
  if (first === 'e' || first === 'E') return escapeBody(s, 2);
  return null;
}

/** '' is a quote; the constant must end with its closing quote. */
function plainBody(s: string, from: number): string | null {
  let out = '';
  for (let i = from; i < s.length; i++) {
    if (s[i] !== "'") out += s[i];
    else if (s[i + 1] === "'") {
      out += "'";
      i++;
    } else return i === s.length - 1 ? out : null;
  }
  return null;
}

/** E'…': "Escape" string constants (\b \f \n \r \t, \ooo, \xhh, \uXXXX, \UXXXXXXXX, \c for any other c) and ''. */
function escapeBody(s: string, from: number): string | null {
  let out = '';
  let i = from;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "'") {
      if (s[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return i === s.length - 1 ? out : null;
    }
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = s[i + 1];
    if (e === undefined) return null;
    const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    let m: RegExpExecArray | null;
    if (simple[e] !== undefined) {
      out += simple[e];
      i += 2;
    } else if ((m = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4)))) {
      out += String.fromCharCode(parseInt(m[0], 8) & 0xff);
      i += 1 + m[0].length;
    } else if (e === 'x' && (m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4)))) {
      out += String.fromCharCode(parseInt(m[0], 16));
      i += 2 + m[0].length;
    } else if ((e === 'u' || e === 'U') && (m = (e === 'u' ? /^[0-9a-fA-F]{4}/ : /^[0-9a-fA-F]{8}/).exec(s.slice(i + 2, i + 10)))) {
      const cp = parseInt(m[0], 16);
      if (cp > 0x10ffff) return null;
      out += String.fromCodePoint(cp);
      i += 2 + m[0].length;
    } else {
      out += e;
      i += 2;
    }
  }
  return null;
}

const SPACE = /\s/;

/**
 * A libpq connection string with every password replaced by <redacted>, the rest as it
 * was; null when it does not parse (libpq would refuse it too). Two forms
 * ("Connection Strings" in libpq's documentation): keyword = value pairs, values
 * optionally single-quoted, with \' and \\ escapes (conninfo_parse); or a
 * postgresql:// URI, whose user part may be user:password and whose parameters may
 * include password=…
 */
export function redactConnInfo(s: string): string | null {
  if (/^\s*postgres(?:ql)?:\/\//i.test(s)) return redactUri(s);
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    const start = i;
    while (i < n && SPACE.test(s[i]!)) i++;
    if (i >= n) return out + s.slice(start);
    const keyStart = i;
    while (i < n && s[i] !== '=' && !SPACE.test(s[i]!)) i++;
    const key = s.slice(keyStart, i);
    while (i < n && SPACE.test(s[i]!)) i++;
    if (s[i] !== '=' || key === '') return null;
    i++;
    while (i < n && SPACE.test(s[i]!)) i++;
    const valueStart = i;
    if (s[i] === "'") {
      i++;
      for (;;) {
        if (i >= n) return null; // unterminated quoted value
        if (s[i] === '\\') i += 2;
        else if (s[i] === "'") {
          i++;
          break;
        } else i++;
      }
    } else {
      while (i < n && !SPACE.test(s[i]!)) i += s[i] === '\\' ? 2 : 1;
    }
    i = Math.min(i, n);
    out += s.slice(start, valueStart) + (/password$/i.test(key) ? REDACTED : s.slice(valueStart, i));
  }
  return out;
}

/** postgresql://[user[:password]@][hosts][/dbname][?param=value&…]: the password and any password-like parameter replaced. */
function redactUri(s: string): string {
  const scheme = /^\s*postgres(?:ql)?:\/\//i.exec(s)![0];
  let rest = s.slice(scheme.length);
  // libpq looks for the '@' that ends the user part before any '/' (or '?').
  const stop = rest.search(/[/?]/);
  const authority = stop === -1 ? rest : rest.slice(0, stop);
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon !== -1) rest = `${userinfo.slice(0, colon + 1)}${REDACTED}${rest.slice(at)}`;
  }
  const q = rest.indexOf('?');
  if (q !== -1) {
    const params = rest
      .slice(q + 1)
      .split('&')
      .map((p) => {
        const eq = p.indexOf('=');
        return eq !== -1 && /password$/i.test(decodeSafe(p.slice(0, eq)).trim()) ? `${p.slice(0, eq + 1)}${REDACTED}` : p;
      })
      .join('&');
    rest = `${rest.slice(0, q + 1)}${params}`;
  }
  return scheme + rest;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A record as redacted outputs show it: password literals in the SQL, and all parameters
 * of such statements; in other statements, a parameter whose value carries a password
 * (SELECT dblink_connect($1)).
 */
export function redactRecord(r: StatementRecord): StatementRecord {
  if (carriesPassword(r.sql)) return { ...r, sql: redactSql(r.sql), params: r.params.map((p) => ({ ...p, value: p.value === null ? null : REDACTED })) };
  if (!r.params.some((p) => p.value !== null && connInfoCarriesPassword(p.value))) return r;
  return { ...r, params: r.params.map((p) => (p.value !== null && connInfoCarriesPassword(p.value) ? { ...p, value: REDACTED } : p)) };
}
