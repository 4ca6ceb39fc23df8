/**
 * summaryLine (src/protocol/summary-line.ts): one line per message, the same from the
 * codec's spans as from JSON lines' fields — checked on every message of every recorded
 * conversation, and on the shapes a person reads most.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { summaryLine } from '../../../src/protocol/summary-line.js';
import type { JsonlMessage, JsonlObject } from '../../../src/output/jsonl/objects.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { runPipeline } from '../../helpers/session-pipeline.js';

let messages: JsonlMessage[];

before(async () => {
  const out = await runPipeline(loadFixtures(), { redact: false });
  messages = out.jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonlObject)
    .filter((o): o is JsonlMessage => o.type === 'message');
});

const first = (name: string, test: (s: string) => boolean = () => true): string => {
  for (const m of messages) {
    if (m.msg !== name) continue;
    const s = summaryLine(m.msg, m.sub, m.fields);
    if (test(s)) return s;
  }
  throw new Error(`no ${name} whose summary passes`);
};

describe('summaryLine', () => {
  it('is one bounded line for every recorded message', () => {
    assert.ok(messages.length > 300);
    for (const m of messages) {
      const s = summaryLine(m.msg, m.sub, m.fields);
      assert.ok(!s.includes('\n') && s.length <= 200, `${m.msg}: ${s}`);
    }
  });

  it('says what the messages people read most carry', () => {
    assert.match(first('Query'), /^"[^"]+"$/);
    assert.match(first('Parse'), /^(unnamed statement|statement "[^"]*") ".+"$/);
    assert.match(first('Bind', (s) => s.includes('(')), /^(unnamed portal|portal "[^"]*") ← (unnamed statement|statement "[^"]*") \(.+\)$/);
    assert.match(first('RowDescription'), /^\(\w+ [a-z0-9_]+/);
    assert.match(first('CommandComplete'), /^[A-Z]+( \d+)*$/);
    assert.match(first('ErrorResponse'), /^(ERROR|FATAL) [0-9A-Z]{5} .+/);
    assert.match(first('ReadyForQuery'), /^(idle|in a transaction block|in a failed transaction block)/);
    assert.match(first('ParameterStatus'), /^\w+ = /);
    assert.match(first('StartupMessage'), /\buser=\S+/);
  });

  it('quotes strings, leaves numbers bare, says NULL, and cuts long rows', () => {
    const col = (text: string | null, typed?: { type: string; value: unknown; text: string }) => ({
      name: 'column',
      value: text === null ? -1 : text.length,
      children: [
        { name: 'length', value: text === null ? -1 : text.length },
        ...(text === null ? [] : [{ name: 'value', value: { text, length: text.length }, ...(typed ? { typed } : {}) }]),
      ],
    });
    const row = [col('1', { type: 'int4', value: 1, text: '1' }), col('teapot', { type: 'text', value: 'teapot', text: 'teapot' }), col(null), col('9007199254740993', { type: 'int8', value: '9007199254740993', text: '9007199254740993' }), col('raw')];
    assert.equal(summaryLine('DataRow', [], row), "(1, 'teapot', NULL, 9007199254740993, 'raw')");
    const wide = Array.from({ length: 20 }, (_, i) => col(String(i), { type: 'int4', value: i, text: String(i) }));
    assert.equal(summaryLine('DataRow', [], wide), '(0, 1, 2, 3, 4, 5, 6, 7, … 12 more)');
    const long = summaryLine('Query', [], [{ name: 'query', value: 'x'.repeat(1000) }]);
    assert.ok(long.length <= 200 && long.length > 150, `${long.length}`);
    assert.ok(long.endsWith('…"'), long.slice(-5));
  });

  it('names nested payloads first (replication)', () => {
    assert.equal(summaryLine('CopyData', ['XLogData', 'Insert'], [{ name: 'type', value: 'd' }]).startsWith('XLogData › Insert'), true);
  });
});
