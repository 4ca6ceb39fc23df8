/**
 * Fault rules (src/faults/rule.ts): the examples parse verbatim and print back in a
 * form that parses the same; every mistake names the character and what was expected.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultRuleError, parseFaultRule, printRule } from '../../../src/faults/rule.js';

const VERBATIM = [
  'error 40001 when sql ~ "^\\s*update" once',
  'delay 300ms when sql contains "delay-marker"',
  'fatal 57P01 when sql contains "boom-marker"',
  'error 53300 "sorry, too many clients already" when StartupMessage probability 0.5',
  'reset when server and DataRow after 1000',
  'delay 50ms..200ms when client',
];

describe('fault rules', () => {
  it("parse the issue's examples verbatim", () => {
    const [update, delay, fatal, startup, reset, jitter] = VERBATIM.map(parseFaultRule);
    assert.deepEqual(update!.action, { k: 'error', code: '40001', message: null });
    assert.deepEqual(update!.limits, [{ k: 'once' }]);
    assert.equal(update!.when?.k, 'sql');
    assert.deepEqual(delay!.action, { k: 'delay', minMs: 300, maxMs: 300 });
    assert.deepEqual(fatal!.action, { k: 'fatal', code: '57P01', message: null });
    assert.deepEqual(startup!.action, { k: 'error', code: '53300', message: 'sorry, too many clients already' });
    assert.deepEqual(startup!.limits, [{ k: 'probability', p: 0.5 }]);
    assert.deepEqual(reset!.action, { k: 'reset' });
    assert.deepEqual(reset!.limits, [{ k: 'after', n: 1000 }]);
    assert.equal(reset!.when?.k, 'and');
    assert.deepEqual(jitter!.action, { k: 'delay', minMs: 50, maxMs: 200 });
    assert.deepEqual(jitter!.when, { k: 'sender', who: 'client' });
  });

  it('print back in canonical form, which parses to the same rule', () => {
    for (const text of [...VERBATIM, 'chunk 1 when server', 'bandwidth 64KB/s', 'notice "say \\"hi\\"" when Query', 'refuse when conn=3-5 times 2', 'stall when Execute every 3', 'close', 'delay 1.5s']) {
      const rule = parseFaultRule(text);
      const printed = printRule(rule);
      const again = parseFaultRule(printed);
      assert.deepEqual({ ...again, source: '' }, { ...rule, source: '' }, `${text} → ${printed}`);
    }
    assert.equal(printRule(parseFaultRule('DELAY 1s WHEN datarow')), 'delay 1000ms when DataRow');
  });

  it('read units: durations, rates, limits in order', () => {
    assert.deepEqual(parseFaultRule('delay 250us').action, { k: 'delay', minMs: 0.25, maxMs: 0.25 });
    assert.deepEqual(parseFaultRule('delay 2m').action, { k: 'delay', minMs: 120_000, maxMs: 120_000 });
    assert.deepEqual(parseFaultRule('bandwidth 1MB/s').action, { k: 'bandwidth', bytesPerSecond: 1024 * 1024 });
    assert.deepEqual(parseFaultRule('bandwidth 500B/s').action, { k: 'bandwidth', bytesPerSecond: 500 });
    assert.deepEqual(parseFaultRule('reset after 10 every 2 times 3').limits, [
      { k: 'after', n: 10 },
      { k: 'every', n: 2 },
      { k: 'times', n: 3 },
    ]);
  });

  it('say where a rule goes wrong and what was expected', () => {
    const cases: [string, number, RegExp][] = [
      ['', 1, /expected an action/],
      ['explode', 1, /expected an action \(error, fatal, delay/],
      ['error 4001', 7, /SQLSTATE code of five characters/],
      ['error', 6, /expected a SQLSTATE code .*found the end of the rule/],
      ['error 40001 "unterminated', 13, /no closing double quote/],
      ['delay 300', 7, /duration such as 300ms/],
      ['delay 200ms..50ms', 7, /ends before it starts/],
      ['chunk 0', 7, /at least 1/],
      ['bandwidth fast', 11, /rate such as 64KB\/s/],
      ['reset when', 11, /expected a condition after "when"/],
      ['reset when DataRoww', 12, /in the condition, the word "DataRoww".*Close names: DataRow/],
      ['reset when sql ~ "("', 18, /in the condition, the regular expression/],
      ['reset twice', 7, /expected a limit .*a condition starts with "when"/],
      ['reset when server times', 24, /expected a count/],
      ['reset probability 1.5', 19, /between 0 and 1/],
      ['refuse when Query', 8, /refuse acts on new connections/],
    ];
    for (const [text, at, re] of cases) {
      assert.throws(
        () => parseFaultRule(text),
        (e: unknown) => {
          assert.ok(e instanceof FaultRuleError, `${text}: ${String(e)}`);
          assert.equal(e.pos + 1, at, `${text}: ${e.message}`);
          assert.match(e.message, re, text);
          assert.match(e.message, new RegExp(`^--fault ${JSON.stringify(text).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}: at character ${at}: `));
          return true;
        },
      );
    }
  });

  it('keep what follows the condition out of the filter lexer (numbers with dots, ranges)', () => {
    const r = parseFaultRule('error 53300 when StartupMessage probability 0.25');
    assert.deepEqual(r.limits, [{ k: 'probability', p: 0.25 }]);
    assert.deepEqual(r.when, { k: 'name', key: 'startupmessage', spelled: 'StartupMessage' });
  });
});

describe('hostile rules', () => {
  it('deep nesting is a rule error, not a crash', () => {
    for (const text of [`reset when ${'('.repeat(5000)}Query${')'.repeat(5000)}`, `reset when ${'not '.repeat(5000)}Query`]) {
      assert.throws(() => parseFaultRule(text), (e: unknown) => e instanceof FaultRuleError && /less deeply nested/.test(e.message));
    }
    assert.doesNotThrow(() => parseFaultRule(`reset when ${'('.repeat(50)}not not Query${')'.repeat(50)}`));
  });
});
