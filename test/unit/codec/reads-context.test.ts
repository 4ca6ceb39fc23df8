/**
 * Each codec says whether its decoder reads the DecodeContext (readsContext): the decode
 * memo shares only the decodings of those that do not. The flag must be honest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newDecodeContext, type DecodeContext } from '../../../src/protocol/context.js';
import { decodeFrame } from '../../../src/protocol/decode.js';
import { CONTEXT_FREE, NOT_SHARED } from '../../../src/protocol/decode-memo.js';
import { decoderFor } from '../../../src/protocol/registry.js';
import { frameOf } from '../../helpers/decode.js';
import { ALL, encodeAndDecode, pgoutput, SAMPLES } from './support.js';

/** Contexts that change how context-reading messages decode. */
const CONTEXTS: Partial<DecodeContext>[] = [
  {},
  { authRequest: 5, protocol: { major: 3, minor: 0 } },
  { authRequest: 11, protocol: { major: 3, minor: 2 } },
  { replication: pgoutput(2, true), copy: 'both' },
];

describe('readsContext', () => {
  it('is true exactly for the decoders that take the context (or the replication state) as a parameter', () => {
    for (const codec of ALL) {
      const decode = (codec as unknown as { decode: (...a: unknown[]) => unknown }).decode;
      assert.equal(codec.readsContext, decode.length >= 2, `${codec.name}: readsContext ${codec.readsContext}, decode takes ${decode.length} parameter(s)`);
    }
  });

  it('a codec that reads no context decodes its bytes the same in any context', () => {
    for (const s of SAMPLES) {
      if (s.codec.readsContext || (s.carrier !== 'message' && s.carrier !== 'startup')) continue;
      const { wire } = encodeAndDecode(s);
      // The four 'p' messages read no context, but which of them a 'p' is, is the context's say.
      if (s.carrier === 'message' && decoderFor(s.dir, String.fromCharCode(wire[0]!)) !== s.codec) continue;
      const frame = frameOf(s.dir, wire, s.carrier === 'startup' ? 'startup' : 'normal');
      const [first, ...rest] = CONTEXTS.map((c) => decodeFrame(frame, { ...newDecodeContext(), ...c }));
      for (const m of rest) assert.deepStrictEqual(m, first, s.label);
    }
  });

  it('the decode memo shares exactly the types whose codec reads no context, less the listed exceptions', () => {
    for (const direction of ['frontend', 'backend'] as const) {
      for (const type of CONTEXT_FREE[direction]) {
        assert.equal(decoderFor(direction, type)!.readsContext, false, `${direction} ${type}`);
        assert.ok(!(type in NOT_SHARED[direction]), `${direction} ${type}`);
      }
      // Every exception names a type that exists and reads no context (else it needs no exception).
      for (const type of Object.keys(NOT_SHARED[direction])) {
        const codec = decoderFor(direction, type);
        assert.ok(codec && !codec.readsContext, `${direction} ${type}: not an exception`);
      }
    }
  });
});
