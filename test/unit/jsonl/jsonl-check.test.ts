import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkJsonlLines } from '../../helpers/jsonl-check.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { fixtureEvents, renderJsonl } from './events.js';

// A valid line of each kind, then one broken member at a time: the checker must notice.
const fixture = loadFixtures().find((f) => f.name === 'psql-cleartext-auth')!;
const good = checkJsonlLines(renderJsonl(fixtureEvents(fixture), { redact: false, maxRawBytes: 1 << 20 }));
const ready = good.find((l) => l.msg === 'ReadyForQuery')!;
const status = { v: 1, type: 'status', conn: null, time: '2026-11-21T01:12:44.693123Z', ts: 1795223564693123, level: 'info', text: 'x' };

function rejects(o: unknown, pattern: RegExp, lineNo = 2): void {
  const text = JSON.stringify(status) + '\n' + (typeof o === 'string' ? o : JSON.stringify(o)) + '\n';
  assert.throws(() => checkJsonlLines(text), (e: Error) => e.message.startsWith(`jsonl line ${lineNo}: `) && pattern.test(e.message));
}

test('the checker accepts real output and a trailing newline', () => {
  assert.equal(checkJsonlLines(JSON.stringify(status) + '\n').length, 1);
  assert.ok(good.length > 10);
});

test('the checker rejects each kind of broken line, naming the line', () => {
  rejects('{"v":1,', /not JSON/);
  rejects({ ...status, v: 2 }, /v must be 1/);
  rejects({ ...status, type: 'forwarded' }, /type must be one of/);
  rejects({ ...status, time: '2026-11-21T01:12:44.693Z' }, /6 fractional digits/);
  rejects({ ...status, ts: status.ts + 1 }, /disagree/);
  rejects({ ...ready, conn: null }, /conn must be an integer/);
  rejects({ ...ready, label: 'client -> server' }, /from\/to/);
  rejects({ ...ready, dir: 'frontend' }, /dir backend|dir frontend/);
  rejects({ ...ready, size: 7 }, /size 7 is not length/);
  rejects({ ...ready, raw: (ready.raw as string).slice(0, 4) }, /without rawTruncated/);
  rejects({ ...ready, raw: '45' + (ready.raw as string).slice(2) }, /type byte/);
  rejects({ ...ready, fields: [{ name: 'type', offset: 0, length: 9 }] }, /outside \[0, 6\)/);
  rejects({ ...ready, fields: [{ name: 'g', offset: 0, length: 6, children: [{ name: 'c', offset: 5, length: 2 }] }] }, /children\[0\].*outside \[0, 6\)/);
  rejects({ ...ready, redacted: true }, /redacted message has no raw/);
  rejects({ ...ready, fields: [{ name: 'password', offset: 0, length: 6, secret: true, value: '<redacted>' }] }, /no redacted: true/);
  rejects({ ...status, type: 'connection', conn: 1, phase: 'opened', client: { address: 'x' } }, /port must be an integer/);
  rejects({ ...status, type: 'statement', conn: 1 }, /start must be a string/);
});
