/**
 * Decoding is final: typed values and secret marks are set while decoding, and nothing
 * writes to a decoded message afterwards. Proved on the whole pipeline: every recorded
 * conversation (and hand-built ones for what the recordings lack) through real Sessions
 * with statement analysis on (typed values, records; with and without redaction) and every
 * output (annotated text log, JSON lines, query log, summary, pcapng), once as usual and
 * once with every decoded message deep-frozen right after decoding (a write to a frozen
 * span throws, in strict mode). Both runs must write exactly what pgscope wrote before
 * decoding became final: test/golden/session-pipeline.json holds the size and sha256 of
 * each output as produced by the proxy at 24d5683 (the statement tracker then typed and
 * marked spans after decoding). After a deliberate change of output, regenerate it with
 * UPDATE_GOLDEN=1 and review the outputs it says it wrote.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Conversation } from '../../../src/protocol/conversation.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import { loadFixtures } from '../../helpers/fixtures.js';
import { digests, runPipeline, syntheticConversations, type PipelineOutputs } from '../../helpers/session-pipeline.js';
import type { MessageHook } from '../../../src/session/message-hook.js';
import * as s from './script.js';

const REFERENCE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'golden', 'session-pipeline.json');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Where a run that differs from the reference left its outputs, for a diff. */
function keep(out: PipelineOutputs, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pgscope-pipeline-${label}-`));
  writeFileSync(join(dir, 'text.log'), out.text);
  writeFileSync(join(dir, 'out.jsonl'), out.jsonl);
  writeFileSync(join(dir, 'query.log'), out.queryLog);
  writeFileSync(join(dir, 'out.pcapng'), out.pcapng);
  return dir;
}

/**
 * A hook that acts: every server CommandComplete "SELECT 1" is replaced by one that says
 * SELECT 42, and every second client Sync is taken (not forwarded), each with a note.
 */
function takingHook(): MessageHook {
  let syncs = 0;
  const tag = (t: string): Buffer => {
    const body = Buffer.from(`${t}\0`);
    const b = Buffer.alloc(5 + body.length);
    b.write('C', 0, 'latin1');
    b.writeInt32BE(4 + body.length, 1);
    body.copy(b, 5);
    return b;
  };
  return {
    wants: (direction, type) => (direction === 'backend' && type === 'C') || (direction === 'frontend' && type === 'S'),
    decide: (view) => {
      if (view.direction === 'backend') return view.bytes?.includes('SELECT 1\0') ? { forward: [tag('SELECT 42')], note: 'test hook: a count changed' } : null;
      return ++syncs % 2 === 0 ? { forward: [], note: 'test hook: a Sync taken' } : null;
    },
  };
}

describe('decoding is final', () => {
  const conversations = [...loadFixtures(), ...syntheticConversations()];

  it('the test mode freezes every decoded message: a write after decoding throws', () => {
    const conv = new Conversation({ frontendMode: 'normal', statements: { typeValues: true, redact: true }, freezeDecoded: true });
    const msgs: DecodedMessage[] = [];
    const steps = [s.parse('', 'SELECT $1::int4', [23]), s.bind('', '', ['7']), s.describe('P', ''), s.execute(), s.sync(), s.parseComplete(), s.bindComplete(), s.rowDescription([['a', 23]]), s.dataRow(['42'])];
    for (const [dir, bytes] of steps) for (const ev of conv.push(dir, bytes)) if (ev.kind === 'message') msgs.push(ev.message);
    const bind = msgs[1];
    const row = msgs[8];
    const param = s.leaves(bind!, 'parameter')[0]!;
    const column = s.leaves(row!, 'column')[0]!;
    // Typed while decoding, then frozen with the rest.
    assert.equal(param.typed?.text, '7');
    assert.equal(column.typed?.text, '42');
    for (const m of msgs) assert.ok(Object.isFrozen(m) && Object.isFrozen(m.spans) && Object.isFrozen(m.frame));
    assert.ok(Object.isFrozen(column) && Object.isFrozen(column.typed));
    // What the statement tracker used to do after decoding now throws.
    assert.throws(() => {
      column.meaning = 'changed';
    }, TypeError);
    assert.throws(() => {
      param.secret = true;
    }, TypeError);
    assert.throws(() => {
      (row!.spans as unknown[]).push({});
    }, TypeError);
  });

  for (const redact of [false, true]) {
    const label = redact ? 'redacting' : 'plain';
    it(`every output of the whole pipeline is what it was, frozen or not (${label})`, async () => {
      const frozen = await runPipeline(conversations, { redact, freezeDecoded: true });
      const thawed = await runPipeline(conversations, { redact });
      assert.deepEqual(frozen.warnings, [], 'no sink failed (a sink that throws is turned off with a warning)');
      assert.deepEqual(thawed.warnings, []);
      // Frozen or not, the same bytes: nothing needed to write to a decoded message.
      assert.equal(frozen.text, thawed.text);
      assert.equal(frozen.jsonl, thawed.jsonl);
      assert.equal(frozen.queryLog, thawed.queryLog);
      assert.ok(frozen.pcapng.equals(thawed.pcapng));
      // The run does what it is meant to: typed values, records, secret marks (when redacting).
      assert.match(frozen.text, /= int4 42|= int4 [0-9]+/);
      assert.match(frozen.jsonl, /"typed":\{"type":"timestamptz"/);
      assert.match(frozen.queryLog, /SELECT abalance/);
      if (redact) assert.match(frozen.text, /<redacted 7 bytes>" = text value/);
      const reference = existsSync(REFERENCE) ? (JSON.parse(readFileSync(REFERENCE, 'utf8')) as Record<string, unknown>) : {};
      const got = digests(frozen);
      if (UPDATE) {
        writeFileSync(REFERENCE, JSON.stringify({ ...reference, [label]: got }, null, 2) + '\n');
        console.log(`wrote ${REFERENCE} (${label}); its outputs are in ${keep(frozen, label)}`);
        return;
      }
      assert.ok(reference[label], `no reference digests for ${label} in ${REFERENCE}: run with UPDATE_GOLDEN=1 and review`);
      if (JSON.stringify(got) !== JSON.stringify(reference[label])) {
        assert.deepEqual(got, reference[label], `the outputs differ from the reference; they are in ${keep(frozen, label)}`);
      }
    });

    it(`decoded on a decode thread's stage, every output is the same byte for byte (${label})`, async () => {
      // The sessions hand over at their first quiet point; what they emit crosses as it
      // would to the decode thread (packed, structured-cloned, unpacked) into a DecodeStage.
      const here = await runPipeline(conversations, { redact });
      const there = await runPipeline(conversations, { redact, decodeElsewhere: true, freezeDecoded: true });
      assert.deepEqual(there.warnings, []);
      assert.equal(there.text, here.text);
      assert.equal(there.jsonl, here.jsonl);
      assert.equal(there.queryLog, here.queryLog);
      assert.ok(there.pcapng.equals(here.pcapng), 'the same pcapng');
    });

    it(`with a hook that takes and replaces messages, the decode thread's stage writes what the forwarding thread would (${label})`, async () => {
      // Decisions are made on the forwarding thread, on its own decoding; what a decision
      // took or replaced reaches the stage as marks, and the session's notes come between
      // the messages where they belong.
      const here = await runPipeline(conversations, { redact, hook: takingHook() });
      const there = await runPipeline(conversations, { redact, hook: takingHook(), decodeElsewhere: true });
      assert.deepEqual(there.warnings, []);
      assert.match(here.text, /server -> script: "C" = CommandComplete/, 'a server message was taken');
      assert.match(here.text, /script -> client: "C" = CommandComplete .*SELECT 42/, 'and replaced');
      assert.match(here.text, /client -> script: "H" = Flush|client -> script: "S" = Sync/, 'a client message was taken');
      assert.equal(there.text, here.text);
      assert.equal(there.jsonl, here.jsonl);
      assert.equal(there.queryLog, here.queryLog);
    });
  }
});
