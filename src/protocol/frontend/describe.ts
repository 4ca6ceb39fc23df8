import type { MessageCodec } from '../decoder.js';
import { chr, isMessage, span, stringAt, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
import { readObjectName, readTarget } from './fields.js';

export interface Describe {
  /** "'S' to describe a prepared statement; or 'P' to describe a portal." */
  target: 'S' | 'P';
  /** The name of the prepared statement or portal (an empty string selects the unnamed one). */
  name: string;
}

/**
 * Describe (F, 'D'):
 *   Byte1  — "'S' to describe a prepared statement; or 'P' to describe a portal."
 *   String — "The name of the prepared statement or portal to describe (an empty string
 *            selects the unnamed prepared statement or portal)."
 */
export const describe: MessageCodec<Describe> = {
  name: 'Describe',
  readsContext: false,
  decode(r) {
    const kind = readTarget(r, 'describe');
    readObjectName(r, 'name', kind);
  },
  fields(m) {
    const spans = wholeSpans(m, 'Describe', isMessage(m, 'frontend', 'D'));
    return { target: chr(m, span(m, spans, 'target')) as Describe['target'], name: text(m, span(m, spans, 'name')) };
  },
  encode(f) {
    return writeMessage('D', 'Describe', (w) => {
      if (f.target !== 'S' && f.target !== 'P') w.fail('target', `'S' (prepared statement) or 'P' (portal), got ${JSON.stringify(f.target)}`);
      w.char(f.target, 'target');
      w.cstring(f.name, 'name');
    });
  },
};

/** A Describe's target and name as far as they were read (a bad target leaves no name): for the statement context. */
export function describeAsRead(m: DecodedMessage): Partial<Describe> {
  return { target: stringAt(m.spans, 'target') as Describe['target'] | undefined, name: stringAt(m.spans, 'name') };
}
