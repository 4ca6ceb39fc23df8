import { styleText } from 'node:util';

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

export const COLOUR: Style = {
  bytes: id,
  meaning: (s) => styleText('dim', s),
  problem: (s) => styleText(['red', 'bold'], s),
  client: (s) => styleText('cyan', s),
  server: (s) => styleText('magenta', s),
  status: (s) => styleText('yellow', s),
};
