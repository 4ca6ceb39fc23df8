import { hasSecret } from '../../protocol/inspect.js';
import type { DecodedMessage, Span, TypedValue } from '../../protocol/types.js';
import type { JsonOut } from './json-out.js';
import { jsonBytesText, jsonName, jsonString, jsonValue, writeJsonValue } from './json-value.js';

/** What a secret span's value becomes when redacting. */
export const REDACTED = '<redacted>';
const REDACTED_MEMBER = Buffer.from(',"value":' + JSON.stringify(REDACTED), 'utf8');

export interface MessageJsonOptions {
  redact: boolean;
  /** Most bytes of the frame in `raw`, and of any one byte-string value. */
  maxRawBytes: number;
}

/**
 * The message-specific members of a "message" line, written into `out` to follow the
 * line's head (each member with its leading comma, no closing brace): dir, kind, offset,
 * msg, sub, typeByte, length, size, fields, then raw (bounded) or redacted, then the
 * decoding error. Written member by member, in the order and form JSON.stringify gave the
 * objects this used to build (test/unit/jsonl/reference holds that version).
 *
 * When redacting, a message holding a secret field, or any client 'p' message (passwords,
 * SASL, GSS), has no `raw` at all and `redacted: true`; its secret fields say
 * "<redacted>", and fields that contain a secret field lose their value (a group's value
 * is built from its children's).
 */
export function writeMessageJson(out: JsonOut, msg: DecodedMessage, opts: MessageJsonOptions): void {
  writeMessageStart(out, msg);
  writeMessageRest(out, msg, opts);
}

/** writeMessageJson's first members: dir, kind, offset. */
export function writeMessageStart(out: JsonOut, msg: DecodedMessage): void {
  const f = msg.frame;
  out.ascii(',"dir":');
  out.str(f.direction);
  out.ascii(',"kind":');
  out.str(f.kind);
  out.ascii(',"offset":');
  out.num(f.offset);
}

/**
 * writeMessageJson's members after `offset` (msg … error): the same for every message of
 * the same bytes and options, so JsonlSink keeps them for messages with shared spans.
 */
export function writeMessageRest(out: JsonOut, msg: DecodedMessage, opts: MessageJsonOptions): void {
  const f = msg.frame;
  const max = opts.maxRawBytes;
  out.ascii(',"msg":');
  out.str(msg.name);
  out.ascii(',"sub":');
  if (msg.sub.length === 0) out.ascii('[]');
  else out.utf8(JSON.stringify(msg.sub));
  out.ascii(',"typeByte":');
  if (f.type === null) out.ascii('null');
  else out.str(f.type);
  out.ascii(',"length":');
  out.num(f.length);
  out.ascii(',"size":');
  out.num(f.size);
  out.ascii(',"fields":');
  let hideSecrets = false;
  const fieldsAt = out.pos;
  // One walk when there is no secret (nearly always): the fields are written as they are
  // while noting any secret span; only a message that has one is written again.
  sawSecret = false;
  writeFields(out, msg.spans, false, max);
  if (opts.redact && sawSecret) {
    hideSecrets = true;
    out.pos = fieldsAt;
    writeFields(out, msg.spans, true, max);
  }
  if (hideSecrets || (opts.redact && f.direction === 'frontend' && f.type === 'p')) {
    out.ascii(',"redacted":true');
  } else {
    const cut = f.bytes.length > max;
    out.ascii(',"raw":"');
    out.hex(f.bytes, cut ? max : f.bytes.length);
    out.ascii(cut || !f.complete ? '","rawTruncated":true' : '"');
  }
  if (msg.error) out.utf8(',"error":' + JSON.stringify({ ...msg.error.toJSON(), text: msg.error.message }));
}

/** Set by writeField when it meets a secret span (writeMessageJson's one-walk check). */
let sawSecret = false;

function writeFields(out: JsonOut, spans: Span[], hideSecrets: boolean, maxBytes: number): void {
  out.byte(0x5b);
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) out.byte(0x2c);
    writeField(out, spans[i]!, hideSecrets, maxBytes);
  }
  out.byte(0x5d);
}

function writeField(out: JsonOut, s: Span, hideSecrets: boolean, maxBytes: number): void {
  const length = s.end - s.start;
  out.ascii('{"name":');
  out.str(s.name);
  out.ascii(',"offset":');
  out.num(s.start);
  out.ascii(',"length":');
  out.num(length);
  if (s.secret) sawSecret = true;
  if (s.secret && hideSecrets) {
    out.bytes(REDACTED_MEMBER);
  } else if (s.value !== undefined && !(hideSecrets && s.children && hasSecret(s.children))) {
    out.ascii(',"value":');
    writeJsonValue(out, s.value, maxBytes, s.value instanceof Uint8Array ? length : undefined);
  }
  if (s.meaning !== undefined) {
    out.ascii(',"meaning":');
    out.str(s.meaning);
  }
  if (s.typed) out.utf8(',"typed":' + typedJsonText(s.typed, maxBytes));
  if (s.flag) {
    out.ascii(',"flag":');
    out.str(s.flag);
  }
  if (s.secret) out.ascii(',"secret":true');
  if (s.retained !== undefined) {
    out.ascii(',"retained":');
    out.num(s.retained);
  }
  if (s.children && s.children.length > 0) {
    out.ascii(',"children":');
    writeFields(out, s.children, hideSecrets, maxBytes);
  }
  out.byte(0x7d);
}

/** What is left of the typed value's character budget, and whether anything was cut (typedJsonText's walk). */
let budget = 0;
let cutAny = false;

/**
 * A typed value as JSON text, bounded like `raw`: `text` at most `max` characters, and
 * `value` at most about `max` characters of strings and numbers in all (longer strings
 * cut, further array elements and members left out); `truncated: true` when anything was
 * cut. The value's budget is charged what each leaf takes in JSON (a string its length).
 */
export function typedJsonText(t: TypedValue, max: number): string {
  const textCut = t.text.length > max;
  const text = textCut ? t.text.slice(0, max) : t.text;
  budget = max;
  cutAny = false;
  const value = walkTyped(t.value, max);
  return (
    '{"type":' +
    jsonName(t.type) +
    (value === undefined ? '' : ',"value":' + value) +
    ',"text":' +
    jsonString(text) +
    (textCut || cutAny ? ',"truncated":true}' : '}')
  );
}

function walkTyped(v: unknown, max: number): string | undefined {
  switch (typeof v) {
    case 'string':
      if (v.length > budget) {
        cutAny = true;
        const cut = v.slice(0, Math.max(0, budget));
        budget = 0;
        return jsonString(cut);
      }
      budget -= v.length;
      return jsonString(v);
    case 'number': {
      if (Number.isFinite(v)) {
        const s = '' + v;
        budget -= s.length;
        return s;
      }
      const s = '' + v;
      budget -= s.length;
      return '"' + s + '"';
    }
    case 'boolean':
      budget -= v ? 4 : 5;
      return v ? 'true' : 'false';
    case 'undefined':
      budget -= 4;
      return undefined;
    case 'object': {
      if (v === null) {
        budget -= 4;
        return 'null';
      }
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          if (budget <= 0) {
            cutAny = true;
            break;
          }
          out += (i === 0 ? '' : ',') + (walkTyped(v[i], max) ?? 'null');
        }
        return out + ']';
      }
      if (v instanceof Uint8Array) {
        const s = jsonBytesText(v, max);
        budget -= s.length;
        return s;
      }
      let out = '{';
      for (const k of Object.keys(v)) {
        if (budget <= 0) {
          cutAny = true;
          break;
        }
        const w = walkTyped((v as Record<string, unknown>)[k], max);
        // An object's `out.__proto__ = …` sets no member: JSON.stringify showed none.
        if (w === undefined || k === '__proto__') continue;
        out += (out.length === 1 ? '' : ',') + jsonName(k) + ':' + w;
      }
      return out + '}';
    }
    default: {
      // bigint, symbol, function: a string (jsonValue's form), charged its length.
      const j = jsonValue(v, max) as string;
      budget -= j.length;
      return JSON.stringify(j);
    }
  }
}

export { hasSecret };
