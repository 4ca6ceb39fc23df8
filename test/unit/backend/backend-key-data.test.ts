import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotatedText } from '../../../src/output/annotated.js';
import { int32, msg } from '../../helpers/wire.js';
import { decodeAt, golden, malformed, top } from './helpers.js';

describe('BackendKeyData (K)', () => {
  it('protocol 3.0: a 4-byte secret key', () => {
    const m = golden(
      msg('K', int32(4242), [0x12, 0x34, 0x56, 0x78]),
      '"K" = BackendKeyData "\\x00\\x00\\x00\\x0c" = 12 bytes "\\x00\\x00\\x10\\x92" = process ID: 4242 "\\x124Vx" = 4 bytes secret key (the protocol 3.0 size)',
      { protocol: { major: 3, minor: 0 } },
    );
    assert.equal(top(m, 'process ID').value, 4242);
    const key = top(m, 'secret key');
    assert.deepEqual(key.value, Buffer.from([0x12, 0x34, 0x56, 0x78]));
    assert.equal(key.secret, true);
    assert.deepEqual([key.start, key.end], [9, 13]);
    assert.equal(annotatedText(m, { redact: true }), '"K" = BackendKeyData "\\x00\\x00\\x00\\x0c" = 12 bytes "\\x00\\x00\\x10\\x92" = process ID: 4242 "<redacted 4 bytes>" = 4 bytes secret key (the protocol 3.0 size)');
  });

  it('protocol 3.2: a 32-byte secret key (what PostgreSQL 18 sends)', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 0x40));
    const m = golden(
      msg('K', int32(77), key),
      [
        '"K" = BackendKeyData "\\x00\\x00\\x00(" = 40 bytes',
        '  "\\x00\\x00\\x00M" = process ID: 77',
        '  "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_" = 32 bytes secret key (protocol 3.2+: up to 256 bytes)',
      ].join('\n'),
      { protocol: { major: 3, minor: 2 } },
    );
    assert.deepEqual(top(m, 'secret key').value, key);
  });

  it('says when a key longer than 4 bytes arrives on a protocol 3.0 connection', () => {
    const m = golden(
      msg('K', int32(1), Buffer.alloc(8, 1)),
      [
        '"K" = BackendKeyData "\\x00\\x00\\x00\\x10" = 16 bytes',
        '  "\\x00\\x00\\x00\\x01" = process ID: 1',
        '  "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01" = 8 bytes secret key (protocol 3.0 keys are always 4 bytes)',
      ].join('\n'),
      { protocol: { major: 3, minor: 0 } },
    );
    assert.equal(top(m, 'secret key').end - top(m, 'secret key').start, 8);
  });

  it('accepts the 256-byte maximum', () => {
    const m = decodeAt(msg('K', int32(1), Buffer.alloc(256, 7)));
    assert.equal(m.error, undefined);
    assert.equal(top(m, 'secret key').meaning, '256 bytes secret key (protocol 3.2+: up to 256 bytes)');
  });

  describe('malformed', () => {
    it('cut short: no process ID', () => {
      malformed(msg('K', [0, 1]), 'past-end', { at: 5, unparsed: true, name: 'BackendKeyData' });
    });
    it('a key over the documented 256-byte maximum', () => {
      malformed(msg('K', int32(1), Buffer.alloc(257)), 'bad-value', { at: 9, unparsed: true });
    });
  });
});
