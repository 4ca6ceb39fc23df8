/**
 * Replication through a Conversation: START_REPLICATION, CopyBothResponse, then CopyData
 * decoded as replication messages, with the pgoutput stream state (Stream Start / Stream
 * Stop) deciding whether changes carry an xid.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import type { DecodedMessage } from '../../../src/protocol/types.js';
import { replay } from '../../helpers/decode.js';
import { msg } from '../../helpers/wire.js';
import { T1, T2, allSpans, copyData, cstr, int16, int32, int8, lsn, ts, uint32, xlog } from './build.js';

const START = `START_REPLICATION SLOT "sub" LOGICAL 0/0 (proto_version '2', streaming 'on', publication_names '"pub"')`;
const COPY_BOTH = msg('W', int8(0), int16(0));
const row = (...vals: string[]) => [int16(vals.length), ...vals.flatMap((v) => ['t', int32(v.length), v])];

function messages(events: ReturnType<typeof replay>): DecodedMessage[] {
  return events.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
}

describe('Conversation: logical replication with pgoutput', () => {
  it('decodes a streamed transaction with xids and a later one without', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const events = replay(
      [
        { dir: 'frontend', bytes: msg('Q', cstr(START)) },
        { dir: 'backend', bytes: COPY_BOTH },
        { dir: 'backend', bytes: xlog(['S', uint32(741), int8(1)]) },
        { dir: 'backend', bytes: xlog(['I', uint32(741), uint32(16384), 'N', ...row('1', 'a')]) },
        { dir: 'backend', bytes: xlog(['E']) },
        { dir: 'frontend', bytes: copyData('r', lsn('0/16B3790'), lsn('0/16B3790'), lsn('0/16B3790'), ts(T2), int8(0)) },
        { dir: 'backend', bytes: xlog(['c', uint32(741), int8(0), lsn('0/16B3800'), lsn('0/16B3830'), ts(T2)]) },
        { dir: 'backend', bytes: xlog(['B', lsn('0/16B3900'), ts(T1), uint32(742)]) },
        { dir: 'backend', bytes: xlog(['I', uint32(16384), 'N', ...row('2', 'b')]) },
        { dir: 'backend', bytes: xlog(['C', int8(0), lsn('0/16B3900'), lsn('0/16B3930'), ts(T1)]) },
        { dir: 'backend', bytes: copyData('k', lsn('0/16B3930'), ts(T2), int8(1)) },
      ],
      conv,
    );
    assert.deepEqual(events.map((e) => e.kind), Array(11).fill('message'));
    const ms = messages(events);
    for (const m of ms) {
      assert.equal(m.error, undefined, `${m.name} ${m.sub.join('/')}: ${m.error?.message}`);
      assert.ok(!allSpans(m.spans).some((s) => s.flag === 'unparsed'), `${m.name} has unparsed bytes`);
    }
    assert.deepEqual(
      ms.map((m) => [m.name, ...m.sub].join(' ')),
      [
        'Query',
        'CopyBothResponse',
        'CopyData XLogData StreamStart',
        'CopyData XLogData Insert',
        'CopyData XLogData StreamStop',
        'CopyData StandbyStatusUpdate',
        'CopyData XLogData StreamCommit',
        'CopyData XLogData Begin',
        'CopyData XLogData Insert',
        'CopyData XLogData Commit',
        'CopyData PrimaryKeepalive',
      ],
    );
    const xids = ms.map((m) => allSpans(m.spans).find((s) => s.name === 'xid')?.value);
    assert.equal(xids[3], 741, 'the streamed Insert carries its xid');
    assert.equal(xids[8], undefined, 'the Insert after Stream Stop has no xid');
    const rel = (m: DecodedMessage) => allSpans(m.spans).find((s) => s.name === 'relation OID')?.value;
    assert.equal(rel(ms[3]!), 16384);
    assert.equal(rel(ms[8]!), 16384);
    assert.equal(conv.ctx.replication?.inStream, false);
  });

  it('stops reading CopyData as replication once the stream ends', () => {
    const conv = new Conversation({ frontendMode: 'normal' });
    const ms = messages(
      replay(
        [
          { dir: 'frontend', bytes: msg('Q', cstr('START_REPLICATION SLOT "s" PHYSICAL 0/3000000 TIMELINE 1')) },
          { dir: 'backend', bytes: COPY_BOTH },
          { dir: 'backend', bytes: xlog([Buffer.from([1, 2, 3])]) },
          { dir: 'backend', bytes: msg('c') },
          { dir: 'frontend', bytes: msg('c') },
          { dir: 'backend', bytes: msg('C', cstr('START_STREAMING')) },
          { dir: 'backend', bytes: msg('Z', 'I') },
          { dir: 'backend', bytes: copyData('w') },
        ],
        conv,
      ),
    );
    assert.deepEqual(ms[2]!.sub, ['XLogData']);
    assert.equal(ms[2]!.error, undefined);
    // After ReadyForQuery a stray CopyData is plain COPY data again.
    assert.deepEqual(ms[7]!.sub, []);
    assert.equal(ms[7]!.error, undefined);
  });
});
