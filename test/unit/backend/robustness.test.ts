import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotatedText } from '../../../src/output/annotated.js';
import { decodeOne } from '../../helpers/decode.js';
import { cstr, int8, int16, int32, msg } from '../../helpers/wire.js';

/** One well-formed sample of every server message (and Authentication sub-type). */
const SAMPLES: Buffer[] = [
  msg('R', int32(0)),
  msg('R', int32(5), [1, 2, 3, 4]),
  msg('R', int32(8), [1, 2]),
  msg('R', int32(10), cstr('SCRAM-SHA-256'), [0]),
  msg('R', int32(11), 'r=abc,s=c2FsdA==,i=4096'),
  msg('R', int32(12), 'v=c2ln'),
  msg('K', int32(1), Buffer.alloc(32, 9)),
  msg('2'),
  msg('C', cstr('INSERT 0 1')),
  msg('G', int8(1), int16(2), int16(1), int16(0)),
  msg('D', int16(3), int32(-1), int32(0), int32(2), 'ab'),
  msg('E', 'SERROR\0C42P01\0Mx\0Zy\0', [0]),
  msg('N', 'SNOTICE\0Mz\0', [0]),
  msg('V', int32(2), 'ok'),
  msg('v', int32(0x30000), int32(1), cstr('_pq_.x')),
  msg('A', int32(3), cstr('ch'), cstr('pl')),
  msg('t', int16(1), int32(25)),
  msg('S', cstr('a'), cstr('b')),
  msg('T', int16(1), cstr('f'), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)),
  msg('Z', 'I'),
];

/** The same message with its body cut to n bytes (the length word adjusted to match). */
function truncated(m: Buffer, n: number): Buffer {
  return msg(String.fromCharCode(m[0]!), m.subarray(5, 5 + n));
}

/** A small deterministic PRNG, so a failure can be reproduced. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function check(bytes: Buffer): void {
  let text = '';
  assert.doesNotThrow(() => {
    const m = decodeOne('backend', bytes);
    assert.notEqual(m.error?.code, 'internal', m.error?.message);
    text = annotatedText(m);
  }, `bytes ${bytes.toString('hex')}`);
  assert.ok(text.length > 0);
}

describe('server decoders never throw', () => {
  it('on every truncation of every sample', () => {
    for (const m of SAMPLES) {
      assert.equal(decodeOne('backend', m).error, undefined, `sample ${m.toString('hex')} is well formed`);
      for (let n = 0; n < m.length - 5; n++) check(truncated(m, n));
    }
  });

  it('on random byte changes of every sample', () => {
    const rand = prng(20250101);
    for (const m of SAMPLES) {
      for (let round = 0; round < 200; round++) {
        const body = Buffer.from(m.subarray(5));
        const flips = 1 + Math.floor(rand() * 3);
        for (let i = 0; i < flips && body.length > 0; i++) {
          const at = Math.floor(rand() * body.length);
          body[at] = [0x00, 0xff, 0x80, 0x7f, Math.floor(rand() * 256)][Math.floor(rand() * 5)]!;
        }
        check(msg(String.fromCharCode(m[0]!), body));
      }
    }
  });
});

describe('values that name Object.prototype properties', () => {
  it('are shown as unknown, not looked up on the prototype', () => {
    for (const bytes of [
      msg('E', 'Sconstructor\0V__proto__\0', [0]),
      msg('R', int32(10), cstr('constructor'), cstr('toString'), [0]),
      msg('C', cstr('constructor 5')),
      msg('C', cstr('HASOWNPROPERTY 1')),
    ]) {
      const m = decodeOne('backend', bytes);
      assert.equal(m.error, undefined);
      const meanings = (function walk(spans: typeof m.spans): unknown[] {
        return spans.flatMap((s) => [s.meaning, ...walk(s.children ?? [])]);
      })(m.spans);
      for (const x of meanings) assert.ok(x === undefined || typeof x === 'string', `meaning ${String(x)}`);
    }
  });
});
