/**
 * findBoundary (src/capture/message-boundary.ts): where decoding can start again in bytes
 * that do not start at a message: inside a DataRow, inside a Query, after random bytes;
 * waiting for more when a candidate cannot be confirmed yet; nothing when no message can
 * start. And KeyLog (src/capture/tls/key-log.ts): lines it takes, lines it counts as bad,
 * a file that grows, a symbolic link refused.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findBoundary } from '../../../src/capture/message-boundary.js';
import { KeyLog, KeyLogError } from '../../../src/capture/tls/key-log.js';
import { cstr, int16, int32, msg } from '../../helpers/wire.js';

const row = (v: string): Buffer => msg('D', int16(1), int32(v.length), v);
const backend = Buffer.concat([row('alpha'), row('beta'), msg('C', cstr('SELECT 2')), msg('Z', 'I')]);

describe('findBoundary', () => {
  it('inside a DataRow: the next message, confirmed by the chain of headers after it', () => {
    for (let cut = 1; cut < row('alpha').length; cut++) {
      const found = findBoundary(backend.subarray(cut), 'backend');
      assert.deepEqual(found, { at: row('alpha').length - cut }, `cut at ${cut}`);
    }
  });

  it('a message that ends exactly where the bytes end is a boundary; one cut short waits for more', () => {
    assert.deepEqual(findBoundary(msg('Z', 'I'), 'backend'), { at: 0 });
    const tail = Buffer.concat([Buffer.from('xx'), row('alpha').subarray(0, 8)]);
    assert.equal(findBoundary(tail, 'backend'), 'more');
    assert.deepEqual(findBoundary(Buffer.concat([Buffer.from('xx'), row('alpha')]), 'backend'), { at: 2 });
  });

  it('client messages: inside a Query, the next Query is found', () => {
    const client = Buffer.concat([msg('Q', cstr('select 1')), msg('Q', cstr('select 2')), msg('X')]);
    assert.deepEqual(findBoundary(client.subarray(3), 'frontend'), { at: msg('Q', cstr('select 1')).length - 3 });
  });

  it('bytes where no message can start: null (they can all be skipped); at the end, an unconfirmed candidate is none', () => {
    assert.equal(findBoundary(Buffer.from('\x00\x01\x02\xff\xfe'), 'backend'), null);
    // 'D' with a length running past the end: at the very end it is not believed.
    const lone = Buffer.from([0x44, 0, 0, 0x10, 0]);
    assert.equal(findBoundary(lone, 'backend'), 'more');
    assert.equal(findBoundary(lone, 'backend', true), null);
  });

  it('ReadyForQuery is only believed with length 5 and a status of I, T or E', () => {
    assert.equal(findBoundary(Buffer.from([0x5a, 0, 0, 0, 5, 0x51]), 'backend'), null);
    assert.deepEqual(findBoundary(Buffer.from([0x5a, 0, 0, 0, 5, 0x54]), 'backend'), { at: 0 });
  });
});

describe('KeyLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgscope-keylog-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const random = 'ab'.repeat(32);
  const secret = 'cd'.repeat(48);

  it('takes the labels it uses, ignores others and comments, counts lines that are not key-log lines', () => {
    const f = join(dir, 'keys.txt');
    writeFileSync(f, [`# a comment`, `CLIENT_RANDOM ${random} ${secret}`, `EXPORTER_SECRET ${random} ${secret}`, 'not a key line', `SERVER_TRAFFIC_SECRET_0 ${random.toUpperCase()} ${secret}`, ''].join('\n'));
    const k = new KeyLog();
    k.add(f);
    const s = k.secrets(Buffer.from(random, 'hex'));
    assert.deepEqual([...(s?.keys() ?? [])], ['CLIENT_RANDOM', 'SERVER_TRAFFIC_SECRET_0']);
    assert.deepEqual(k.problems(), [`${f}: 1 of 5 lines are not key-log lines (LABEL <client random> <secret>; the first is line 4)`]);
  });

  it('a file still being written is read again for a client random not in it yet; a half-written line waits', () => {
    const f = join(dir, 'growing.txt');
    writeFileSync(f, '');
    const k = new KeyLog();
    k.add(f);
    const other = 'ef'.repeat(32);
    assert.equal(k.secrets(Buffer.from(other, 'hex')), null);
    appendFileSync(f, `CLIENT_RANDOM ${other} ${secret.slice(0, 10)}`);
    assert.equal(k.secrets(Buffer.from(other, 'hex')), null, 'the line is not finished');
    appendFileSync(f, `${secret.slice(10)}\n`);
    assert.equal(k.secrets(Buffer.from(other, 'hex'))?.get('CLIENT_RANDOM')?.toString('hex'), secret);
  });

  it('a missing file or a symbolic link: a KeyLogError naming the flag and the file', () => {
    const target = join(dir, 'target.txt');
    writeFileSync(target, '');
    const link = join(dir, 'link.txt');
    symlinkSync(target, link);
    assert.throws(() => new KeyLog().add(link), (e: unknown) => e instanceof KeyLogError && e.message === `--keylog ${link}: is a symbolic link (not followed)`);
    assert.throws(() => new KeyLog().add(join(dir, 'nope')), (e: unknown) => e instanceof KeyLogError && e.message.startsWith(`--keylog ${join(dir, 'nope')}: ENOENT`));
  });
});
