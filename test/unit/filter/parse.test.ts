import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFilter, parseFilter } from '../../../src/output/filter/filter.js';

const canon = (e: string): string => parseFilter(e).canonical;

test('precedence: not binds tighter than and, and tighter than or; a comma list tightest', () => {
  assert.equal(canon('client or server and not DataRow'), 'client or server and not DataRow');
  assert.equal(canon('(client or server) and not DataRow'), '(client or server) and not DataRow');
  assert.equal(canon('not (Query and client)'), 'not (Query and client)');
  assert.equal(canon('not Query,Parse'), 'not Query,Parse');
  assert.equal(canon('(not Query),Parse'), '(not Query),Parse');
  assert.equal(canon('not not errors'), 'not not errors');
  assert.equal(canon('((queries))'), 'queries');
});

test('canonical text parses back to the same canonical text', () => {
  for (const e of ['Sync', 'not (Query or Parse) and (conn=2-5 or server)', '(client and Query),Parse', 'not (Bind or Sync), Close', '(Query,Parse),(Bind or Sync)']) {
    const c = canon(e);
    assert.equal(canon(c), c);
  }
});

test('names and keywords are case-insensitive and spelled back as the codec spells them', () => {
  assert.equal(canon('query,ERRORRESPONSE,xlogdata, streamstart'), 'Query,ErrorResponse,XLogData,StreamStart');
  assert.equal(canon('SERVER AND NOT datarow OR Conn=3'), 'server and not DataRow or conn=3');
  assert.equal(canon('PGSCOPE or Queries or ERRORS'), 'pgscope or queries or errors');
});

test('whitespace is free, and conn takes a number or an inclusive range', () => {
  assert.equal(canon('  conn = 3  '), 'conn=3');
  assert.equal(canon('conn=2 - 5'), 'conn=2-5');
  assert.equal(canon('conn=4-4'), 'conn=4');
  assert.equal(canon('(client)and(Query ,Parse)'), 'client and Query,Parse');
  assert.equal(canon('\tclient\nor\rserver'), 'client or server');
});

test('describeFilter is the start-up line', () => {
  assert.equal(describeFilter(parseFilter('server and not datarow')), '--filter: showing only server and not DataRow');
  assert.equal(parseFilter(' server ').source, ' server ');
});
