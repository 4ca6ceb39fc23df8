/**
 * What --help tells a new user (issue 11, item 7): the second example's psql line works
 * against a TLS + SCRAM server (channel_binding=disable; test/e2e/proxy-client-gave-up runs
 * it as printed), and the JSON-lines schema is where --help says it is.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { main } from '../../../src/app/cli.js';

async function help(): Promise<string> {
  let out = '';
  const code = await main(['--help'], { out: (s) => void (out += s), err: () => {}, env: {}, stdoutIsTTY: false, runProxy: async () => 0 });
  assert.equal(code, 0);
  return out;
}

describe('pgscope --help text', () => {
  it('the psql line after `pgscope db.example.com:5432 -p 6432` disables channel binding, which fails through any man in the middle', async () => {
    const lines = (await help()).split('\n');
    const at = lines.indexOf('  pgscope db.example.com:5432 -p 6432');
    assert.ok(at > 0);
    assert.match(lines[at + 1]!, /^ {6}\(then: psql "host=localhost port=6432 user=… dbname=… channel_binding=disable";$/);
  });

  it('--jsonl names docs/jsonl.md for the schema, and that file exists', async () => {
    const flat = (await help()).replace(/\s+/g, ' ');
    assert.match(flat, /--jsonl <path> one JSON object per event \(schema: docs\/jsonl\.md\)/);
    assert.doesNotMatch(flat, /schema in the README/);
    assert.ok(existsSync(new URL('../../../docs/jsonl.md', import.meta.url)));
  });
});
