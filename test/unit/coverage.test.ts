/**
 * Every entry of protocol-coverage.md decodes by its own name, with no error and no
 * unparsed byte: the built corpus (test/helpers/corpus.ts) has at least one of each, and
 * the real recordings (test/fixtures) must decode cleanly too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../src/protocol/conversation.js';
import type { DecodedMessage, Span } from '../../src/protocol/types.js';
import { CORPUS } from '../helpers/corpus.js';
import { decodeOne } from '../helpers/decode.js';
import { loadFixtures } from '../helpers/fixtures.js';

function unparsed(spans: Span[]): Span[] {
  return spans.flatMap((s) => [...(s.flag === 'unparsed' ? [s] : []), ...unparsed(s.children ?? [])]);
}

function nameOf(m: DecodedMessage): string[] {
  return [m.name, ...m.sub.map((s) => `${m.name}/${s}`)];
}

describe('protocol coverage', () => {
  for (const entry of CORPUS) {
    it(`${entry.dir} ${entry.expect}`, () => {
      const m = decodeOne(entry.dir, entry.bytes, entry.ctx ?? {}, entry.mode ?? 'normal');
      assert.equal(m.error, undefined, m.error?.message);
      assert.deepEqual(unparsed(m.spans), []);
      assert.ok(nameOf(m).includes(entry.expect), `decoded as ${nameOf(m).join(', ')}`);
    });
  }

  it('the recorded real conversations decode with no error and no unparsed byte', () => {
    for (const fx of loadFixtures()) {
      const conv = new Conversation();
      for (const c of fx.chunks) {
        for (const ev of conv.push(c.dir, c.bytes)) {
          assert.notEqual(ev.kind, 'error', `${fx.name}: ${ev.kind === 'error' ? ev.error.message : ''}`);
          if (ev.kind === 'message') {
            assert.equal(ev.message.error, undefined, `${fx.name}: ${ev.message.error?.message}`);
            assert.deepEqual(unparsed(ev.message.spans), [], `${fx.name}: ${ev.message.name}`);
          }
        }
      }
    }
  });
});
