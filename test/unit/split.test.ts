/**
 * Chunking must not matter: every message split at every byte offset into two chunks,
 * and whole conversations fed one byte at a time, decode exactly as when whole.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newDecodeContext, type DecodeContext } from '../../src/protocol/context.js';
import { Conversation } from '../../src/protocol/conversation.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { Framer, type FramerMode } from '../../src/protocol/framer.js';
import type { CodecEvent, DecodedMessage, Direction } from '../../src/protocol/types.js';
import { CORPUS } from '../helpers/corpus.js';
import { loadFixtures } from '../helpers/fixtures.js';

interface Step {
  dir: Direction;
  bytes: Buffer;
  mode: FramerMode;
  ctx: DecodeContext;
  expected: DecodedMessage;
}

/** Decode one message's bytes cut into the given chunks with a fresh framer in `mode`. */
function decodeChunked(step: Omit<Step, 'expected'> & { offset: number }, cuts: number[]): DecodedMessage[] {
  const framer = new Framer({ direction: step.dir, mode: step.mode });
  const out: DecodedMessage[] = [];
  let prev = 0;
  for (const cut of [...cuts, step.bytes.length]) {
    for (const ev of framer.push(step.bytes.subarray(prev, cut))) {
      assert.equal(ev.kind === 'frame' || ev.kind === 'message-start', true, `unexpected ${ev.kind}`);
      if (ev.kind === 'frame') out.push(decodeFrame({ ...ev.frame, offset: ev.frame.offset + step.offset }, structuredClone(step.ctx)));
    }
    prev = cut;
  }
  return out;
}

function checkEverySplit(step: Step): void {
  const base = { ...step, offset: step.expected.frame.offset };
  for (let k = 1; k < step.bytes.length; k++) {
    const got = decodeChunked(base, [k]);
    assert.equal(got.length, 1, `split at ${k}: one message`);
    assert.deepStrictEqual(got[0], step.expected, `split at ${k}`);
  }
  const cuts = Array.from({ length: step.bytes.length - 1 }, (_, i) => i + 1);
  const bytewise = decodeChunked(base, cuts);
  assert.deepStrictEqual(bytewise, [step.expected], 'one byte at a time');
}

/**
 * Replay a recorded conversation once with its original chunks, then again one message per
 * push, keeping for each message the framer mode and context it was decoded in.
 */
function stepsOf(chunks: { dir: Direction; bytes: Buffer }[]): { steps: Step[]; reference: CodecEvent[] } {
  const conv = new Conversation();
  const reference = chunks.flatMap((c) => conv.push(c.dir, c.bytes));
  const streams: Record<Direction, Buffer> = {
    frontend: Buffer.concat(chunks.filter((c) => c.dir === 'frontend').map((c) => c.bytes)),
    backend: Buffer.concat(chunks.filter((c) => c.dir === 'backend').map((c) => c.bytes)),
  };
  const replay = new Conversation();
  const steps: Step[] = [];
  for (const ev of reference) {
    if (ev.kind === 'message') {
      const f = ev.message.frame;
      const bytes = streams[f.direction].subarray(f.offset, f.offset + f.size);
      const mode = replay.framer(f.direction).mode;
      const ctx = structuredClone(replay.ctx);
      const got = replay.push(f.direction, bytes);
      assert.equal(got.length, 1);
      assert.deepStrictEqual(got[0], ev, 'message-at-a-time replay decodes the same');
      steps.push({ dir: f.direction, bytes, mode, ctx, expected: ev.message });
    } else if (ev.kind === 'unparsed') {
      replay.push(ev.direction, streams[ev.direction].subarray(ev.offset, ev.offset + ev.length));
    }
  }
  return { steps, reference };
}

const messagesOf = (evs: CodecEvent[]): DecodedMessage[] => evs.flatMap((e) => (e.kind === 'message' ? [e.message] : []));

describe('split at every offset', () => {
  it('every corpus message, split in two at every offset and byte by byte, decodes identically', () => {
    for (const entry of CORPUS) {
      const ctx = { ...newDecodeContext(), ...entry.ctx };
      const mode = entry.mode ?? 'normal';
      const framer = new Framer({ direction: entry.dir, mode });
      const frames = framer.push(entry.bytes).flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
      assert.equal(frames.length, 1, entry.expect);
      const expected = decodeFrame(frames[0]!, structuredClone(ctx));
      checkEverySplit({ dir: entry.dir, bytes: entry.bytes, mode, ctx, expected });
    }
  });

  for (const fx of loadFixtures()) {
    it(`recorded conversation ${fx.name}: every message split at every offset decodes identically`, () => {
      const { steps, reference } = stepsOf(fx.chunks);
      assert.ok(steps.length > 0, 'the fixture has messages');
      // Splitting huge CopyData messages at every offset is quadratic: cap the size tried.
      for (const step of steps) if (step.bytes.length <= 4096) checkEverySplit(step);
      // The whole conversation, one byte per push, in the same interleaving.
      const conv = new Conversation();
      const bytewise: CodecEvent[] = [];
      for (const step of steps) for (const b of step.bytes) bytewise.push(...conv.push(step.dir, Buffer.from([b])));
      assert.deepStrictEqual(messagesOf(bytewise), messagesOf(reference));
    });
  }
});
