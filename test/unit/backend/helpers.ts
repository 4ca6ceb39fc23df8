/** Assertions shared by the server-message tests. */
import assert from 'node:assert/strict';
import { annotatedText } from '../../../src/output/annotated.js';
import { newDecodeContext, type DecodeContext } from '../../../src/protocol/context.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import type { ProtocolErrorCode } from '../../../src/protocol/errors.js';
import type { DecodedMessage, Span } from '../../../src/protocol/types.js';
import { frameOf } from '../../helpers/decode.js';

/** Where malformed messages are placed in the stream, so error offsets must be absolute. */
export const AT = 1000;

/** Decode one server message; the call itself must never throw. */
export function decodeAt(bytes: Buffer, ctx: Partial<DecodeContext> = {}, offset = 0): DecodedMessage {
  const frame = frameOf('backend', bytes, 'normal', offset);
  let msg: DecodedMessage | undefined;
  assert.doesNotThrow(() => {
    msg = decodeFrame(frame, { ...newDecodeContext(), ...ctx });
  });
  return msg!;
}

/** Decode a well-formed message and compare its annotated text with a frozen golden. */
export function golden(bytes: Buffer, expected: string, ctx: Partial<DecodeContext> = {}): DecodedMessage {
  const msg = decodeAt(bytes, ctx);
  assert.equal(msg.error, undefined, `unexpected error: ${msg.error?.message}`);
  assert.equal(annotatedText(msg), expected);
  assert.ok(!flat(msg.spans).some((s) => s.flag === 'unparsed'), 'no unparsed span in a well-formed message');
  return msg;
}

export interface MalformedExpectation {
  /** Message name to expect (the decoder's, or the refined one). */
  name?: string;
  /** Offset of the problem relative to the message start (checked as AT + at). */
  at?: number;
  /** An 'unparsed' span must (true) or must not (false) be present. */
  unparsed?: boolean;
}

/** Decode a malformed message placed at offset AT and check its typed error. */
export function malformed(bytes: Buffer, code: ProtocolErrorCode, exp: MalformedExpectation = {}, ctx: Partial<DecodeContext> = {}): DecodedMessage {
  const msg = decodeAt(bytes, ctx, AT);
  assert.ok(msg.error, 'an error was expected');
  assert.equal(msg.error.code, code, msg.error.message);
  assert.equal(msg.error.direction, 'backend');
  assert.ok(msg.error.offset >= AT && msg.error.offset <= AT + bytes.length, `absolute offset, got ${msg.error.offset}`);
  if (exp.at !== undefined) assert.equal(msg.error.offset, AT + exp.at);
  if (exp.name !== undefined) assert.equal(msg.error.messageName, exp.name);
  const unparsed = msg.spans.filter((s) => s.flag === 'unparsed');
  if (exp.unparsed === true) {
    assert.equal(unparsed.length, 1, 'one unparsed span');
    assert.equal(unparsed[0]!.end, bytes.length, 'the unparsed span runs to the end of the frame');
  }
  if (exp.unparsed === false) assert.equal(unparsed.length, 0);
  assert.notEqual(msg.error.code, 'internal');
  return msg;
}

/** Every span, depth first. */
export function flat(spans: Span[]): Span[] {
  return spans.flatMap((s) => [s, ...flat(s.children ?? [])]);
}

/** The first top-level span with this name (fails the test when missing). */
export function top(msg: DecodedMessage, name: string): Span {
  const s = msg.spans.find((x) => x.name === name);
  assert.ok(s, `a top-level span named ${JSON.stringify(name)}`);
  return s;
}

/** Top-level spans with this name. */
export function all(msg: DecodedMessage, name: string): Span[] {
  return msg.spans.filter((x) => x.name === name);
}

/** A child span of a group by name. */
export function child(group: Span, name: string): Span {
  const s = group.children?.find((x) => x.name === name);
  assert.ok(s, `a child span named ${JSON.stringify(name)} in ${group.name}`);
  return s;
}
