/**
 * A 1 GiB DataRow passes through the codec without being held: the framer keeps a bounded
 * prefix, announces the message when its header arrives, and the decoder shows the
 * column's size and a bounded prefix, with the rest flagged as not retained.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../src/protocol/conversation.js';
import type { CodecEvent } from '../../src/protocol/types.js';
import { annotatedText } from '../../src/output/annotated.js';
import { int16, int32 } from '../helpers/wire.js';

describe('huge messages', () => {
  it('a 1 GiB DataRow is framed with a bounded prefix and annotated by size', () => {
    const valueLength = 1024 * 1024 * 1024 - 64;
    const body = 2 + 4 + valueLength;
    const header = Buffer.concat([Buffer.from('D'), int32(4 + body), int16(1), int32(valueLength)]);
    const conv = new Conversation({ retain: 64 * 1024 });
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const events: CodecEvent[] = [...conv.push('backend', header)];
    let left = valueLength;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      events.push(...conv.push('backend', n === chunk.length ? chunk : chunk.subarray(0, n)));
      left -= n;
    }
    events.push(...conv.push('backend', Buffer.concat([Buffer.from('Z'), int32(5), Buffer.from('I')])));
    assert.equal(events[0]!.kind, 'message-start');
    const messages = events.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
    assert.deepEqual(messages.map((m) => m.name), ['DataRow', 'ReadyForQuery']);
    const row = messages[0]!;
    assert.equal(row.frame.size, 1 + 4 + body);
    assert.equal(row.frame.bytes.length, 64 * 1024, 'only the retained prefix is held');
    assert.equal(row.frame.complete, false);
    assert.equal(row.error, undefined);
    assert.equal(messages[1]!.frame.offset, 1 + 4 + body, 'offsets stay absolute past the huge message');
    const text = annotatedText(row, { maxValueBytes: 16 });
    assert.match(text, new RegExp(`"a{16}"…\\(${valueLength - 16} more bytes\\)`));
    assert.doesNotMatch(text, /UNPARSED/);
  });
});
