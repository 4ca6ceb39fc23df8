import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactLog } from '../../../src/output/compact.js';
import { terminalSafeJson } from '../../../src/output/jsonl/json-out.js';
import { LineWriter } from '../../../src/output/line-writer.js';
import { COLOUR, MONOCHROME } from '../../../src/output/style.js';
import { STYLE_MARK, terminalSafe, terminalSafeLines } from '../../../src/output/terminal-safe.js';
import { Conversation } from '../../../src/protocol/conversation.js';
import { cstr, int16, int32, msg, startupMessage } from '../../helpers/wire.js';

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

describe('compact lines (--log-forwarded compact)', () => {
  /** Hostile text (as C strings carry it: no zero byte; UTF-8: no lone surrogate) with the SGR codes of pgscope's own colours in it. */
  const EVIL = `${HOSTILE.replace(/[\x00\ud800]/g, '')}\x1b[39;22m\x1b[1;31m`;
  function linesOf(colour: boolean): string[] {
    const conv = new Conversation({ statements: { typeValues: true } });
    const compact = new CompactLog({ style: colour ? COLOUR : MONOCHROME });
    const got: string[] = [];
    const w = new LineWriter((t) => got.push(...t.replace(/\n$/, '').split('\n')), 50, 1 << 30);
    const value = Buffer.from(`v${EVIL}`);
    const steps: ['frontend' | 'backend', Buffer][] = [
      ['frontend', startupMessage({ user: `u${EVIL}`, database: 'd' })],
      ['backend', Buffer.concat([msg('R', int32(0)), msg('S', cstr('server_version'), cstr(EVIL)), msg('Z', 'I')])],
      ['frontend', msg('Q', cstr(`select '${EVIL}'`))],
      [
        'backend',
        Buffer.concat([
          msg('T', int16(1), cstr(`c${EVIL}`), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)),
          msg('D', int16(1), int32(value.length), value),
          msg('C', cstr(`SELECT 1${EVIL}`)),
          msg('N', cstr('SNOTICE'), cstr('C00000'), cstr(`M${EVIL}`), Buffer.from([0])),
          msg('E', cstr('SERROR'), cstr('C22012'), cstr(`M${EVIL}`), Buffer.from([0])),
          msg('Z', 'I'),
        ]),
      ],
    ];
    for (const [d, bytes] of steps) for (const ev of conv.push(d, bytes)) compact.write(ev, undefined, '#1  ', (l) => w.line(l));
    w.flush();
    return got;
  }

  it('escape every control character from the wire, SGR sequences included, one line per message', () => {
    const lines = linesOf(false);
    assert.equal(lines.length, 11, lines.join('\n'));
    for (const l of lines) assert.doesNotMatch(l, /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/, l);
    assert.ok(lines.includes('#1  S DataRow (\'v' + terminalSafe(EVIL) + "')"), lines.join('\n'));
    assert.ok(lines.includes(`#1  S ErrorResponse ERROR 22012 ${terminalSafe(EVIL)}`), lines.join('\n'));
  });

  it("in colour, every ESC is one of pgscope's own, and the red ErrorResponse line is not ended early by the wire's text", () => {
    const lines = linesOf(true);
    assert.equal(lines.length, 11);
    for (const l of lines) assert.doesNotMatch(l.replace(/\x1b\[(2|22|1;31|39;22|36|35|33|39)m/g, ''), /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/, l);
    const error = lines.find((l) => l.includes('ErrorResponse'))!;
    assert.equal(error, `#1  \x1b[1;31mS ErrorResponse ERROR 22012 ${terminalSafe(EVIL)}\x1b[39;22m`);
    assert.equal([...error.matchAll(/\x1b/g)].length, 2, 'one colour on, one off');
  });

  it('a value cut to length keeps surrogate pairs whole (no lone half shown as an escape)', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const out: string[] = [];
    for (const ev of conv.push('frontend', msg('Q', cstr(`${'a'.repeat(178)}😀😀😀`)))) new CompactLog().write(ev, 'client -> server', '', (l) => out.push(l));
    assert.equal(out.length, 1);
    assert.equal(terminalSafe(out[0]!), out[0]);
    assert.match(out[0]!, /^C Query "a{178}…"$/);
  });
});

