import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enhancedPacketBlock, MAX_OPTION_BYTES, OPT_COMMENT, textOption, utf8Prefix } from '../../../src/output/pcapng/blocks.js';
import { PcapngSink } from '../../../src/output/pcapng/index.js';
import { MAX_REASON_CHARS } from '../../../src/output/pcapng/pcapng-sink.js';
import { closed, opened, serverConnected, wire } from './events.js';
import { followStreams, memoryWriter, readBlocks, readPackets } from './read-pcapng.js';

const T0 = 1_700_000_000_000;

test('a close reason quoting ~70 KB of server text makes a short FIN comment, not a RangeError', () => {
  const w = memoryWriter();
  const sink = new PcapngSink(w, { redact: false });
  sink.write(opened(1, T0, { address: '127.0.0.1', port: 40000 }));
  sink.write(serverConnected(1, T0, { address: '127.0.0.1', port: 5432 }));
  sink.write(wire(1, T0, 'frontend', 0, Buffer.from('abc')));
  const reason = `the server said: ${'é'.repeat(70_000)}`;
  assert.doesNotThrow(() => sink.write(closed(1, T0 + 1, reason)));
  sink.close();
  const [s] = followStreams(readPackets(w.bytes()));
  assert.ok(s!.closed);
  assert.match(s!.finComment!, /^pgscope connection #1 closed: the server said: é+… \(0 bytes from the client, 0 from the server\)$/);
  assert.ok(s!.finComment!.length < MAX_REASON_CHARS + 100);
});

test('text options are cut to fit the 16-bit length, never inside a character', () => {
  const long = 'a' + '€'.repeat(30_000); // 90,001 bytes of UTF-8
  const o = textOption(OPT_COMMENT, long);
  assert.ok(o.value.length <= MAX_OPTION_BYTES);
  assert.equal(o.value.length, 1 + 3 * 21_844);
  assert.equal(o.value.toString('utf8'), 'a' + '€'.repeat(21_844));
  assert.equal(utf8Prefix('abc', 10).toString(), 'abc');
  // A raw option longer than that is cut too, and the block reads back.
  const block = enhancedPacketBlock(0, 0, Buffer.from('x'), [{ code: OPT_COMMENT, value: Buffer.alloc(70_000, 0x41) }]);
  const [b] = readBlocks(block);
  assert.equal(b!.type, 6);
});
