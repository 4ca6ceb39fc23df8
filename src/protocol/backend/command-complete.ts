import type { MessageCodec } from '../decoder.js';
import { isMessage, span, stringAt, text, wholeSpans } from '../spans.js';
import type { DecodedMessage } from '../types.js';
import { writeMessage } from '../writer.js';
import { plural } from '../values.js';
import { lookup } from './lookup.js';

/** Tags ending in a row count ("the number of rows …"), with what happened to the rows. */
const ROW_TAGS: Record<string, string> = {
  DELETE: 'deleted',
  UPDATE: 'updated',
  MERGE: 'merged',
  SELECT: '', // also CREATE TABLE AS: "the number of rows retrieved"
  MOVE: 'moved over',
  FETCH: 'fetched',
  COPY: 'copied',
};

/** "INSERT 0 5: 5 rows inserted", "SELECT 3: 3 rows", "BEGIN: command tag". */
export function describeCommandTag(tag: string): string {
  const insert = /^INSERT (\d+) (\d+)$/.exec(tag);
  if (insert) {
    // "oid used to be the object ID of the inserted row if rows was 1 and the target table
    // had OIDs, but OIDs system columns are not supported anymore; therefore oid is always 0."
    const oid = insert[1] === '0' ? '' : `, oid ${insert[1]}`;
    return `${tag}: ${plural(Number(insert[2]), 'row')} inserted${oid}`;
  }
  const m = /^([A-Z]+) (\d+)$/.exec(tag);
  const verb = m ? lookup(ROW_TAGS, m[1]!) : undefined;
  if (m && verb !== undefined) return `${tag}: ${plural(Number(m[2]), 'row')}${verb ? ` ${verb}` : ''}`;
  return `${tag}: command tag`;
}

/**
 * CommandComplete (B, 'C'): String — "The command tag. This is usually a single word that
 * identifies which SQL command was completed." INSERT, DELETE, UPDATE, MERGE, SELECT
 * (or CREATE TABLE AS), MOVE, FETCH and COPY tags end with a row count.
 */
export interface CommandComplete {
  /** "The command tag": SELECT 3, INSERT 0 5, BEGIN … */
  commandTag: string;
}

export const commandComplete: MessageCodec<CommandComplete> = {
  name: 'CommandComplete',
  readsContext: false,
  decode(r) {
    r.cstring('command tag', describeCommandTag);
  },
  fields(m) {
    const spans = wholeSpans(m, 'CommandComplete', isMessage(m, 'backend', 'C'));
    return { commandTag: text(m, span(m, spans, 'command tag')) };
  },
  encode(f) {
    return writeMessage('C', 'CommandComplete', (w) => w.cstring(f.commandTag, 'command tag'));
  },
};

/** A CommandComplete's tag, if it was read: for the statement context. */
export function commandTagAsRead(m: DecodedMessage): string | undefined {
  // Type, length, then the tag.
  return stringAt(m.spans, 'command tag', 2);
}
