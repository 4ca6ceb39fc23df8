import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KNOWN_NAMES, normalizeName } from '../../../src/filter/message-names.js';
import { parseFilter } from '../../../src/output/filter/filter.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { replay } from '../../helpers/decode.js';

test('every message and sub-message name in the recordings is a name a filter accepts', () => {
  const seen = new Set<string>();
  for (const f of loadFixtures()) {
    for (const ev of replay(f.chunks)) {
      if (ev.kind !== 'message') continue;
      for (const n of [ev.message.name, ...ev.message.sub]) seen.add(n);
    }
  }
  assert.ok(seen.size > 60, `only ${seen.size} names seen`);
  for (const n of seen) {
    assert.ok(KNOWN_NAMES.has(normalizeName(n)), `${n} is not in the filter's list`);
    assert.doesNotThrow(() => parseFilter(KNOWN_NAMES.get(normalizeName(n))!));
  }
});

test('names carry no notes and keywords are not message names', () => {
  assert.equal(normalizeName('PasswordMessage (authentication request not seen)'), 'passwordmessage');
  assert.equal(normalizeName('TLS ClientHello (direct TLS)'), 'tlsclienthello');
  for (const k of ['and', 'or', 'not', 'client', 'server', 'pgscope', 'queries', 'errors', 'conn', 'sql', 'contains']) assert.equal(KNOWN_NAMES.has(k), false, k);
  for (const n of ['Query', 'AuthenticationSASL', 'SASLInitialResponse', 'GSSResponse', 'SSLResponse', 'XLogData', 'HotStandbyFeedback', 'StreamPrepare', 'CancelRequest']) assert.ok(KNOWN_NAMES.has(normalizeName(n)), n);
});
