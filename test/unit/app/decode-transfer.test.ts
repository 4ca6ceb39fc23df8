/**
 * What crosses to the decode thread (src/app/decode-transfer.ts), through a real structured
 * clone with the buffer transferred, comes out as it went in: chunks (numbers and bytes),
 * a chunk a hook marked (with the replacement's bytes), hand-overs, and events holding
 * Buffers (views of larger buffers too) and a ProtocolError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packBatch, unpackBatch } from '../../../src/app/decode-transfer.js';
import { ProtocolError } from '../../../src/protocol/errors.js';
import type { DecodeEntry } from '../../../src/session/decode-elsewhere.js';

const cross = (entries: DecodeEntry[]): DecodeEntry[] => {
  const batch = packBatch(entries);
  return unpackBatch(structuredClone(batch, { transfer: batch.data ? [batch.data] : [] }));
};

describe('decode transfer', () => {
  it('entries cross in order and whole', () => {
    const big = Buffer.alloc(4096, 7);
    const view = big.subarray(100, 110);
    const entries: DecodeEntry[] = [
      { kind: 'event', event: { kind: 'status', conn: null, time: 1.5, level: 'info', text: 'listening' } },
      { kind: 'hand-over', conn: 3, started: 10, state: { offsets: { frontend: 70, backend: 500 }, protocol: { major: 3, minor: 2 }, startupParams: { user: 'u' }, authRequest: 0 } },
      { kind: 'chunk', conn: 3, time: 11.25, label: 'client -> server', direction: 'frontend', bytes: Buffer.from('Q\0\0\0\rselect 1\0'), forwarded: 14 },
      { kind: 'chunk', conn: 3, time: 12, label: 'server -> client', direction: 'backend', bytes: Buffer.from('C\0\0\0\rSELECT 1\0'), forwarded: 14, marks: [{ offset: 500, label: 'server -> script', replacedBy: Buffer.from('C\0\0\0\x0eSELECT 42\0') }] },
      { kind: 'chunk', conn: 4, time: 13, label: 'script -> client', direction: 'backend', bytes: view, forwarded: 0 },
      {
        kind: 'event',
        event: { kind: 'codec', conn: 5, time: 14, label: 'client -> server', event: { kind: 'error', error: new ProtocolError('length-too-short', 'Query', 'frontend', 42, 'a length of at least 4') } },
      },
      { kind: 'event', event: { kind: 'wire', conn: 5, time: 15, label: 'client -> server', direction: 'frontend', offset: 0, bytes: view } },
    ];
    const out = cross(entries);
    assert.equal(out.length, entries.length);
    assert.deepEqual(out[0], entries[0]);
    assert.deepEqual(out[1], entries[1]);
    for (const i of [2, 3, 4]) {
      const a = entries[i] as Extract<DecodeEntry, { kind: 'chunk' }>;
      const b = out[i] as Extract<DecodeEntry, { kind: 'chunk' }>;
      assert.ok(Buffer.isBuffer(b.bytes), 'bytes are a Buffer');
      assert.ok(b.bytes.equals(a.bytes));
      assert.deepEqual({ ...b, bytes: null, marks: b.marks?.map((m) => ({ ...m, replacedBy: m.replacedBy?.toString('latin1') })) }, { ...a, bytes: null, marks: a.marks?.map((m) => ({ ...m, replacedBy: m.replacedBy?.toString('latin1') })) });
    }
    assert.ok(Buffer.isBuffer((out[3] as Extract<DecodeEntry, { kind: 'chunk' }>).marks![0]!.replacedBy));
    const err = ((out[5] as Extract<DecodeEntry, { kind: 'event' }>).event as { event: { error: unknown } }).event.error;
    assert.ok(err instanceof ProtocolError, 'a ProtocolError again');
    assert.equal((err as ProtocolError).offset, 42);
    assert.equal((err as ProtocolError).message, 'Query (client → server) at offset 42: a length of at least 4');
    const wire = (out[6] as Extract<DecodeEntry, { kind: 'event' }>).event as { bytes: Buffer };
    assert.ok(Buffer.isBuffer(wire.bytes) && wire.bytes.equals(view));
    // A small view of a large buffer crossed as its own bytes, not the whole buffer behind it.
    assert.equal(wire.bytes.buffer.byteLength, 10);
  });

  it('a batch of events alone has no buffer to transfer', () => {
    const batch = packBatch([{ kind: 'event', event: { kind: 'status', conn: 1, time: 1, level: 'warn', text: 'x' } }]);
    assert.equal(batch.data, null);
    assert.equal(cross([{ kind: 'event', event: { kind: 'status', conn: 1, time: 1, level: 'warn', text: 'x' } }]).length, 1);
  });
});
