import type { MessageCodec } from '../decoder.js';
import { isMessage, num, span, stringAt, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
import { plural } from '../values.js';
import { readObjectName } from './fields.js';

/**
 * Execute (F, 'E'):
 *   String — "The name of the portal to execute (an empty string selects the unnamed portal)."
 *   Int32  — "Maximum number of rows to return, if portal contains a query that returns
 *            rows (ignored otherwise). Zero denotes “no limit”."
 */
export interface Execute {
  /** "The name of the portal to execute (an empty string selects the unnamed portal)." */
  portal: string;
  /** "Maximum number of rows to return … Zero denotes “no limit”." */
  maxRows: number;
}

export const execute: MessageCodec<Execute> = {
  name: 'Execute',
  readsContext: false,
  decode(r) {
    readObjectName(r, 'portal', 'portal');
    r.int32('maximum rows', (n) =>
      n === 0
        ? 'maximum rows: 0 (no limit)'
        : n > 0
          ? `at most ${plural(n, 'row')} (PortalSuspended if more remain)`
          : // The documentation defines only 0 and positive counts; the server (exec_execute_message) treats n <= 0 as "fetch all".
            `maximum rows: ${n} (negative: undefined by the protocol; PostgreSQL treats it as no limit)`,
    );
  },
  fields(m) {
    const spans = wholeSpans(m, 'Execute', isMessage(m, 'frontend', 'E'));
    return { portal: text(m, span(m, spans, 'portal')), maxRows: num(m, span(m, spans, 'maximum rows')) };
  },
  encode(f) {
    return writeMessage('E', 'Execute', (w) => {
      w.cstring(f.portal, 'portal');
      w.int32(f.maxRows, 'maximum rows');
    });
  },
};

/** The portal an Execute names, if it was read: for the statement context. */
export function executePortal(m: DecodedMessage): string | undefined {
  // Type, length, then the portal.
  return stringAt(m.spans, 'portal', 2);
}
