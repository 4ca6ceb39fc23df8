/**
 * encode(fields(decode(bytes))) equals the bytes, for every whole, well-formed message of
 * the recorded corpus (test/fixtures, both directions, replication streams included) and
 * of the built corpus (test/helpers/corpus.ts): the message itself, and the payloads
 * CopyData carries (replication messages, pgoutput messages) through their own codecs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import { copyData } from '../../../src/protocol/copy-data.js';
import { authenticationResponse } from '../../../src/protocol/frontend/authentication-response.js';
import type { FieldCodec } from '../../../src/protocol/decoder.js';
import { codecOf, encodeDecoded, pgoutputCodecOf, replicationCodecOf } from '../../../src/protocol/registry.js';
import { xlogData } from '../../../src/protocol/replication/xlog-data.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import { CORPUS } from '../../helpers/corpus.js';
import { decodeOne } from '../../helpers/decode.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { ALL, SAMPLES } from './support.js';

/** Messages round-tripped, by codec and by the name they decoded as. */
const exercised = new Map<FieldCodec<unknown>, number>();
const byName = new Map<string, number>();

function count(codec: FieldCodec<unknown>, name: string): void {
  exercised.set(codec, (exercised.get(codec) ?? 0) + 1);
  byName.set(name, (byName.get(name) ?? 0) + 1);
}

/** Round-trip one message and what it carries; returns false when it is not whole or well-formed. */
function roundTrip(m: DecodedMessage, where: string): boolean {
  if (m.error || !m.frame.complete) return false;
  const codec = codecOf(m);
  assert.ok(codec, `${where}: ${m.name} has a codec`);
  const wire = m.frame.bytes.subarray(0, m.frame.size);
  assert.deepStrictEqual(codec.encode(codec.fields(m)), wire, `${where}: ${m.name}`);
  assert.deepStrictEqual(encodeDecoded(m), wire, `${where}: ${m.name}`);
  count(codec, m.name);
  const rep = replicationCodecOf(m);
  if (rep) {
    const payload = copyData.fields(m).data;
    assert.deepStrictEqual(rep.encode(rep.fields(m)), payload, `${where}: ${m.name}/${m.sub.join('/')}`);
    count(rep, `CopyData/${m.sub[0]}`);
    const pgo = pgoutputCodecOf(m);
    if (pgo) {
      assert.deepStrictEqual(pgo.encode(pgo.fields(m)), xlogData.fields(m).data, `${where}: ${m.name}/${m.sub.join('/')}`);
      count(pgo, `CopyData/XLogData/${m.sub[1]}`);
    } else {
      assert.equal(m.sub.length, 1, `${where}: ${m.sub.join('/')} has a codec`);
    }
  }
  return true;
}

describe('encode(fields(m)) is m, for the whole corpus', () => {
  it('every message of every recorded conversation (test/fixtures)', (t) => {
    const fixtures = loadFixtures();
    assert.ok(fixtures.length > 0);
    let whole = 0;
    let skipped = 0;
    for (const fx of fixtures) {
      const conv = new Conversation();
      for (const c of fx.chunks) {
        for (const ev of conv.push(c.dir, c.bytes)) {
          if (ev.kind !== 'message') continue;
          if (roundTrip(ev.message, fx.name)) whole++;
          else skipped++;
        }
      }
    }
    // The recordings decode cleanly (coverage.test.ts): every message is whole and well-formed.
    assert.equal(skipped, 0);
    t.diagnostic(`${whole} recorded messages round-tripped`);
  });

  it('every message of the built corpus (test/helpers/corpus.ts)', () => {
    for (const e of CORPUS) {
      const m = decodeOne(e.dir, e.bytes, e.ctx ?? {}, e.mode ?? 'normal');
      assert.ok(roundTrip(m, `corpus ${e.expect}`), `${e.expect} decodes whole and well-formed`);
    }
  });

  it('every codec is exercised by the corpus or by a hand-written sample (encoders.test.ts)', (t) => {
    const sampled = new Set(SAMPLES.map((s) => s.codec));
    const untested = ALL.filter((c) => !exercised.has(c) && !sampled.has(c)).map((c) => c.name);
    assert.deepEqual(untested, []);
    const fromCorpus = ALL.filter((c) => exercised.has(c)).length;
    const label = (c: FieldCodec<unknown>): string => (c === authenticationResponse ? "'p' undecided (authentication request not seen)" : c.name);
    t.diagnostic(`${fromCorpus} of ${ALL.length} codecs exercised by the corpus; the rest by samples only: ${ALL.filter((c) => !exercised.has(c)).map(label).join(', ') || 'none'}`);
    t.diagnostic(
      `round-tripped per message: ${[...byName]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([n, k]) => `${n} ${k}`)
        .join(', ')}`,
    );
  });
});
