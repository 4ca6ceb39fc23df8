import type { DecodedMessage, Span } from './types.js';

/**
 * The fields of an ErrorResponse or NoticeResponse by their one-letter code
 * (S, V, C, M, …), read from the decoded spans.
 */
export function errorFields(m: DecodedMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of m.spans) {
    if (s.name !== 'field' || !s.children) continue;
    const code = s.children.find((c) => c.name === 'field type')?.value;
    const value = s.children.find((c) => c.name === 'value')?.value;
    if (typeof code === 'string' && typeof value === 'string') out[code] = value;
  }
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
