/**
 * Golden transcripts of conversations recorded from real servers (test/fixtures/*.json):
 * each decodes to exactly the text in test/golden/<name>.txt. After a deliberate change
 * of output, regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Conversation } from '../../src/protocol/conversation.js';
import { transcriptLines } from '../../src/output/transcript.js';
import { loadFixtures } from '../helpers/fixtures.js';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

describe('golden transcripts of real conversations', () => {
  const fixtures = loadFixtures();
  it('there are recorded conversations to check', () => {
    assert.ok(fixtures.length > 0, 'test/fixtures has no *.json');
  });
  for (const fx of fixtures) {
    it(fx.name, () => {
      const conv = new Conversation();
      const lines = [`# ${fx.description}`, `# server: ${fx.server}; client: ${fx.client}`];
      for (const c of fx.chunks) for (const ev of conv.push(c.dir, c.bytes)) lines.push(...transcriptLines(ev, { maxValueBytes: 96 }));
      const text = lines.join('\n') + '\n';
      const file = join(GOLDEN_DIR, `${fx.name}.txt`);
      if (UPDATE || !existsSync(file)) {
        if (!UPDATE) assert.fail(`no golden file ${file}: run with UPDATE_GOLDEN=1 and review it`);
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(file, text);
        return;
      }
      assert.equal(text, readFileSync(file, 'utf8'));
    });
  }
});
