import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import { loadFixtures } from '../../helpers/fixtures.js';

/**
 * Server messages recorded from real PostgreSQL servers (test/fixtures/*.json) must all
 * decode without an error.
 */
describe('recorded server messages', () => {
  const fixtures = loadFixtures();

  it('decode without errors in every recorded conversation', () => {
    assert.ok(fixtures.length > 0, 'test/fixtures has recorded conversations');
    const kinds = new Set<string>();
    for (const fx of fixtures) {
      const conv = new Conversation();
      for (const c of fx.chunks) {
        for (const ev of conv.push(c.dir, c.bytes)) {
          if (ev.kind !== 'message' || ev.message.frame.direction !== 'backend' || ev.message.frame.kind !== 'message') continue;
          assert.equal(ev.message.error, undefined, `${fx.name}: ${ev.message.error?.message}`);
          kinds.add(ev.message.name);
        }
      }
    }
    assert.ok(kinds.has('ReadyForQuery'));
  });

  it('a real NegotiateProtocolVersion (whole version number on the wire) lowers the protocol to 3.0', () => {
    const fx = fixtures.find((f) => f.name === 'psql-protocol-3.2-pg15');
    assert.ok(fx, 'fixture psql-protocol-3.2-pg15 is present');
    const conv = new Conversation();
    let seen = false;
    for (const c of fx.chunks) {
      for (const ev of conv.push(c.dir, c.bytes)) {
        if (ev.kind === 'message' && ev.message.name === 'NegotiateProtocolVersion') {
          seen = true;
          assert.deepEqual(conv.ctx.protocol, { major: 3, minor: 0 });
        }
      }
    }
    assert.ok(seen, 'the fixture has a NegotiateProtocolVersion');
  });
});
