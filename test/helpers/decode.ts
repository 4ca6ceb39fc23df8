import { Conversation } from '../../src/protocol/conversation.js';
import { newDecodeContext, type DecodeContext } from '../../src/protocol/context.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { Framer, type FramerMode } from '../../src/protocol/framer.js';
import type { CodecEvent, DecodedMessage, Direction, Frame } from '../../src/protocol/types.js';
import { annotatedText } from '../../src/output/annotated.js';

/** Frame exactly one message from bytes (normal phase unless startup is asked for). */
export function frameOf(direction: Direction, bytes: Buffer, mode: FramerMode = 'normal', offset = 0): Frame {
  const f = new Framer({ direction, mode });
  const evs = f.push(bytes);
  const frames = evs.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
  if (frames.length !== 1 || evs.length !== 1) throw new Error(`expected exactly one frame, got ${JSON.stringify(evs.map((e) => e.kind))}`);
  const frame = frames[0]!;
  return { ...frame, offset: frame.offset + offset };
}

/** Decode one message with a context (a fresh one unless given). */
export function decodeOne(direction: Direction, bytes: Buffer, ctx: Partial<DecodeContext> = {}, mode: FramerMode = 'normal'): DecodedMessage {
  return decodeFrame(frameOf(direction, bytes, mode), { ...newDecodeContext(), ...ctx });
}

/** Decode one message and render it as annotated text (monochrome). */
export function annotate(direction: Direction, bytes: Buffer, ctx: Partial<DecodeContext> = {}, mode: FramerMode = 'normal'): string {
  return annotatedText(decodeOne(direction, bytes, ctx, mode));
}

/** Feed a recorded conversation (chunks in arrival order) and collect every event. */
export function replay(chunks: { dir: Direction; bytes: Buffer }[], conv = new Conversation()): CodecEvent[] {
  return chunks.flatMap((c) => conv.push(c.dir, c.bytes));
}
