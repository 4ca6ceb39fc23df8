/**
 * Validates --jsonl output against the schema in docs/jsonl.md, line by line, and throws
 * naming the line number and the member at fault. Used by the unit tests of the JSON
 * lines sink and by end-to-end tests that read pgscope's real output.
 */
import { JSONL_TYPES, JSONL_VERSION } from '../../src/output/jsonl/schema.js';

type Obj = Record<string, unknown>;

const TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})(\d{3})Z$/;
const HEX = /^(?:[0-9a-f]{2})*$/;
const LABELS: Record<string, [string, string]> = {
  'client -> server': ['client', 'server'],
  'server -> client': ['server', 'client'],
  'client -> script': ['client', 'script'],
  'script -> client': ['script', 'client'],
  'script -> server': ['script', 'server'],
  'server -> script': ['server', 'script'],
};
const KINDS = ['startup', 'message', 'answer', 'tls-record'];
const PHASES = ['opened', 'client-tls', 'server-connected', 'server-tls', 'closed'];

class SchemaError extends Error {}

function fail(what: string): never {
  throw new SchemaError(what);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(o: Obj, k: string, min = 0): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`${k} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function str(o: Obj, k: string, nullable = false): string | null {
  const v = o[k];
  if (v === null && nullable) return null;
  if (typeof v !== 'string') fail(`${k} must be a string${nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf(o: Obj, k: string, allowed: readonly unknown[]): void {
  if (!allowed.includes(o[k])) fail(`${k} must be one of ${JSON.stringify(allowed)}, got ${JSON.stringify(o[k])}`);
}

function bool(o: Obj, k: string): void {
  if (typeof o[k] !== 'boolean') fail(`${k} must be a boolean, got ${JSON.stringify(o[k])}`);
}

function endpoint(o: Obj, k: string): void {
  const e = o[k];
  if (!isObj(e)) fail(`${k} must be an {address, port} object`);
  str(e, 'address');
  int(e, 'port');
}

function tls(o: Obj): void {
  const t = o.tls;
  if (!isObj(t)) fail('tls must be an object');
  for (const k of ['protocol', 'cipher', 'sni', 'alpn']) str(t, k, true);
}

/** ISO time with exactly six fractional digits that says the same instant as the integer µs. */
function time(o: Obj, isoKey: string, usKey: string): void {
  const iso = str(o, isoKey)!;
  const m = TIME.exec(iso);
  if (!m) fail(`${isoKey} must be ISO-8601 UTC with 6 fractional digits, got ${JSON.stringify(iso)}`);
  const us = int(o, usKey);
  const expected = Date.parse(m[1]! + 'Z') * 1000 + Number(m[2]);
  if (expected !== us) fail(`${isoKey} ${iso} and ${usKey} ${us} disagree`);
}

function bytesValue(v: Obj, where: string): void {
  const n = typeof v.hex === 'string' ? (HEX.test(v.hex) ? v.hex.length / 2 : fail(`${where}.hex is not lower-case hex`)) : typeof v.text === 'string' ? null : fail(`${where} must have hex or text`);
  const length = int(v, 'length');
  if (n !== null && n > length) fail(`${where} shows ${n} bytes of ${length}`);
  if (n !== null && n < length && v.truncated !== true) fail(`${where} shows ${n} of ${length} bytes without truncated: true`);
}

/** A field and its children lie inside [lo, hi) of the message. */
function field(f: unknown, lo: number, hi: number, path: string, redacted: boolean): void {
  if (!isObj(f)) fail(`${path} must be an object`);
  str(f, 'name');
  const off = int(f, 'offset');
  const len = int(f, 'length');
  if (off < lo || off + len > hi) fail(`${path} (${String(f.name)}) covers [${off}, ${off + len}) outside [${lo}, ${hi})`);
  if (f.meaning !== undefined) str(f, 'meaning');
  if (f.flag !== undefined) oneOf(f, 'flag', ['unparsed', 'elided']);
  if (f.secret !== undefined && f.secret !== true) fail(`${path}.secret must be true when present`);
  if (f.value === '<redacted>' && f.secret === true && !redacted) fail(`${path} is redacted but the line has no redacted: true`);
  if (f.secret === true && redacted && f.value !== undefined && f.value !== '<redacted>') fail(`${path} is secret in a redacted message but shows a value`);
  if (isObj(f.value) && (f.value.hex !== undefined || f.value.text !== undefined) && f.value.length !== undefined) bytesValue(f.value, `${path}.value`);
  if (f.typed !== undefined) {
    if (!isObj(f.typed)) fail(`${path}.typed must be an object`);
    str(f.typed, 'type');
    str(f.typed, 'text');
  }
  if (f.retained !== undefined && int(f, 'retained') >= len) fail(`${path}.retained must be below its length`);
  if (f.children !== undefined) {
    if (!Array.isArray(f.children) || f.children.length === 0) fail(`${path}.children must be a non-empty array`);
    f.children.forEach((c, i) => field(c, off, off + len, `${path}.children[${i}]`, redacted));
  }
}

function sides(o: Obj): 'frontend' | 'backend' {
  const label = str(o, 'label')!;
  const ends = LABELS[label] ?? fail(`label ${JSON.stringify(label)} is not one of ${Object.keys(LABELS).join(', ')}`);
  if (o.from !== ends[0] || o.to !== ends[1]) fail(`from/to ${String(o.from)}/${String(o.to)} do not match label ${label}`);
  const dir = ends[0] === 'client' || ends[1] === 'server' ? 'frontend' : 'backend';
  if (o.dir !== dir) fail(`dir ${String(o.dir)} does not match label ${label}`);
  int(o, 'offset');
  return dir;
}

function protocolError(e: unknown, dir: string): void {
  if (!isObj(e)) fail('error must be an object');
  for (const k of ['code', 'message', 'expected', 'text']) str(e, k);
  if (e.direction !== dir) fail(`error.direction ${String(e.direction)} is not the message's ${dir}`);
  int(e, 'offset');
}

function message(o: Obj): void {
  const dir = sides(o);
  oneOf(o, 'kind', KINDS);
  str(o, 'msg');
  if (!Array.isArray(o.sub) || !o.sub.every((s) => typeof s === 'string')) fail('sub must be an array of strings');
  const length = int(o, 'length');
  const size = int(o, 'size', 1);
  const typeByte = str(o, 'typeByte', true);
  if ((o.kind === 'message' || o.kind === 'answer') !== (typeByte !== null && typeByte.length === 1)) fail(`typeByte ${JSON.stringify(typeByte)} does not fit kind ${String(o.kind)}`);
  if (o.kind === 'message' && size !== length + 1) fail(`size ${size} is not length ${length} + the type byte`);
  if (o.kind === 'startup' && size !== length) fail(`a startup packet's size ${size} differs from its length ${length}`);
  const redacted = o.redacted === true;
  if (o.redacted !== undefined && !redacted) fail('redacted must be true when present');
  if (!Array.isArray(o.fields)) fail('fields must be an array');
  o.fields.forEach((f, i) => field(f, 0, size, `fields[${i}]`, redacted));
  if (redacted) {
    if (o.raw !== undefined) fail('a redacted message has no raw');
  } else {
    const raw = str(o, 'raw')!;
    if (!HEX.test(raw)) fail('raw must be lower-case hex');
    const n = raw.length / 2;
    if (n > size) fail(`raw has ${n} bytes, the frame ${size}`);
    if (o.rawTruncated !== undefined && o.rawTruncated !== true) fail('rawTruncated must be true when present');
    if (n < size && o.rawTruncated !== true) fail(`raw has ${n} of ${size} bytes without rawTruncated: true`);
    if (o.kind === 'message' && n > 0 && raw.slice(0, 2) !== Buffer.from(typeByte!, 'latin1').toString('hex')) fail(`raw does not start with the type byte ${JSON.stringify(typeByte)}`);
  }
  if (o.error !== undefined) protocolError(o.error, dir);
}

function statement(o: Obj): void {
  time(o, 'start', 'startTs');
  if (typeof o.duration !== 'number' || o.duration < 0) fail('duration must be a number ≥ 0');
  if (o.untilReady !== null && typeof o.untilReady !== 'number') fail('untilReady must be a number or null');
  oneOf(o, 'protocol', ['simple', 'extended']);
  str(o, 'sql');
  str(o, 'statement', true);
  str(o, 'portal', true);
  if (!Array.isArray(o.params)) fail('params must be an array');
  for (const p of o.params) {
    if (!isObj(p)) fail('each param must be an object');
    str(p, 'type', true);
    oneOf(p, 'format', ['text', 'binary']);
    str(p, 'value', true);
  }
  if (o.rows !== null) int(o, 'rows');
  str(o, 'tag', true);
  if (o.affected !== null) int(o, 'affected');
  if (o.error !== null) {
    if (!isObj(o.error)) fail('error must be an object or null');
    for (const k of ['severity', 'code', 'message']) str(o.error, k);
  }
}

function line(o: unknown): void {
  if (!isObj(o)) fail('not a JSON object');
  if (o.v !== JSONL_VERSION) fail(`v must be ${JSONL_VERSION}, got ${JSON.stringify(o.v)}`);
  oneOf(o, 'type', JSONL_TYPES);
  if (!((o.type === 'status' || o.type === 'dropped') && o.conn === null)) int(o, 'conn', 1);
  time(o, 'time', 'ts');
  switch (o.type) {
    case 'message':
      return message(o);
    case 'codec-error':
      protocolError(o.error, sides(o));
      return;
    case 'unparsed':
      sides(o);
      int(o, 'length', 1);
      str(o, 'reason');
      if (o.redacted === true) {
        if (o.prefix !== undefined) fail('a redacted unparsed line has no prefix');
      } else if (isObj(o.prefix)) bytesValue(o.prefix, 'prefix');
      else fail('prefix must be a bytes object unless redacted');
      return;
    case 'status':
      oneOf(o, 'level', ['info', 'warn', 'error', 'debug']);
      str(o, 'text');
      return;
    case 'connection':
      oneOf(o, 'phase', PHASES);
      if (o.phase === 'opened') (endpoint(o, 'client'), endpoint(o, 'local'));
      else if (o.phase === 'client-tls') (tls(o), bool(o, 'direct'));
      else if (o.phase === 'server-connected') (str(o, 'host'), int(o, 'port'), str(o, 'why'), endpoint(o, 'remote'), endpoint(o, 'local'));
      else if (o.phase === 'server-tls') tls(o);
      else (str(o, 'reason'), int(o, 'bytesFromClient'), int(o, 'bytesFromServer'));
      return;
    case 'security':
      oneOf(o, 'tls', ['none', 'self-signed', 'local-ca', 'user-certificate']);
      oneOf(o, 'gs2Flag', ['n', 'y', 'p', null]);
      str(o, 'clientAuth', true);
      bool(o, 'serverOfferedPlus');
      oneOf(o, 'exposure', ['exposed', 'unknown']);
      bool(o, 'overrideAuth');
      str(o, 'sentence');
      return;
    case 'statement':
      return statement(o);
    case 'dropped':
      int(o, 'lines', 1);
      str(o, 'output');
      str(o, 'text');
      return;
  }
}

/** Parse and validate every line of --jsonl output (a trailing newline is fine); returns the objects. */
export function checkJsonlLines(text: string): Record<string, unknown>[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l, i) => {
    let o: unknown;
    try {
      o = JSON.parse(l);
    } catch (e) {
      throw new Error(`jsonl line ${i + 1}: not JSON (${(e as Error).message}): ${l.slice(0, 200)}`);
    }
    try {
      line(o);
    } catch (e) {
      if (!(e instanceof SchemaError)) throw e;
      throw new Error(`jsonl line ${i + 1}: ${e.message}: ${l.slice(0, 300)}`);
    }
    return o as Record<string, unknown>;
  });
}
