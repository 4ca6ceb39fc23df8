import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Framer, type FramerEvent } from '../../src/protocol/framer.js';
import type { Frame } from '../../src/protocol/types.js';
import { cstr, int32, msg, startupMessage, startupPacket } from '../helpers/wire.js';

const frames = (evs: FramerEvent[]): Frame[] => evs.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));

describe('Framer', () => {
  it('frames a startup packet then normal messages, with absolute offsets', () => {
    const f = new Framer({ direction: 'frontend' });
    const start = startupMessage({ user: 'u' });
    const q = msg('Q', cstr('SELECT 1'));
    const out = frames(f.push(Buffer.concat([start, q, msg('X')])));
    assert.deepEqual(
      out.map((x) => [x.kind, x.type, x.offset, x.size]),
      [
        ['startup', null, 0, start.length],
        ['message', 'Q', start.length, q.length],
        ['message', 'X', start.length + q.length, 5],
      ],
    );
    assert.ok(out.every((x) => x.complete));
    assert.equal(f.offset, start.length + q.length + 5);
  });

  it('stays in the startup phase after SSLRequest and frames the S answer', () => {
    const fe = new Framer({ direction: 'frontend' });
    const ssl = startupPacket(int32(80877103));
    assert.equal(frames(fe.push(ssl))[0]!.kind, 'startup');
    assert.equal(fe.mode, 'startup');
    const be = new Framer({ direction: 'backend' });
    be.expectAnswer();
    const ans = frames(be.push(Buffer.from('S')));
    assert.deepEqual([ans[0]!.kind, ans[0]!.type, ans[0]!.size], ['answer', 'S', 1]);
    assert.equal(be.mode, 'opaque');
  });

  it('treats an answer other than S/N/G as a normal message', () => {
    const be = new Framer({ direction: 'backend' });
    be.expectAnswer();
    const e = msg('E', 'SFATAL\0\0');
    const out = frames(be.push(e));
    assert.deepEqual([out[0]!.kind, out[0]!.type, out[0]!.size], ['message', 'E', e.length]);
  });

  it('recognises a direct TLS ClientHello record and goes opaque after it', () => {
    const fe = new Framer({ direction: 'frontend' });
    const record = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x03]), Buffer.from([1, 2, 3])]);
    const evs = fe.push(Buffer.concat([record, Buffer.from([0x17, 0x03, 0x03])]));
    assert.equal(evs[0]!.kind, 'frame');
    assert.equal((evs[0] as { frame: Frame }).frame.kind, 'tls-record');
    assert.equal(evs[1]!.kind, 'unparsed');
    assert.equal(fe.offset, record.length + 3);
  });

  it('keeps only a bounded prefix of a huge message and announces it early', () => {
    const f = new Framer({ direction: 'backend', retain: 1024 });
    const body = Buffer.alloc(100_000, 0x61);
    const m = msg('d', body);
    const evs: FramerEvent[] = [];
    for (let i = 0; i < m.length; i += 4096) evs.push(...f.push(m.subarray(i, i + 4096)));
    assert.equal(evs[0]!.kind, 'message-start');
    const fr = frames(evs);
    assert.equal(fr.length, 1);
    assert.equal(fr[0]!.size, m.length);
    assert.equal(fr[0]!.bytes.length, 1024);
    assert.equal(fr[0]!.complete, false);
    assert.deepEqual(fr[0]!.bytes, m.subarray(0, 1024));
  });

  it('reports a length below 4 as a typed error naming the offset, then stops framing', () => {
    const f = new Framer({ direction: 'backend' });
    const good = msg('Z', 'I');
    const evs = f.push(Buffer.concat([good, Buffer.from([0x44, 0, 0, 0, 2]), Buffer.from('more')]));
    const err = evs.find((e) => e.kind === 'error');
    assert.ok(err && err.kind === 'error');
    assert.equal(err.error.code, 'length-too-short');
    assert.equal(err.error.offset, good.length);
    assert.equal(err.error.direction, 'backend');
    const unparsed = evs.filter((e) => e.kind === 'unparsed').reduce((n, e) => n + (e.kind === 'unparsed' ? e.length : 0), 0);
    assert.equal(unparsed, 5 + 4);
    assert.equal(f.mode, 'broken');
  });

  it('reports a length beyond the maximum', () => {
    const f = new Framer({ direction: 'frontend', mode: 'normal', maxMessageLength: 1000 });
    const evs = f.push(Buffer.from([0x51, 0, 0, 0x10, 0]));
    const err = evs.find((e) => e.kind === 'error');
    assert.ok(err && err.kind === 'error' && err.error.code === 'length-too-long');
  });

  it('rejects an oversized or undersized startup packet', () => {
    for (const len of [7, 20_000]) {
      const f = new Framer({ direction: 'frontend' });
      const evs = f.push(int32(len));
      const err = evs.find((e) => e.kind === 'error');
      assert.ok(err && err.kind === 'error', `length ${len}`);
      assert.equal(err.error.messageName, 'startup packet');
    }
  });
});

describe('Framer with `only` (a proxy whose outputs show nothing)', () => {
  const stream = Buffer.concat([
    msg('R', int32(0)),
    msg('S', cstr('client_encoding'), cstr('UTF8')),
    msg('K', int32(42), int32(7)),
    msg('D', Buffer.from([0, 1]), int32(3), Buffer.from('abc')),
    msg('Z', 'I'),
    msg('E', 'SFATAL\0C57P01\0Mbye\0\0'),
  ]);
  const frames = (evs: FramerEvent[]): Frame[] => evs.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));

  it('reports only the wanted types, with the offsets and bytes the full framer gives them, at any chunking', () => {
    const full = frames(new Framer({ direction: 'backend' }).push(stream));
    const want = full.filter((f) => f.type === 'K' || f.type === 'E');
    for (const size of [1, 2, 3, 7, stream.length]) {
      const f = new Framer({ direction: 'backend', only: new Set(['K', 'E']) });
      const got: Frame[] = [];
      for (let i = 0; i < stream.length; i += size) got.push(...frames(f.push(stream.subarray(i, i + size))));
      assert.deepEqual(got, want, `chunks of ${size}`);
      assert.equal(f.offset, stream.length);
      assert.ok(f.idle);
    }
  });

  it('still knows a skipped message that a connection cut off', () => {
    const f = new Framer({ direction: 'backend', only: new Set(['K']) });
    const d = msg('D', Buffer.from([0, 1]), int32(3), Buffer.from('abc'));
    assert.deepEqual(f.push(d.subarray(0, 8)), []);
    assert.deepEqual(f.partial, { offset: 0, type: 'D', size: d.length, seen: 8 });
  });
});
