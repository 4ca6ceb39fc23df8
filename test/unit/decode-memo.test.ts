/**
 * decodeMemoized: equal bytes of a context-free message share one decoding; everything
 * else is decoded afresh, and what outputs make of a shared decoding equals what they make
 * of a fresh one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../src/protocol/conversation.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { CONTEXT_FREE, isShared } from '../../src/protocol/decode-memo.js';
import { decoderFor } from '../../src/protocol/registry.js';
import type { CodecEvent, DecodedMessage } from '../../src/protocol/types.js';
import { Transcript } from '../../src/output/transcript.js';
import { ByteLines } from '../../src/output/byte-lines.js';
import { JsonlSink } from '../../src/output/jsonl/jsonl-sink.js';
import { cstr, int16, int32, msg } from '../helpers/wire.js';

const messages = (evs: CodecEvent[]): DecodedMessage[] => evs.flatMap((e) => (e.kind === 'message' ? [e.message] : []));

/** One server answer to an extended-query execution: BindComplete, DataRow, CommandComplete, ReadyForQuery. */
const answer = (value: string): Buffer => Buffer.concat([msg('2'), msg('D', int16(1), int32(value.length), value), msg('C', cstr('SELECT 1')), msg('Z', 'I')]);

describe('decodeMemoized', () => {
  it('from the second sighting on, gives equal context-free messages one frozen decoding, each with its own frame', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const [b1, d1, c1, z1] = messages(conv.push('backend', answer('7')));
    const [b2, d2, c2, z2] = messages(conv.push('backend', answer('8')));
    const [b3, d3, c3, z3] = messages(conv.push('backend', answer('9')));
    for (const [first, second, third] of [
      [b1, b2, b3],
      [c1, c2, c3],
      [z1, z2, z3],
    ] as const) {
      const name = first!.name;
      assert.ok(!isShared(first!), `${name}: a first sighting is not remembered`);
      assert.ok(isShared(second!) && isShared(third!), `${name}: remembered from the second`);
      assert.equal(second!.spans, third!.spans, `${name}: the same spans`);
      assert.notEqual(second!.frame.offset, third!.frame.offset);
      assert.ok(Object.isFrozen(third!.spans) && Object.isFrozen(third!.spans[0]));
      // The remembered decoding is exactly the fresh one.
      assert.deepStrictEqual(third, decodeFrame(third!.frame, conv.ctx));
      assert.deepStrictEqual(first, decodeFrame(first!.frame, conv.ctx));
    }
    assert.throws(() => {
      (z3!.spans[2] as { meaning?: string }).meaning = 'changed';
    }, TypeError);
    // DataRow is typed later by the statement tracker: never shared.
    for (const d of [d1, d2, d3]) assert.ok(!isShared(d!));
    assert.notEqual(d2!.spans, d3!.spans);
  });

  it('keeps the directions apart: the same bytes are Close from the client and CommandComplete from the server', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const bytes = msg('C', cstr('SELECT 1'));
    const twice = Buffer.concat([bytes, bytes, bytes]);
    const front = messages(conv.push('frontend', twice));
    const back = messages(conv.push('backend', twice));
    assert.deepEqual(
      front.map((m) => m.name),
      ['Close', 'Close', 'Close'],
    );
    assert.deepEqual(
      back.map((m) => m.name),
      ['CommandComplete', 'CommandComplete', 'CommandComplete'],
    );
    assert.ok(isShared(front[2]!) && isShared(back[2]!));
    assert.notEqual(front[2]!.spans, back[2]!.spans);
    // Client messages too: Execute and Sync.
    const exec = Buffer.concat([msg('E', cstr(''), int32(0)), msg('S')]);
    const [, , e3, s3] = messages(conv.push('frontend', Buffer.concat([exec, exec])));
    const [e4, s4] = messages(conv.push('frontend', exec));
    assert.equal(e3!.spans, e4!.spans);
    assert.equal(s3!.spans, s4!.spans);
  });

  it('never remembers a malformed message: its error names its own offset', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const bad = msg('Z', 'X'); // no such transaction status
    const all = messages(conv.push('backend', Buffer.concat([bad, bad, bad])));
    assert.deepEqual(
      all.map((m) => m.error?.offset),
      [5, 6 + 5, 12 + 5],
    );
    assert.ok(all.every((m) => !isShared(m)));
  });

  it('does not share Bind, Query or Parse (typed or redacted in place later), frames cut short, or frames over 256 bytes', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const bind = msg('B', cstr(''), cstr('s'), int16(0), int16(1), int32(1), '1', int16(0));
    const q = msg('Q', cstr('select 1'));
    const p = msg('P', cstr('s'), cstr('select $1'), int16(0));
    const all = messages(conv.push('frontend', Buffer.concat([bind, bind, bind, q, q, q, p, p, p])));
    for (const m of all) assert.ok(!isShared(m), m.name);
    // A RowDescription of 300 bytes: too long to remember.
    const long = msg('T', int16(1), cstr('x'.repeat(280)), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0));
    assert.ok(long.length > 256);
    for (const m of messages(conv.push('backend', Buffer.concat([long, long, long])))) assert.ok(!isShared(m));
    // Frames the framer kept only a prefix of (retain) are never complete: never shared.
    const cut = new Conversation({ frontendMode: 'normal', retain: 8 });
    const rd = msg('T', int16(1), cstr('abalance'), int32(0), int16(0), int32(23), int16(4), int32(-1), int16(0));
    for (const m of messages(cut.push('backend', Buffer.concat([rd, rd, rd])))) {
      assert.equal(m.frame.complete, false);
      assert.ok(!isShared(m));
    }
  });

  it('every CONTEXT_FREE decoder reads its bytes only: its codec says it reads no context, and it takes none', () => {
    for (const direction of ['frontend', 'backend'] as const) {
      for (const type of CONTEXT_FREE[direction]) {
        const dec = decoderFor(direction, type);
        assert.ok(dec, `${direction} ${type} has a decoder`);
        assert.equal(dec.readsContext, false, `${direction} ${JSON.stringify(type)} (${dec.name}) reads the context: it cannot be in CONTEXT_FREE`);
        assert.ok(dec.decode.length < 2, `${direction} ${JSON.stringify(type)} (${dec.name}) takes the context: its codec must say readsContext`);
      }
    }
    // Derived from readsContext less the exceptions (NOT_SHARED), it is the list it always was.
    assert.deepEqual([...CONTEXT_FREE.frontend].sort(), ['C', 'D', 'E', 'H', 'S', 'c']);
    assert.deepEqual([...CONTEXT_FREE.backend].sort(), ['1', '2', '3', 'C', 'I', 'S', 'T', 'Z', 'c', 'n', 's', 't']);
  });

  it('the annotated log and JSON lines write a shared message as they write a fresh one, whatever its prefix, label and offset', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const ms = messages(conv.push('backend', Buffer.concat([answer('1'), answer('2'), answer('3'), answer('4')])));
    assert.ok(ms.filter(isShared).length >= 6, 'the later answers share decodings');
    // Fresh decodings of the same frames: no sharing, so nothing kept.
    const fresh = ms.map((m) => decodeFrame(m.frame, conv.ctx));
    assert.ok(fresh.every((m) => !isShared(m)));
    const prefixes = ['#1  ', '#22  '];
    const labels = [undefined, 'server -> script:'];

    const annotated = (list: DecodedMessage[], t?: Transcript): string[] => {
      const out: string[] = [];
      list.forEach((m, i) => (t ?? new Transcript()).write({ kind: 'message', message: m }, labels[i % 2], prefixes[(i >> 1) % 2]!, (l) => out.push(l)));
      return out;
    };
    assert.deepStrictEqual(annotated(ms, new Transcript()), annotated(fresh));

    const jsonl = (list: DecodedMessage[]): string => {
      let text = '';
      const lines = new ByteLines((b) => (text += b.toString('utf8')), 50, 1 << 30);
      const sink = new JsonlSink(lines, { redact: false, maxRawBytes: 1024 });
      list.forEach((m, i) => sink.write({ kind: 'codec', conn: 1 + (i % 3), time: i, label: i % 2 ? 'server -> script' : 'server -> client', event: { kind: 'message', message: m } }));
      lines.flush();
      return text;
    };
    const f = jsonl(fresh);
    assert.equal(jsonl(ms), f);
    assert.equal(new Set(f.match(/"offset":\d+,"msg":"ReadyForQuery"/g)).size, 4, 'each line has its own offset');
  });
});
