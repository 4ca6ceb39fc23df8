import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { msg } from '../../helpers/wire.js';
import { golden, malformed } from './helpers.js';

/** Messages that are only a type byte and Int32(4). */
const EMPTY: [type: string, name: string][] = [
  ['1', 'ParseComplete'],
  ['2', 'BindComplete'],
  ['3', 'CloseComplete'],
  ['I', 'EmptyQueryResponse'],
  ['n', 'NoData'],
  ['s', 'PortalSuspended'],
  ['c', 'CopyDone'],
];

describe('messages without a body', () => {
  for (const [type, name] of EMPTY) {
    it(`${name} (${type})`, () => {
      const m = golden(msg(type), `"${type}" = ${name} "\\x00\\x00\\x00\\x04" = 4 bytes`);
      assert.equal(m.name, name);
      assert.deepEqual(
        m.spans.map((s) => s.name),
        ['type', 'length'],
      );
    });

    it(`${name} (${type}) with trailing bytes`, () => {
      const m = malformed(msg(type, [0, 1]), 'trailing-bytes', { at: 5, unparsed: true, name });
      assert.equal(m.spans.at(-1)!.meaning, '2 byte(s) left after the last field');
    });
  }
});
