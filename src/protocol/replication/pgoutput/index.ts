import type { ReplicationState } from '../../context.js';
import type { Reader } from '../../reader.js';
import { begin } from './begin.js';
import { beginPrepare } from './begin-prepare.js';
import { commit } from './commit.js';
import { commitPrepared } from './commit-prepared.js';
import type { PgoutputCodec } from './decoder.js';
import { del } from './delete.js';
import { insert } from './insert.js';
import { message } from './message.js';
import { origin } from './origin.js';
import { prepare } from './prepare.js';
import { relation } from './relation.js';
import { rollbackPrepared } from './rollback-prepared.js';
import { streamAbort } from './stream-abort.js';
import { streamCommit } from './stream-commit.js';
import { streamPrepare } from './stream-prepare.js';
import { streamStart } from './stream-start.js';
import { streamStop } from './stream-stop.js';
import { truncate } from './truncate.js';
import { type } from './type.js';
import { update } from './update.js';

/** pgoutput messages by their identifying Byte1 ("Logical Replication Message Formats"). */
export const pgoutputDecoders: Record<string, PgoutputCodec> = {
  B: begin,
  M: message,
  C: commit,
  O: origin,
  R: relation,
  Y: type,
  I: insert,
  U: update,
  D: del,
  T: truncate,
  S: streamStart,
  E: streamStop,
  c: streamCommit,
  A: streamAbort,
  b: beginPrepare,
  P: prepare,
  K: commitPrepared,
  r: rollbackPrepared,
  p: streamPrepare,
};

/**
 * Decode one pgoutput message (the whole readable region of the Reader) and return its
 * name for DecodedMessage.sub ("Insert", "StreamStart", …). An unknown identifying byte
 * stops decoding: the rest becomes unparsed.
 */
export function decodePgoutput(r: Reader, state: ReplicationState): string {
  const letter = r.char('message type', (c) => (Object.prototype.hasOwnProperty.call(pgoutputDecoders, c) ? pgoutputDecoders[c]!.name : 'unknown pgoutput message type'));
  const dec = Object.prototype.hasOwnProperty.call(pgoutputDecoders, letter) ? pgoutputDecoders[letter] : undefined;
  if (!dec) {
    r.fail('bad-value', `a pgoutput message type (one of ${Object.keys(pgoutputDecoders).join(' ')}), got ${JSON.stringify(letter)} (0x${letter.charCodeAt(0).toString(16).padStart(2, '0')})`, r.pos - 1);
  }
  dec.decode(r, state);
  return dec.sub;
}
