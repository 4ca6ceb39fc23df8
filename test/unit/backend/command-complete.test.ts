import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeCommandTag } from '../../../src/protocol/backend/command-complete.js';
import { cstr, msg } from '../../helpers/wire.js';
import { golden, malformed, top } from './helpers.js';

describe('CommandComplete (C)', () => {
  it('INSERT oid rows', () => {
    const m = golden(msg('C', cstr('INSERT 0 5')), '"C" = CommandComplete "\\x00\\x00\\x00\\x0f" = 15 bytes "INSERT 0 5\\x00" = INSERT 0 5: 5 rows inserted');
    assert.equal(top(m, 'command tag').value, 'INSERT 0 5');
  });

  it('SELECT rows and a tag without a count', () => {
    golden(msg('C', cstr('SELECT 3')), '"C" = CommandComplete "\\x00\\x00\\x00\\r" = 13 bytes "SELECT 3\\x00" = SELECT 3: 3 rows');
    golden(msg('C', cstr('CREATE TABLE')), '"C" = CommandComplete "\\x00\\x00\\x00\\x11" = 17 bytes "CREATE TABLE\\x00" = CREATE TABLE: command tag');
  });

  it('describes every tag that carries a row count', () => {
    assert.deepEqual(
      ['INSERT 0 1', 'INSERT 16385 1', 'DELETE 0', 'UPDATE 2', 'MERGE 4', 'SELECT 1', 'MOVE 6', 'FETCH 7', 'COPY 8', 'BEGIN', 'UPDATE x'].map(describeCommandTag),
      [
        'INSERT 0 1: 1 row inserted',
        'INSERT 16385 1: 1 row inserted, oid 16385',
        'DELETE 0: 0 rows deleted',
        'UPDATE 2: 2 rows updated',
        'MERGE 4: 4 rows merged',
        'SELECT 1: 1 row',
        'MOVE 6: 6 rows moved over',
        'FETCH 7: 7 rows fetched',
        'COPY 8: 8 rows copied',
        'BEGIN: command tag',
        'UPDATE x: command tag',
      ],
    );
  });

  describe('malformed', () => {
    it('cut short: the tag has no terminator', () => {
      malformed(msg('C', 'SELECT 1'), 'past-end', { at: 5, unparsed: true, name: 'CommandComplete' });
    });
    it('trailing bytes after the tag', () => {
      malformed(msg('C', cstr('BEGIN'), 'x'), 'trailing-bytes', { at: 11, unparsed: true });
    });
  });
});
