/**
 * The one place where text meets a terminal. Every text output (the annotated, raw and
 * status lines of the text log, the query log, the summary, pgscope's warnings, `pgscope
 * decode`, the demo's notes) passes each line through terminalSafe() as it is written, so
 * that nothing that came from the wire (a server's error message, a command tag, SQL, a
 * text value, the SNI name an unauthenticated client sent, a certificate's subject) can
 * reach the terminal as a control character: C0 controls and DEL, C1 controls (U+0080 to
 * U+009F: U+009B is a CSI on many terminals), the bidirectional overrides and isolates
 * (U+202A to U+202E, U+2066 to U+2069, which reorder what the user reads) and lone
 * surrogates are written as visible escapes instead (`\x1b`, `\u009b`, `\u202e`).
 *
 * pgscope's own colours cannot be told apart from a hostile server's escape sequences once
 * they are in the same string, so the colour style (style.ts) does not write ESC: it
 * writes STYLE_MARK, a lone high surrogate, in its place. Text decoded from the wire
 * (UTF-8 or Latin-1) never holds a lone surrogate, so here STYLE_MARK followed by one of
 * the few SGR codes style.ts uses, and nothing else, becomes ESC.
 */

/** Written by style.ts where an SGR sequence begins; ESC once terminalSafe() has seen it. */
export const STYLE_MARK = '\udbff';

/** The SGR parameters style.ts writes (after `ESC [`, before `m`): dim, bold red, colours, resets. */
const OUR_SGR: ReadonlySet<string> = new Set(['2', '22', '1;31', '39;22', '36', '35', '33', '39']);

/** Anything terminalSafe() may have to change. Tested first: most lines hold none of it. */
const SUSPECT = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/;

/** A valid surrogate pair (kept), our style mark with its SGR code, or one unsafe character. */
const PARTS = /([\ud800-\udbff][\udc00-\udfff])|\udbff\[([0-9;]{1,5})m|[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/g;

const C0_NAMES: Record<number, string> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r' };

/** The visible escape of one unsafe UTF-16 code unit. */
function escapeUnit(c: number): string {
  if (c < 0x20 || c === 0x7f) return C0_NAMES[c] ?? `\\x${c.toString(16).padStart(2, '0')}`;
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

/** One line made safe for a terminal (see above); the same string when nothing needed changing. */
export function terminalSafe(line: string): string {
  if (!SUSPECT.test(line)) return line;
  return line.replace(PARTS, (m: string, pair: string | undefined, sgr: string | undefined) => {
    if (pair !== undefined) return pair;
    if (sgr !== undefined) return OUR_SGR.has(sgr) ? `\x1b[${sgr}m` : `${escapeUnit(0xdbff)}[${sgr}m`;
    return escapeUnit(m.charCodeAt(0));
  });
}

/** Several lines (a summary, a banner): each made safe, the line breaks between them kept. */
export function terminalSafeLines(text: string): string {
  if (!SUSPECT.test(text)) return text;
  return text.split('\n').map(terminalSafe).join('\n');
}
