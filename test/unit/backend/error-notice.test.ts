import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../../src/protocol/conversation.js';
import { describeSqlstate } from '../../../src/protocol/sqlstate.js';
import { msg } from '../../helpers/wire.js';
import { all, child, golden, malformed, top } from './helpers.js';

/** One error/notice field: Byte1 code + String value. */
const field = (code: string, value: string): string => `${code}${value}\0`;

describe('ErrorResponse (E)', () => {
  it('all 18 documented field codes plus an unknown one', () => {
    const bytes = msg(
      'E',
      field('S', 'ERROR'),
      field('V', 'ERROR'),
      field('C', '23505'),
      field('M', 'duplicate key value violates unique constraint "users_pkey"'),
      field('D', 'Key (id)=(1) already exists.'),
      field('H', 'Use another id.'),
      field('P', '15'),
      field('p', '3'),
      field('q', 'SELECT 1'),
      field('W', 'PL/pgSQL function f() line 3 at SQL statement'),
      field('s', 'public'),
      field('t', 'users'),
      field('c', 'id'),
      field('d', 'int4'),
      field('n', 'users_pkey'),
      field('F', 'nbtinsert.c'),
      field('L', '666'),
      field('R', '_bt_check_unique'),
      field('X', 'future'),
      [0],
    );
    const m = golden(
      bytes,
      [
        '"E" = ErrorResponse "\\x00\\x00\\x01\\x17" = 279 bytes',
        '  "S" = Severity "ERROR\\x00" = error: the current command is aborted',
        '  "V" = Severity (never localized) "ERROR\\x00" = error: the current command is aborted',
        '  "C" = Code "23505\\x00" = SQLSTATE 23505 unique_violation',
        '  "M" = Message "duplicate key value violates unique constraint \\"users_pkey\\"\\x00" = the primary human-readable error message',
        '  "D" = Detail "Key (id)=(1) already exists.\\x00" = an optional secondary error message carrying more detail',
        '  "H" = Hint "Use another id.\\x00" = an optional suggestion what to do about the problem',
        '  "P" = Position "15\\x00" = character 15 of the original query string (counted from 1)',
        '  "p" = Internal position "3\\x00" = character 3 of the internal command (counted from 1)',
        '  "q" = Internal query "SELECT 1\\x00" = the text of a failed internally-generated command',
        '  "W" = Where "PL/pgSQL function f() line 3 at SQL statement\\x00" = the context in which the error occurred (a call stack traceback)',
        '  "s" = Schema name "public\\x00" = the schema of the object associated with the error',
        '  "t" = Table name "users\\x00" = the table associated with the error',
        '  "c" = Column name "id\\x00" = the column associated with the error',
        '  "d" = Data type name "int4\\x00" = the data type associated with the error',
        '  "n" = Constraint name "users_pkey\\x00" = the constraint associated with the error',
        '  "F" = File "nbtinsert.c\\x00" = the source-code file where the error was reported',
        '  "L" = Line "666\\x00" = source-code line 666',
        '  "R" = Routine "_bt_check_unique\\x00" = the source-code routine reporting the error',
        '  "X" = unknown field code (the documentation says to ignore it) "future\\x00" = the value of an unknown field',
        '  "\\x00" = end of fields',
      ].join('\n'),
    );
    assert.equal(m.name, 'ErrorResponse');
    const fields = all(m, 'field');
    assert.equal(fields.length, 19);
    assert.deepEqual(
      fields.map((f) => [child(f, 'field type').value, child(f, 'value').value]).slice(0, 3),
      [
        ['S', 'ERROR'],
        ['V', 'ERROR'],
        ['C', '23505'],
      ],
    );
    assert.equal(child(fields[18]!, 'field type').meaning, 'unknown field code (the documentation says to ignore it)');
    assert.equal(top(m, 'terminator').start, bytes.length - 1);
  });

  it('a FATAL error in a localized server, and a SQLSTATE only known by its class', () => {
    golden(
      msg('E', field('S', 'FATAL'), field('C', '28P99'), field('M', 'x'), [0]),
      [
        '"E" = ErrorResponse "\\x00\\x00\\x00\\x16" = 22 bytes',
        '  "S" = Severity "FATAL\\x00" = fatal error: the session is ending',
        '  "C" = Code "28P99\\x00" = SQLSTATE 28P99 (class 28: invalid authorization specification)',
        '  "M" = Message "x\\x00" = the primary human-readable error message',
        '  "\\x00" = end of fields',
      ].join('\n'),
    );
    golden(
      msg('E', field('S', 'FEHLER'), field('V', 'ERROR'), [0]),
      [
        '"E" = ErrorResponse "\\x00\\x00\\x00\\x14" = 20 bytes',
        '  "S" = Severity "FEHLER\\x00" = a localized severity (the V field has the untranslated one)',
        '  "V" = Severity (never localized) "ERROR\\x00" = error: the current command is aborted',
        '  "\\x00" = end of fields',
      ].join('\n'),
    );
  });

  it('describes SQLSTATEs by condition, by class, or as unknown', () => {
    assert.deepEqual(
      ['42P01', '40P01', '57014', '22ZZZ', 'QQ000', '123'].map(describeSqlstate),
      [
        'SQLSTATE 42P01 undefined_table',
        'SQLSTATE 40P01 deadlock_detected',
        'SQLSTATE 57014 query_canceled',
        'SQLSTATE 22ZZZ (class 22: data exception)',
        'SQLSTATE QQ000 (unknown class QQ)',
        'SQLSTATE "123" (not five digits or upper-case letters)',
      ],
    );
  });

  it('a position that is not a decimal integer is shown, not failed', () => {
    const m = golden(
      msg('E', field('P', 'x1'), [0]),
      '"E" = ErrorResponse "\\x00\\x00\\x00\\t" = 9 bytes\n  "P" = Position "x1\\x00" = not a decimal integer (a position in the original query string was expected)\n  "\\x00" = end of fields',
    );
    assert.equal(all(m, 'field').length, 1);
  });

  it('ends a COPY as far as the context tracker is concerned', () => {
    const conv = new Conversation();
    conv.ctx.copy = 'in';
    conv.push('backend', msg('E', field('S', 'ERROR'), [0]));
    assert.equal(conv.ctx.copy, 'none');
  });

  describe('malformed', () => {
    it('missing its final zero byte', () => {
      malformed(msg('E', field('S', 'ERROR'), field('M', 'boom')), 'past-end', { at: 18, unparsed: false, name: 'ErrorResponse' });
    });
    it('cut short: a field value without its terminator', () => {
      const m = malformed(msg('E', field('S', 'ERROR'), 'Mboo'), 'past-end', { at: 13, unparsed: true });
      assert.equal(m.spans.at(-1)!.start, 13);
    });
    it('cut short: an empty body', () => {
      malformed(msg('E'), 'past-end', { at: 5, unparsed: false });
    });
    it('trailing bytes after the terminator', () => {
      malformed(msg('E', field('S', 'ERROR'), [0], 'junk'), 'trailing-bytes', { at: 13, unparsed: true });
    });
  });
});

describe('NoticeResponse (N)', () => {
  it('a NOTICE with its fields', () => {
    const m = golden(
      msg('N', field('S', 'NOTICE'), field('V', 'NOTICE'), field('C', '00000'), field('M', 'table "t" does not exist, skipping'), field('F', 'tablecmds.c'), field('L', '1300'), field('R', 'DropErrorMsgNonExistent'), [0]),
      [
        '"N" = NoticeResponse "\\x00\\x00\\x00l" = 108 bytes',
        '  "S" = Severity "NOTICE\\x00" = notice',
        '  "V" = Severity (never localized) "NOTICE\\x00" = notice',
        '  "C" = Code "00000\\x00" = SQLSTATE 00000 successful_completion',
        '  "M" = Message "table \\"t\\" does not exist, skipping\\x00" = the primary human-readable error message',
        '  "F" = File "tablecmds.c\\x00" = the source-code file where the error was reported',
        '  "L" = Line "1300\\x00" = source-code line 1300',
        '  "R" = Routine "DropErrorMsgNonExistent\\x00" = the source-code routine reporting the error',
        '  "\\x00" = end of fields',
      ].join('\n'),
    );
    assert.equal(m.name, 'NoticeResponse');
    assert.equal(all(m, 'field').length, 7);
  });

  it('a WARNING with a deprecated-feature code', () => {
    golden(
      msg('N', field('S', 'WARNING'), field('C', '01P01'), [0]),
      '"N" = NoticeResponse "\\x00\\x00\\x00\\x15" = 21 bytes\n  "S" = Severity "WARNING\\x00" = warning\n  "C" = Code "01P01\\x00" = SQLSTATE 01P01 deprecated_feature\n  "\\x00" = end of fields',
    );
  });

  describe('malformed', () => {
    it('missing its final zero byte', () => {
      malformed(msg('N', field('S', 'NOTICE')), 'past-end', { at: 13, unparsed: false, name: 'NoticeResponse' });
    });
    it('trailing bytes after the terminator', () => {
      malformed(msg('N', [0, 0]), 'trailing-bytes', { at: 6, unparsed: true });
    });
  });
});
