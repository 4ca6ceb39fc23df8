import { errorNoticeFields } from './backend/error-fields.js';
import type { DecodedMessage, Span } from './types.js';

/**
 * The fields of an ErrorResponse or NoticeResponse by their one-letter code
 * (S, V, C, M, …), as far as they were read (a later field of the same code wins).
 * Typed, ordered and complete: errorResponse.fields(m).
 */
export function errorFields(m: DecodedMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of errorNoticeFields(m)) out[f.type] = f.value;
  return out;
}

/** True when any span, at any depth, is marked secret (outputs redact such messages). */
export function hasSecret(spans: Span[]): boolean {
  for (const s of spans) {
    if (s.secret) return true;
    if (s.children && hasSecret(s.children)) return true;
  }
  return false;
}
