import { STYLE_MARK } from './terminal-safe.js';

/** How renderers colour their parts; the identity style is monochrome. */
export interface Style {
  /** The escaped bytes of a field. */
  bytes(s: string): string;
  /** The "= meaning" annotation. */
  meaning(s: string): string;
  /** Something wrong: unparsed bytes, protocol errors. */
  problem(s: string): string;
  /** Labels of the client side and the server side. */
  client(s: string): string;
  server(s: string): string;
  /** Status lines of the proxy itself. */
  status(s: string): string;
}

const id = (s: string): string => s;

export const MONOCHROME: Style = { bytes: id, meaning: id, problem: id, client: id, server: id, status: id };

/**
 * ANSI SGR codes written directly: util.styleText drops them when stdout is not a
 * terminal, but --no-bw / FORCE_COLOR must colour output sent to a pipe or file too.
 * They begin with STYLE_MARK, not ESC: terminalSafe(), the one place text is written, turns
 * the mark into ESC and escapes every control character that came from the wire, ESC
 * included (see terminal-safe.ts).
 */
const sgr =
  (on: string, off: string) =>
  (s: string): string =>
    `${STYLE_MARK}[${on}m${s}${STYLE_MARK}[${off}m`;

export const COLOUR: Style = {
  bytes: id,
  meaning: sgr('2', '22'),
  problem: sgr('1;31', '39;22'),
  client: sgr('36', '39'),
  server: sgr('35', '39'),
  status: sgr('33', '39'),
};
