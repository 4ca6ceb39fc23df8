/**
 * Property-based fuzzing of the framer and the decoders: random and mutated input never
 * throws out of the codec, never loops, accounts for every byte, and never hits an
 * 'internal' error (an internal error means a decoder failed in a way it did not foresee).
 *
 * PGSCOPE_FUZZ_RUNS scales the number of cases (default: 3,000 per property, 5 properties,
 * so at least 15,000 cases in CI).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { newDecodeContext, type DecodeContext, type ReplicationState } from '../../src/protocol/context.js';
import { Conversation } from '../../src/protocol/conversation.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { Framer, type FramerMode } from '../../src/protocol/framer.js';
import type { DecodedMessage, Direction, Span } from '../../src/protocol/types.js';
import { annotatedText } from '../../src/output/annotated.js';
import { rawMessage } from '../../src/output/raw.js';
import { CORPUS } from '../helpers/corpus.js';
import { int32 } from '../helpers/wire.js';

const RUNS = Number(process.env.PGSCOPE_FUZZ_RUNS ?? 3000);
const SEED = process.env.PGSCOPE_FUZZ_SEED ? Number(process.env.PGSCOPE_FUZZ_SEED) : undefined;
const params = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) };

const FRONTEND_TYPES = 'BCcdDEfFHpPQSX'.split('');
const BACKEND_TYPES = 'RK23CdcGHWDIEVvnNAtS1sZT'.split('');

const replicationStates: (ReplicationState | null)[] = [
  null,
  { kind: 'physical', pgoutput: null, inStream: false },
  { kind: 'logical', pgoutput: null, inStream: false },
  ...[1, 2, 3, 4].flatMap((v) =>
    [false, true].map((inStream): ReplicationState => ({
      kind: 'logical',
      pgoutput: { protoVersion: v, streaming: v === 4 ? 'parallel' : 'on', twoPhase: true, messages: true, binary: false },
      inStream,
    })),
  ),
];

const arbCtx: fc.Arbitrary<DecodeContext> = fc.record({
  authRequest: fc.constantFrom(null, 0, 2, 3, 5, 7, 8, 9, 10, 11, 12, 99),
  replication: fc.constantFrom(...replicationStates),
  awaitingAnswer: fc.constantFrom(null, 'ssl' as const, 'gss' as const),
}).map((p) => ({ ...newDecodeContext(), ...p, copy: p.replication ? ('both' as const) : ('none' as const) }));

/** Every span lies within its frame and nests within its parent. */
function checkSpans(msg: DecodedMessage, spans: Span[], lo: number, hi: number): void {
  for (const s of spans) {
    assert.ok(s.start >= lo && s.end <= hi && s.start <= s.end, `${msg.name}: span ${s.name} [${s.start}, ${s.end}) outside [${lo}, ${hi})`);
    if (s.children) checkSpans(msg, s.children, s.start, s.end);
  }
}

function checkMessage(msg: DecodedMessage): void {
  assert.notEqual(msg.error?.code, 'internal', `decoder bug: ${msg.error?.message}`);
  checkSpans(msg, msg.spans, 0, msg.frame.size);
  // Rendering never throws either.
  annotatedText(msg, { maxValueBytes: 16 });
  rawMessage(msg, { maxBytes: 16 });
}

/** A normal-phase message with a correct length word and a random body. */
const arbMessage = (types: string[]) =>
  fc.tuple(fc.constantFrom(...types), fc.uint8Array({ maxLength: 200 })).map(([t, body]) => Buffer.concat([Buffer.from(t, 'latin1'), int32(body.length + 4), Buffer.from(body)]));

/** Flip, insert or delete bytes of a corpus message, keeping the length word consistent or not. */
const arbMutated = fc
  .tuple(
    fc.constantFrom(...CORPUS),
    fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('flip', 'set', 'insert', 'delete')), { minLength: 1, maxLength: 6 }),
    fc.boolean(),
  )
  .map(([entry, edits, fixLength]) => {
    const b = [...entry.bytes];
    for (const [pos, val, op] of edits) {
      const i = b.length ? pos % b.length : 0;
      if (op === 'flip') b[i] = (b[i] ?? 0) ^ (1 << (val % 8));
      else if (op === 'set') b[i] = val;
      else if (op === 'insert') b.splice(i, 0, val);
      else if (b.length > 1) b.splice(i, 1);
    }
    const buf = Buffer.from(b);
    if (fixLength) {
      if ((entry.mode ?? 'normal') === 'normal' && buf.length >= 5) buf.writeInt32BE(buf.length - 1, 1);
      if (entry.mode === 'startup' && buf.length >= 4 && buf[0] !== 0x16) buf.writeInt32BE(buf.length, 0);
    }
    return { entry, buf };
  });

describe('fuzz: codec', () => {
  it('decoders never throw or fail internally on random bodies of every type byte, in every context', () => {
    const arbCase = fc.oneof(
      fc.record({ dir: fc.constant<Direction>('frontend'), bytes: arbMessage(FRONTEND_TYPES) }),
      fc.record({ dir: fc.constant<Direction>('backend'), bytes: arbMessage(BACKEND_TYPES) }),
    );
    fc.assert(
      fc.property(arbCase, arbCtx, fc.integer({ min: 16, max: 300 }), ({ dir, bytes }, ctx, retain) => {
        const framer = new Framer({ direction: dir, mode: 'normal', retain });
        for (const ev of framer.push(bytes)) if (ev.kind === 'frame') checkMessage(decodeFrame(ev.frame, structuredClone(ctx)));
      }),
      params,
    );
  });

  it('mutated corpus messages never throw or fail internally', () => {
    fc.assert(
      fc.property(arbMutated, arbCtx, ({ entry, buf }, rndCtx) => {
        const ctx = { ...rndCtx, ...entry.ctx };
        const framer = new Framer({ direction: entry.dir, mode: entry.mode ?? 'normal' });
        for (const ev of framer.push(buf)) if (ev.kind === 'frame') checkMessage(decodeFrame(ev.frame, structuredClone(ctx)));
      }),
      params,
    );
  });

  it('the framer accounts for every byte of random input in any mode and any chunking, and terminates', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Direction>('frontend', 'backend'),
        fc.constantFrom<FramerMode>('startup', 'normal', 'answer', 'opaque'),
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 16, max: 1000 }),
        (dir, mode, data, sizes, retain) => {
          const framer = new Framer({ direction: dir, mode, retain, maxMessageLength: 400 });
          let consumed = 0;
          let i = 0;
          let k = 0;
          while (i < data.length) {
            const n = sizes[k++ % sizes.length]!;
            for (const ev of framer.push(Buffer.from(data.subarray(i, i + n)))) {
              if (ev.kind === 'frame') {
                assert.equal(ev.frame.offset, consumed, 'frames are contiguous');
                assert.ok(ev.frame.bytes.length <= Math.max(16, retain));
                consumed += ev.frame.size;
              } else if (ev.kind === 'unparsed') {
                assert.equal(ev.offset, consumed, 'unparsed runs are contiguous');
                consumed += ev.length;
              }
            }
            i += n;
          }
          assert.equal(framer.offset, data.length, 'every byte is counted');
          // Whatever was not reported is a frame still arriving.
          assert.ok(consumed === data.length || !framer.idle);
        },
      ),
      params,
    );
  });

  it('a conversation fed random interleaved bytes never throws', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<Direction>('frontend', 'backend'), fc.oneof(fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)), fc.constantFrom(...CORPUS.map((c) => c.bytes)))), { maxLength: 30 }),
        (pushes) => {
          const conv = new Conversation({ retain: 64 });
          for (const [dir, bytes] of pushes) {
            for (const ev of conv.push(dir, bytes)) if (ev.kind === 'message') checkMessage(ev.message);
          }
        },
      ),
      params,
    );
  });

  it('corpus messages concatenated and chunked at random decode the same as whole', () => {
    const byDir = (d: Direction) => CORPUS.filter((c) => c.dir === d && (c.mode ?? 'normal') === 'normal' && !c.ctx);
    fc.assert(
      fc.property(
        fc.constantFrom<Direction>('frontend', 'backend'),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        (dir, picks, sizes) => {
          const entries = byDir(dir);
          const stream = Buffer.concat(picks.map((p) => entries[p % entries.length]!.bytes));
          const whole = new Conversation({ frontendMode: 'normal' }).push(dir, stream);
          const conv = new Conversation({ frontendMode: 'normal' });
          const chunked = [];
          for (let i = 0, k = 0; i < stream.length; k++) {
            const n = sizes[k % sizes.length]!;
            chunked.push(...conv.push(dir, stream.subarray(i, i + n)));
            i += n;
          }
          assert.deepStrictEqual(chunked, whole);
        },
      ),
      params,
    );
  });
});
