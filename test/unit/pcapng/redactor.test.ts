import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PcapngSink } from '../../../src/output/pcapng/index.js';
import { MAX_HELD, Redactor } from '../../../src/output/pcapng/redactor.js';
import type { DecodedMessage, FrameKind, Span } from '../../../src/protocol/types.js';
import { closed, opened, serverConnected, wire } from './events.js';
import { followStreams, memoryWriter, readPackets } from './read-pcapng.js';

/** A PasswordMessage at `offset` with its span as the codec records it (the NUL included). */
function passwordMessage(offset: number, password: string, kind: FrameKind = 'message'): { msg: DecodedMessage; bytes: Buffer } {
  const body = Buffer.from(password + '\0');
  const bytes = Buffer.concat([Buffer.from('p'), Buffer.alloc(4), body]);
  bytes.writeUInt32BE(4 + body.length, 1);
  const span: Span = { name: 'password', start: 5, end: 5 + body.length, value: password, secret: true };
  return {
    msg: {
      frame: { direction: 'frontend', kind, offset, type: 'p', length: 4 + body.length, size: bytes.length, bytes, complete: true },
      name: 'PasswordMessage',
      sub: [],
      spans: [{ name: 'length', start: 1, end: 5, value: 4 + body.length }, span],
    },
    bytes,
  };
}

const joined = (bufs: Buffer[]): string => Buffer.concat(bufs).toString('latin1');

test('a secret split across chunks is held back, then released overwritten with x, its NUL kept', () => {
  const r = new Redactor();
  const before = Buffer.from('Q\0\0\0\x05'); // a message already reported
  r.cover(100 + before.length);
  const { msg, bytes } = passwordMessage(105, 'hunter2');
  const input = Buffer.concat([before, bytes]);
  const copy = Buffer.from(input);
  // The first chunk ends inside the password: its message has not been reported yet.
  assert.equal(joined(r.push(100, input.subarray(0, 9))), before.toString('latin1'), 'only the complete message goes out');
  r.message(msg);
  const out = joined(r.push(109, input.subarray(9)));
  assert.equal(out, 'p\0\0\0\x0cxxxxxxx\0');
  assert.deepEqual(input, copy, 'the caller\'s bytes are not changed');
});

test('a secret in a nested span, and a byte-string secret (no NUL kept)', () => {
  const r = new Redactor();
  const bytes = Buffer.from('K\0\0\0\x0c\0\0\0\x07ABCD');
  r.message({
    frame: { direction: 'backend', kind: 'message', offset: 0, type: 'K', length: 12, size: 13, bytes, complete: true },
    name: 'BackendKeyData',
    sub: [],
    spans: [{ name: 'outer', start: 5, end: 13, children: [{ name: 'secret key', start: 9, end: 13, value: Buffer.from('ABCD'), secret: true }] }],
  });
  assert.equal(joined(r.push(0, bytes)), 'K\0\0\0\x0c\0\0\0\x07xxxx');
});

test('more than MAX_HELD bytes of an unfinished message are released as they are; drain() releases the rest', () => {
  const r = new Redactor();
  assert.deepEqual(r.push(0, Buffer.alloc(1000, 1)), []);
  const out = r.push(1000, Buffer.alloc(MAX_HELD, 2));
  assert.equal(Buffer.concat(out).length, MAX_HELD + 1000);
  assert.deepEqual(r.push(MAX_HELD + 1000, Buffer.from('tail')), []);
  assert.equal(joined(r.drain()), 'tail');
  assert.deepEqual(r.drain(), []);
});

test('the sink redacts from the client\'s conversation only: pgscope\'s own exchange with the server and TLS records do not release held bytes', () => {
  const w = memoryWriter();
  const sink = new PcapngSink(w, { redact: true });
  const T = 1_700_000_000_000;
  sink.write(opened(1, T, { address: '127.0.0.1', port: 40000 }));
  sink.write(serverConnected(1, T, { address: '127.0.0.1', port: 5432 }));
  const { msg, bytes } = passwordMessage(0, 'sekrit');
  // Reports about other byte streams, covering the same offsets with no secret: they must not release anything.
  const noSecret = (kind: FrameKind): DecodedMessage => {
    const m = passwordMessage(0, 'not a secret at all', kind).msg;
    return { ...m, spans: [] };
  };
  sink.write({ kind: 'codec', conn: 1, time: T, label: 'script -> server', event: { kind: 'message', message: noSecret('message') } });
  sink.write({ kind: 'codec', conn: 1, time: T, label: 'client -> script', event: { kind: 'message', message: noSecret('tls-record') } });
  sink.write(wire(1, T + 1, 'frontend', 0, bytes.subarray(0, 8)));
  sink.write({ kind: 'codec', conn: 1, time: T + 2, label: 'client -> server', event: { kind: 'message', message: msg } });
  sink.write(wire(1, T + 2, 'frontend', 8, bytes.subarray(8)));
  // A huge message that is not a password is not held back.
  sink.write({ kind: 'codec', conn: 1, time: T + 3, label: 'server -> client', event: { kind: 'message-start', direction: 'backend', offset: 0, type: 'D', length: 2_000_003, size: 2_000_004 } });
  sink.write(wire(1, T + 3, 'backend', 0, Buffer.from([0x44, 0, 0x1e, 0x84, 0x83])));
  sink.flush();
  const [s] = followStreams(readPackets(w.bytes()));
  assert.equal(s!.fromClient.toString('latin1'), 'p\0\0\0\x0bxxxxxx\0', 'held until its message was reported, then redacted');
  assert.equal(s!.fromServer.length, 5, 'released without waiting for the message to end');
  sink.write(closed(1, T + 4));
  sink.close();
  assert.ok(!w.bytes().includes('sekrit'));
});
