import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminalSafeJson } from '../../../src/output/jsonl/json-out.js';
import { LineWriter } from '../../../src/output/line-writer.js';
import { COLOUR, MONOCHROME } from '../../../src/output/style.js';
import { STYLE_MARK, terminalSafe, terminalSafeLines } from '../../../src/output/terminal-safe.js';

/** Every character a terminal would act on, as it could come from a server or a client. */
const HOSTILE = 'a\x1b]0;pwned\x07b\x1b[2Jc\x9b31md\u202eevil\u2066e\u2069\rf\x00g\x7fh\tI\ud800';

describe('terminalSafe', () => {
  it('leaves ordinary text alone, the same string', () => {
    const s = 'SELECT 1 rows=1 | select * from "tëst" where x = \'😀\' -- ü';
    assert.equal(terminalSafe(s), s);
  });

  it('escapes C0, DEL, C1, bidi overrides and isolates, and lone surrogates visibly', () => {
    assert.equal(terminalSafe(HOSTILE), 'a\\x1b]0;pwned\\x07b\\x1b[2Jc\\u009b31md\\u202eevil\\u2066e\\u2069\\rf\\x00g\\x7fh\\tI\\ud800');
    assert.doesNotMatch(terminalSafe(HOSTILE), /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/);
  });

  it('keeps valid surrogate pairs (emoji)', () => {
    assert.equal(terminalSafe('x😀y'), 'x😀y');
  });

  it("turns pgscope's own colour marks into SGR sequences, and only those", () => {
    const line = COLOUR.problem('oops') + ' ' + COLOUR.meaning('= text ' + HOSTILE);
    const out = terminalSafe(line);
    // Every ESC in the output starts one of the style's own SGR sequences.
    const escs = [...out.matchAll(/\x1b/g)].length;
    const ours = [...out.matchAll(/\x1b\[(1;31|39;22|2|22)m/g)].length;
    assert.equal(escs, 4);
    assert.equal(ours, 4);
    assert.ok(out.includes('\\x1b]0;pwned\\x07'));
    // A mark with a code the style never writes is escaped, not obeyed.
    assert.equal(terminalSafe(`${STYLE_MARK}[2J`), '\\udbff[2J');
  });

  it('monochrome output never holds the mark', () => {
    assert.equal(MONOCHROME.problem('x'), 'x');
  });

  it('terminalSafeLines keeps line breaks and escapes the rest', () => {
    assert.equal(terminalSafeLines('one\x1b[2J\ntwo\r'), 'one\\x1b[2J\ntwo\\r');
  });
});

describe('LineWriter: the boundary where text outputs are written', () => {
  it('writes every line through terminalSafe, counting lines', () => {
    const got: [string, number][] = [];
    const w = new LineWriter((t, n) => got.push([t, n]), 50, 1 << 30);
    w.line('ok');
    w.line(HOSTILE);
    w.text('summary line 1\nsummary \x1b[2J line 2\n');
    w.flush();
    assert.equal(got.length, 1);
    const [text, lines] = got[0]!;
    assert.equal(lines, 4);
    assert.equal(text.split('\n').length, 5);
    assert.doesNotMatch(text.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('terminalSafeJson', () => {
  it('writes DEL, C1 and bidi characters as \\u escapes; the JSON value is unchanged', () => {
    const json = JSON.stringify({ v: HOSTILE });
    const safe = terminalSafeJson(json);
    assert.doesNotMatch(safe, /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    assert.deepEqual(JSON.parse(safe), { v: HOSTILE });
  });
});
