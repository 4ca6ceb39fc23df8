import type { MessageCodec } from '../decoder.js';
import { chr, isMessage, span, stringAt, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
import { readObjectName, readTarget } from './fields.js';

export interface Close {
  /** "'S' to close a prepared statement; or 'P' to close a portal." */
  target: 'S' | 'P';
  /** The name of the prepared statement or portal (an empty string selects the unnamed one). */
  name: string;
}

/**
 * Close (F, 'C'):
 *   Byte1  — "'S' to close a prepared statement; or 'P' to close a portal."
 *   String — "The name of the prepared statement or portal to close (an empty string
 *            selects the unnamed prepared statement or portal)."
 */
export const close: MessageCodec<Close> = {
  name: 'Close',
  readsContext: false,
  decode(r) {
    const kind = readTarget(r, 'close');
    readObjectName(r, 'name', kind);
  },
  fields(m) {
    const spans = wholeSpans(m, 'Close', isMessage(m, 'frontend', 'C'));
    return { target: chr(m, span(m, spans, 'target')) as Close['target'], name: text(m, span(m, spans, 'name')) };
  },
  encode(f) {
    return writeMessage('C', 'Close', (w) => {
      if (f.target !== 'S' && f.target !== 'P') w.fail('target', `'S' (prepared statement) or 'P' (portal), got ${JSON.stringify(f.target)}`);
      w.char(f.target, 'target');
      w.cstring(f.name, 'name');
    });
  },
};

/** A Close's target and name as far as they were read (a bad target leaves no name): for the statement context. */
export function closeAsRead(m: DecodedMessage): Partial<Close> {
  return { target: stringAt(m.spans, 'target') as Close['target'] | undefined, name: stringAt(m.spans, 'name') };
}
