/**
 * decodeMemoized: equal bytes of a context-free message share one decoding; everything
 * else is decoded afresh, and what outputs make of a shared decoding equals what they make
 * of a fresh one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../src/protocol/conversation.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { isShared } from '../../src/protocol/decode-memo.js';
import type { CodecEvent, DecodedMessage } from '../../src/protocol/types.js';
import { Transcript } from '../../src/output/transcript.js';
import { ByteLines } from '../../src/output/byte-lines.js';
import { JsonlSink } from '../../src/output/jsonl/jsonl-sink.js';
import { cstr, int16, int32, msg } from '../helpers/wire.js';

const messages = (evs: CodecEvent[]): DecodedMessage[] => evs.flatMap((e) => (e.kind === 'message' ? [e.message] : []));

/** One server answer to an extended-query execution: BindComplete, DataRow, CommandComplete, ReadyForQuery. */
const answer = (value: string): Buffer => Buffer.concat([msg('2'), msg('D', int16(1), int32(value.length), value), msg('C', cstr('SELECT 1')), msg('Z', 'I')]);

describe('decodeMemoized', () => {
  it('gives equal context-free messages one frozen decoding, each with its own frame', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const [b1, d1, c1, z1] = messages(conv.push('backend', answer('7')));
    const [b2, d2, c2, z2] = messages(conv.push('backend', answer('8')));
    for (const [a, b] of [
      [b1, b2],
      [c1, c2],
      [z1, z2],
    ] as const) {
      assert.equal(a!.spans, b!.spans, `${a!.name}: the same spans`);
      assert.ok(isShared(b!));
      assert.notEqual(a!.frame.offset, b!.frame.offset);
      assert.ok(Object.isFrozen(b!.spans) && Object.isFrozen(b!.spans[0]));
      // The remembered decoding is exactly the fresh one.
      assert.deepStrictEqual(b, decodeFrame(b!.frame, conv.ctx));
    }
    assert.throws(() => {
      (z2!.spans[2] as { meaning?: string }).meaning = 'changed';
    }, TypeError);
    // DataRow is typed later by the statement tracker: never shared.
    assert.notEqual(d1!.spans, d2!.spans);
    assert.ok(!isShared(d1!) && !isShared(d2!));
  });

  it('never remembers a malformed message: its error names its own offset', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const bad = msg('Z', 'X'); // no such transaction status
    const [m1, m2] = messages(conv.push('backend', Buffer.concat([bad, bad])));
    assert.ok(m1!.error && m2!.error);
    assert.equal(m1!.error.offset, 5);
    assert.equal(m2!.error.offset, 6 + 5);
    assert.ok(!isShared(m1!) && !isShared(m2!));
  });

  it('does not share Bind, Query or Parse (typed or redacted in place later)', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const bind = msg('B', cstr(''), cstr('s'), int16(0), int16(1), int32(1), '1', int16(0));
    const q = msg('Q', cstr('select 1'));
    const p = msg('P', cstr('s'), cstr('select $1'), int16(0));
    const all = messages(conv.push('frontend', Buffer.concat([bind, bind, q, q, p, p])));
    for (let i = 0; i < all.length; i += 2) {
      assert.notEqual(all[i]!.spans, all[i + 1]!.spans, all[i]!.name);
      assert.ok(!isShared(all[i + 1]!));
    }
  });

  it('the annotated log and JSON lines write a shared message as they write a fresh one', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const ms = messages(conv.push('backend', Buffer.concat([answer('1'), answer('2')])));
    const second = ms.slice(4);
    assert.ok(isShared(second[0]!));
    // Fresh decodings of the same frames: no sharing, so no kept output.
    const fresh = second.map((m) => decodeFrame(m.frame, conv.ctx));
    assert.ok(!isShared(fresh[0]!));

    const annotated = (list: DecodedMessage[]): string[] => {
      const t = new Transcript();
      const out: string[] = [];
      for (const m of list) t.write({ kind: 'message', message: m }, undefined, '#1  ', (l) => out.push(l));
      return out;
    };
    // The first pass renders and keeps; the second is served from what was kept.
    const t = new Transcript();
    const twice: string[] = [];
    for (const m of [...second, ...second]) t.write({ kind: 'message', message: m }, undefined, '#1  ', (l) => twice.push(l));
    const once = annotated(fresh);
    assert.deepStrictEqual(twice, [...once, ...once]);

    const jsonl = (list: DecodedMessage[], passes: number): string => {
      let text = '';
      const lines = new ByteLines((b) => (text += b.toString('utf8')), 50, 1 << 30);
      const sink = new JsonlSink(lines, { redact: false, maxRawBytes: 1024 });
      for (let p = 0; p < passes; p++) for (const m of list) sink.write({ kind: 'codec', conn: 1, time: 0, label: 'server -> client', event: { kind: 'message', message: m } });
      lines.flush();
      return text;
    };
    const f = jsonl(fresh, 1);
    assert.equal(jsonl(second, 2), f + f);
    assert.match(f, /"offset":\d+,"msg":"BindComplete"/);
  });
});
