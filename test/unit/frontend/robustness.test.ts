import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { newDecodeContext } from '../../../src/protocol/context.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import { frontendDecoders, startupDecoders } from '../../../src/protocol/frontend/index.js';
import { decoderFor, startupDecoderFor } from '../../../src/protocol/registry.js';
import type { DecodedMessage, Frame, Span } from '../../../src/protocol/types.js';
import { frameOf } from '../../helpers/decode.js';
import { cstr, int16, int32, msg, startupMessage, startupPacket, uint32 } from '../../helpers/wire.js';
import { helloRecord } from './tls-hello-builder.js';

const AUTH_CODES = [null, 0, 3, 5, 7, 8, 9, 10, 11, 12, 99];

/** Every span lies inside the frame, recursively. */
function assertWithin(spans: Span[], size: number): void {
  for (const s of spans) {
    assert.ok(s.start >= 0 && s.start <= s.end && s.end <= size, `span ${s.name} [${s.start}, ${s.end}) within ${size} bytes`);
    if (s.children) assertWithin(s.children, size);
  }
}

function check(frame: Frame, authRequest: number | null): DecodedMessage {
  const m = decodeFrame(frame, { ...newDecodeContext(), authRequest });
  if (m.error) assert.notEqual(m.error.code, 'internal', m.error.message);
  assertWithin(m.spans, frame.size);
  return m;
}

/** A normal-phase frame with an arbitrary body (the framer would accept any body). */
function messageFrame(type: string, body: Buffer): Frame {
  const bytes = msg(type, body);
  return { direction: 'frontend', kind: 'message', offset: 0, type, length: bytes.length - 1, size: bytes.length, bytes, complete: true };
}

const SAMPLES: [string, Buffer][] = [
  ['Bind', msg('B', cstr('p'), cstr('s'), int16(1), int16(1), int16(2), int32(5), 'hello', int32(-1), int16(1), int16(0))],
  ['Close', msg('C', 'S', cstr('s1'))],
  ['Describe', msg('D', 'P', cstr('c1'))],
  ['Execute', msg('E', cstr('c1'), int32(10))],
  ['CopyFail', msg('f', cstr('oops'))],
  ['FunctionCall', msg('F', uint32(1598), int16(1), int16(1), int16(2), int32(-1), int32(4), [0, 0, 0, 1], int16(0))],
  ['Parse', msg('P', cstr('s1'), cstr('SELECT $1'), int16(1), int32(23))],
  ['Query', msg('Q', cstr('SELECT 1'))],
  ['SASLInitialResponse', msg('p', cstr('SCRAM-SHA-256'), int32(28), 'n,,n=,r=rOprNGfwEbeRWgbNEkqO')],
  ['SASLResponse', msg('p', 'c=biws,r=abc,p=xyz')],
];

describe('frontend registry', () => {
  it('has a decoder for every client type byte', () => {
    const expected: Record<string, string> = {
      B: 'Bind',
      C: 'Close',
      c: 'CopyDone',
      d: 'CopyData',
      D: 'Describe',
      E: 'Execute',
      f: 'CopyFail',
      F: 'FunctionCall',
      H: 'Flush',
      p: 'PasswordMessage',
      P: 'Parse',
      Q: 'Query',
      S: 'Sync',
      X: 'Terminate',
    };
    assert.deepEqual(Object.keys(frontendDecoders).sort(), Object.keys(expected).sort());
    for (const [type, name] of Object.entries(expected)) assert.equal(decoderFor('frontend', type)?.name, name, type);
  });

  it('has a decoder for every startup packet code', () => {
    assert.equal(startupDecoderFor(80877103).name, 'SSLRequest');
    assert.equal(startupDecoderFor(80877104).name, 'GSSENCRequest');
    assert.equal(startupDecoderFor(80877102).name, 'CancelRequest');
    assert.equal(startupDecoderFor(196608).name, 'StartupMessage');
    assert.equal(startupDecoderFor(196610).name, 'StartupMessage');
    assert.deepEqual(Object.keys(startupDecoders).sort(), ['80877102', '80877103', '80877104', 'startup']);
  });
});

describe('frontend decoders never throw', () => {
  it('on every truncation of a valid message, which is then an error', () => {
    for (const [name, bytes] of SAMPLES) {
      const type = String.fromCharCode(bytes[0]!);
      const body = bytes.subarray(5);
      const auth = name === 'SASLInitialResponse' ? 10 : name === 'SASLResponse' ? 11 : null;
      for (let n = 0; n < body.length; n++) {
        const m = check(messageFrame(type, body.subarray(0, n)), auth);
        // A SASLResponse is "Byten" to the end: any prefix is a (shorter) message.
        if (name !== 'SASLResponse') assert.ok(m.error, `${name} cut to ${n} bytes`);
      }
    }
  });

  it('on every truncation of a startup packet', () => {
    const packets = [startupMessage({ user: 'alice', database: 'db' }, 2), startupPacket(int32(80877102), int32(7), Buffer.alloc(32, 1))];
    for (const p of packets) {
      for (let n = 8; n < p.length; n++) {
        const b = Buffer.from(p.subarray(0, n));
        b.writeInt32BE(n, 0);
        check(frameOf('frontend', b, 'startup'), null);
      }
    }
  });

  it('on arbitrary bodies for every type byte and authentication context', () => {
    const types = Object.keys(frontendDecoders);
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 80 }), fc.constantFrom(...AUTH_CODES), (type, body, auth) => {
        check(messageFrame(type, Buffer.from(body)), auth);
      }),
      { numRuns: 3000, seed: 20240518 },
    );
  });

  it('on valid messages with one byte changed', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SAMPLES), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom(...AUTH_CODES), ([, bytes], at, v, auth) => {
        const body = Buffer.from(bytes.subarray(5));
        if (body.length > 0) body[at % body.length] = v;
        check(messageFrame(String.fromCharCode(bytes[0]!), body), auth);
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it('on ClientHello records with one byte changed', () => {
    const rec = helloRecord();
    fc.assert(
      fc.property(fc.integer({ min: 5, max: rec.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
        const b = Buffer.from(rec);
        b[at] = v;
        check(frameOf('frontend', b, 'startup'), null);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});
