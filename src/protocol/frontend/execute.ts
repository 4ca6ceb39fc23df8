import type { MessageDecoder } from '../decoder.js';
import { plural } from '../values.js';
import { readObjectName } from './fields.js';

/**
 * Execute (F, 'E'):
 *   String — "The name of the portal to execute (an empty string selects the unnamed portal)."
 *   Int32  — "Maximum number of rows to return, if portal contains a query that returns
 *            rows (ignored otherwise). Zero denotes “no limit”."
 */
export const execute: MessageDecoder = {
  name: 'Execute',
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
};
