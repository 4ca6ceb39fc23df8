import { hasSecret } from '../../protocol/inspect.js';
import type { DecodedMessage, Span } from '../../protocol/types.js';
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
  typed?: { type: string; value: unknown; text: string };
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
  if (s.typed) j.typed = { type: s.typed.type, value: jsonValue(s.typed.value, maxBytes), text: s.typed.text };
  if (s.flag) j.flag = s.flag;
  if (s.secret) j.secret = true;
  if (s.retained !== undefined) j.retained = s.retained;
  if (s.children && s.children.length > 0) j.children = fieldsJson(s.children, hideSecrets, maxBytes);
  return j;
}

export { hasSecret };
