import { hasSecret } from '../../../../src/protocol/inspect.js';
import type { DecodedMessage, Span } from '../../../../src/protocol/types.js';
import { jsonValue } from './json-value.js';

/** What a secret span's value becomes when redacting. */
export const REDACTED = '<redacted>';

/** One decoded field in JSON lines (docs/jsonl.md, "fields"). */
export interface JsonField {
  name: string;
  /** Relative to the message's first byte, as Span.start. */
  offset: number;
  length: number;
  value?: unknown;
  meaning?: string;
  typed?: { type: string; value: unknown; text: string; truncated?: true };
  flag?: 'unparsed' | 'elided';
  secret?: true;
  retained?: number;
  children?: JsonField[];
}

export interface MessageJsonOptions {
  redact: boolean;
  /** Most bytes of the frame in `raw`, and of any one byte-string value. */
  maxRawBytes: number;
}

/**
 * The message-specific members of a "message" line: name, framing, the field tree, the
 * raw bytes (bounded), the decoding error. When redacting, a message holding a secret
 * field, or any client 'p' message (passwords, SASL, GSS), has no `raw` at all and
 * `redacted: true`; its secret fields say "<redacted>", and fields that contain a secret
 * field lose their value (a group's value is built from its children's).
 */
export function messageJson(msg: DecodedMessage, opts: MessageJsonOptions): Record<string, unknown> {
  const f = msg.frame;
  const hideSecrets = opts.redact && hasSecret(msg.spans);
  const redacted = hideSecrets || (opts.redact && f.direction === 'frontend' && f.type === 'p');
  const out: Record<string, unknown> = {
    dir: f.direction,
    kind: f.kind,
    offset: f.offset,
    msg: msg.name,
    sub: msg.sub,
    typeByte: f.type,
    length: f.length,
    size: f.size,
    fields: fieldsJson(msg.spans, hideSecrets, opts.maxRawBytes),
  };
  if (redacted) {
    out.redacted = true;
  } else {
    const cut = f.bytes.length > opts.maxRawBytes;
    out.raw = (cut ? f.bytes.subarray(0, opts.maxRawBytes) : f.bytes).toString('hex');
    if (cut || !f.complete) out.rawTruncated = true;
  }
  if (msg.error) out.error = { ...msg.error.toJSON(), text: msg.error.message };
  return out;
}

function fieldsJson(spans: Span[], hideSecrets: boolean, maxBytes: number): JsonField[] {
  const out = new Array<JsonField>(spans.length);
  for (let i = 0; i < spans.length; i++) out[i] = fieldJson(spans[i]!, hideSecrets, maxBytes);
  return out;
}

function fieldJson(s: Span, hideSecrets: boolean, maxBytes: number): JsonField {
  const length = s.end - s.start;
  const j: JsonField = { name: s.name, offset: s.start, length };
  if (s.secret && hideSecrets) {
    j.value = REDACTED;
  } else if (s.value !== undefined && !(hideSecrets && s.children && hasSecret(s.children))) {
    j.value = jsonValue(s.value, maxBytes, s.value instanceof Uint8Array ? length : undefined);
  }
  if (s.meaning !== undefined) j.meaning = s.meaning;
  if (s.typed) j.typed = typedJson(s.typed, maxBytes);
  if (s.flag) j.flag = s.flag;
  if (s.secret) j.secret = true;
  if (s.retained !== undefined) j.retained = s.retained;
  if (s.children && s.children.length > 0) j.children = fieldsJson(s.children, hideSecrets, maxBytes);
  return j;
}

/**
 * A typed value, bounded like `raw`: `text` at most `max` characters, and `value` at most
 * about `max` characters of strings and numbers in all (longer strings cut, further array
 * elements and members left out); `truncated: true` when anything was cut.
 */
export function typedJson(t: { type: string; value: unknown; text: string }, max: number): NonNullable<JsonField['typed']> {
  let truncated = t.text.length > max;
  const text = truncated ? t.text.slice(0, max) : t.text;
  let budget = max;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (v.length > budget) {
        truncated = true;
        const cut = v.slice(0, Math.max(0, budget));
        budget = 0;
        return cut;
      }
      budget -= v.length;
      return v;
    }
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const e of v) {
        if (budget <= 0) {
          truncated = true;
          break;
        }
        out.push(walk(e) ?? null);
      }
      return out;
    }
    if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        if (budget <= 0) {
          truncated = true;
          break;
        }
        out[k] = walk((v as Record<string, unknown>)[k]);
      }
      return out;
    }
    const j = jsonValue(v, max);
    budget -= typeof j === 'string' ? j.length : j === null || j === undefined ? 4 : JSON.stringify(j).length;
    return j;
  };
  const value = walk(t.value);
  const out: NonNullable<JsonField['typed']> = { type: t.type, value, text };
  if (truncated) out.truncated = true;
  return out;
}

export { hasSecret };
