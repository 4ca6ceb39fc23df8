import assert from 'node:assert/strict';
import { chmodSync, linkSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULTS, type Config } from '../../../src/app/config.js';
import { OutputSetupError } from '../../../src/output/output-setup-error.js';
import { StatementStage } from '../../../src/session/statement-stage.js';
import { openOutputs, type Outputs } from '../../../src/output/outputs.js';
import { transcriptLines } from '../../../src/output/transcript.js';
import { Conversation } from '../../../src/protocol/conversation.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import type { Label, ProxyEvent, StatementRecord } from '../../../src/session/events.js';
import * as s from '../statements/script.js';

const dir = mkdtempSync(join(tmpdir(), 'pgscope-outputs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (name: string): string => join(dir, `${n++}-${name}`);

function codecEvents(conn: number, steps: s.Step[], stage: StatementStage | null = null): ProxyEvent[] {
  // A session decodes with the statement context its analysis asks for (the stage's Conversation).
  const conv = stage ? stage.conversation(conn, { frontendMode: 'normal' }) : new Conversation({ frontendMode: 'normal' });
  const out: ProxyEvent[] = [];
  for (const [d, bytes] of steps) {
    const label: Label = d === 'frontend' ? 'client -> server' : 'server -> client';
    for (const event of conv.push(d, bytes)) out.push({ kind: 'codec', conn, time: s.timeOf(out.length), label, event });
  }
  return out;
}

/** A query answered with one int4 row: the DataRow's column, to see whether it got typed. */
function runQuery(config: Config): { row: DecodedMessage; query: DecodedMessage; texts: string[]; warnings: string[] } {
  const texts: string[] = [];
  const warnings: string[] = [];
  const o = openOutputs(config, { writeText: (t) => texts.push(t), warn: (t) => warnings.push(t) });
  // What each session does with the analysis the outputs ask for (o.statements).
  const stage = o.statements ? new StatementStage((ev) => o.log(ev), o.statements) : null;
  const evs = codecEvents(1, [s.query("ALTER ROLE a PASSWORD 'pw'; SELECT 1"), s.commandComplete('ALTER ROLE'), s.rowDescription([['a', 23]]), s.dataRow(['1']), s.commandComplete('SELECT 1'), s.ready()], stage);
  for (const ev of evs) (stage ? stage.write(ev) : o.log(ev));
  o.flush();
  void o.close();
  const msgs = evs.flatMap((e) => (e.kind === 'codec' && e.event.kind === 'message' ? [e.event.message] : []));
  return { row: msgs.find((m) => m.name === 'DataRow')!, query: msgs.find((m) => m.name === 'Query')!, texts, warnings };
}
const typedOf = (row: DecodedMessage): unknown => s.leaves(row, 'column')[0]!.typed;

describe('the outputs ask for statement analysis only when they need it', () => {
  it('typed values for the annotated log and JSON lines', () => {
    assert.ok(typedOf(runQuery({ ...DEFAULTS }).row));
    assert.ok(typedOf(runQuery({ ...DEFAULTS, logForwarded: 'none', jsonl: file('a.jsonl') }).row));
  });

  it('no typing for --pcap alone, the raw log, the query log or the summary', () => {
    assert.equal(typedOf(runQuery({ ...DEFAULTS, logForwarded: 'raw' }).row), undefined);
    assert.equal(typedOf(runQuery({ ...DEFAULTS, logForwarded: 'none', pcap: file('a.pcapng') }).row), undefined);
    assert.equal(typedOf(runQuery({ ...DEFAULTS, logForwarded: 'none', summary: true }).row), undefined);
    const q = file('q.log');
    assert.equal(typedOf(runQuery({ ...DEFAULTS, logForwarded: 'raw', queryLog: q }).row), undefined);
    assert.match(readFileSync(q, 'utf8'), /SELECT 1/, 'the query log still gets its statements');
  });

  it('with --redact-passwords, SQL passwords are marked secret even with everything else off', () => {
    const r = runQuery({ ...DEFAULTS, logForwarded: 'none', redactPasswords: true });
    assert.equal(r.query.spans.find((sp) => sp.name === 'query')!.secret, true);
    assert.equal(typedOf(r.row), undefined);
    const raw = runQuery({ ...DEFAULTS, logForwarded: 'raw', redactPasswords: true });
    assert.ok(!raw.texts.join('').includes("'pw'"));
  });
});

describe('a sink that throws', () => {
  it('is turned off with one warning; the other outputs go on', () => {
    const warnings: string[] = [];
    const jsonl = file('b.jsonl');
    const o = openOutputs({ ...DEFAULTS, summary: true, jsonl }, { writeText: () => {}, warn: (t) => warnings.push(t) });
    // SQL that is not a string: the summary's normaliser throws on it (JSON lines writes null).
    const record = {
      conn: 1, start: 0, duration: 1, untilReady: 1, protocol: 'simple', sql: null, statement: null, portal: null, params: [], rows: null, tag: 'SELECT 1', affected: null, error: null,
    } as unknown as StatementRecord;
    const bad: ProxyEvent = { kind: 'statement', conn: 1, time: 0, record };
    assert.doesNotThrow(() => o.log(bad));
    assert.doesNotThrow(() => o.log(bad));
    o.status('still here');
    o.flush();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^the summary output failed \(.+\) and was turned off; proxying goes on$/);
    assert.equal(o.summary(), null);
    assert.match(readFileSync(jsonl, 'utf8'), /still here/);
  });

  it('the text log failing in write or flush does not throw out of log() or flush()', async () => {
    const warnings: string[] = [];
    const o = openOutputs({ ...DEFAULTS }, { writeText: () => { throw new Error('disk on fire'); }, warn: (t) => warnings.push(t) });
    assert.doesNotThrow(() => o.status('x'.repeat(70_000)));
    assert.doesNotThrow(() => o.status('more'));
    assert.doesNotThrow(() => o.flush());
    await assert.doesNotReject(o.close());
    assert.deepEqual(warnings, ['the text log output failed (disk on fire) and was turned off; proxying goes on']);
  });
});

describe('the transcript with redaction', () => {
  it('shows no byte of unparsed data', () => {
    const ev = { kind: 'unparsed' as const, direction: 'frontend' as const, offset: 0, length: 40, prefix: Buffer.from('p\0\0\0\x0chunter2\0'), reason: 'after a framing error' };
    const plain = transcriptLines(ev).join('\n');
    assert.match(plain, /hunter2/);
    const red = transcriptLines(ev, { redact: true }).join('\n');
    assert.ok(!red.includes('hunter2'), red);
    assert.match(red, /<redacted 40 bytes> = 40 bytes not decoded \(after a framing error\)/);
  });
});

describe('output files', () => {
  const logOf = (path: string, clear: boolean): Outputs => openOutputs({ ...DEFAULTS, logfile: path, clearLogfile: clear }, { warn: () => {} });

  it('a new --logfile is 0600; an existing one is made 0600 and appended to (cleared with -c)', async () => {
    const p = file('new.log');
    await logOf(p, false).close();
    assert.equal(statSync(p).mode & 0o777, 0o600 & ~process.umask());
    const q = file('old.log');
    writeFileSync(q, 'before\n');
    chmodSync(q, 0o644);
    const o = logOf(q, false);
    o.status('after');
    await o.close();
    assert.equal(lstatSync(q).mode & 0o777, 0o600);
    assert.equal(readFileSync(q, 'utf8'), 'before\nafter\n');
    const c = logOf(q, true);
    c.status('only this');
    await c.close();
    assert.equal(readFileSync(q, 'utf8'), 'only this\n');
  });

  it('--logfile through a symbolic link is refused, with or without -c, and the target is untouched', () => {
    const target = file('target.txt');
    writeFileSync(target, 'precious\n');
    chmodSync(target, 0o644);
    const link = file('link.log');
    symlinkSync(target, link);
    for (const clear of [false, true]) {
      assert.throws(() => logOf(link, clear), (e: Error) => e instanceof OutputSetupError && /--logfile: cannot open .*symbolic link/.test(e.message));
    }
    assert.equal(readFileSync(target, 'utf8'), 'precious\n');
    assert.equal(statSync(target).mode & 0o777, 0o644);
  });

  it('two outputs on one file are refused before either is opened: same path, another spelling, a hard link', () => {
    const p = file('same.out');
    writeFileSync(p, 'keep\n');
    const hard = file('hard.out');
    linkSync(p, hard);
    const spelled = join(dir, '.', basename(p));
    const cases: Partial<Config>[] = [
      { jsonl: p, pcap: p },
      { logfile: p, queryLog: spelled },
      { logfile: p, jsonl: hard },
    ];
    for (const c of cases) {
      assert.throws(() => openOutputs({ ...DEFAULTS, ...c }, { warn: () => {} }), (e: Error) => e instanceof OutputSetupError && /name the same file/.test(e.message), JSON.stringify(c));
    }
    assert.equal(readFileSync(p, 'utf8'), 'keep\n', 'nothing truncated');
    // /dev/null may take several outputs.
    void openOutputs({ ...DEFAULTS, jsonl: '/dev/null', pcap: '/dev/null' }, { warn: () => {} }).close();
  });
});

describe('annotated log, redacting: undecodable bytes inside a message', () => {
  it('hides them (a malformed message may hold a password), and shows them without --redact-passwords', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    // A Query whose String has no terminating zero byte: the codec keeps its bytes as UNPARSED.
    const body = Buffer.from('hunter2-secret', 'latin1');
    const frame = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 4 + body.length]), body]);
    const ev = conv.push('frontend', frame).find((e) => e.kind === 'message')!;
    const shown = transcriptLines(ev, { redact: false }).join('\n');
    const hidden = transcriptLines(ev, { redact: true }).join('\n');
    assert.match(shown, /hunter2-secret/);
    assert.match(shown, /UNPARSED/);
    assert.doesNotMatch(hidden, /hunter2/);
    assert.match(hidden, /<redacted 14 bytes>/);
  });
});
