/**
 * Shared assertions for the frontend decoder tests (not a test file itself).
 * Goldens are written with String.raw so the escaped bytes read as the renderer prints them.
 */
import assert from 'node:assert/strict';
import type { DecodeContext } from '../../../src/protocol/context.js';
import { newDecodeContext } from '../../../src/protocol/context.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import type { ProtocolErrorCode } from '../../../src/protocol/errors.js';
import type { DecodedMessage, Span } from '../../../src/protocol/types.js';
import { frameOf } from '../../helpers/decode.js';

export const raw = String.raw;

/** A golden annotated text, one argument per output line. */
export function lines(...ls: string[]): string {
  return ls.join('\n');
}

/** The first span with this name, searching groups depth-first. */
export function findSpan(spans: Span[], name: string): Span | undefined {
  for (const s of spans) {
    if (s.name === name) return s;
    const inner = s.children ? findSpan(s.children, name) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

/** Every span with this name, depth-first. */
export function findSpans(spans: Span[], name: string): Span[] {
  return spans.flatMap((s) => [...(s.name === name ? [s] : []), ...(s.children ? findSpans(s.children, name) : [])]);
}

export function span(msg: DecodedMessage, name: string): Span {
  const s = findSpan(msg.spans, name);
  assert.ok(s, `a span named ${JSON.stringify(name)}`);
  return s;
}

/** Decode a frontend frame placed at an absolute stream offset (to check error offsets). */
export function decodeAt(bytes: Buffer, offset: number, ctx: Partial<DecodeContext> = {}, mode: 'normal' | 'startup' = 'normal'): DecodedMessage {
  return decodeFrame(frameOf('frontend', bytes, mode, offset), { ...newDecodeContext(), ...ctx });
}

/**
 * The message failed with `code` at absolute `offset`; the bytes from `unparsedFrom`
 * (relative) to the frame's end are one 'unparsed' span, and every span stays in the frame.
 */
export function assertError(msg: DecodedMessage, code: ProtocolErrorCode, offset: number, unparsedFrom?: number): void {
  assert.ok(msg.error, `an error (got none for ${msg.name})`);
  assert.equal(msg.error.code, code, msg.error.message);
  assert.equal(msg.error.offset, offset, msg.error.message);
  assert.equal(msg.error.direction, 'frontend');
  if (unparsedFrom !== undefined) {
    const last = msg.spans[msg.spans.length - 1]!;
    assert.equal(last.flag, 'unparsed');
    assert.equal(last.start, unparsedFrom);
    assert.equal(last.end, msg.frame.size);
  }
  for (const s of msg.spans) assert.ok(s.start >= 0 && s.end <= msg.frame.size && s.start <= s.end, `span ${s.name} within the frame`);
}
