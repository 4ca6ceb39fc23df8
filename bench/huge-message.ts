/**
 * Prints how fast the codec frames a 1 GiB DataRow arriving in 64 KiB chunks, and the
 * peak RSS, next to a loop that only touches the same chunks (the floor).
 *   npx tsx bench/huge-message.ts
 */
import { Conversation } from '../src/protocol/conversation.js';

const SIZE = 1024 * 1024 * 1024;
const CHUNK = 64 * 1024;

function header(): Buffer {
  const h = Buffer.alloc(11);
  h.write('D', 0);
  h.writeInt32BE(4 + 2 + 4 + SIZE, 1);
  h.writeInt16BE(1, 5);
  h.writeInt32BE(SIZE, 7);
  return h;
}

function run(label: string, withCodec: boolean): void {
  const chunk = Buffer.alloc(CHUNK, 0x61);
  const conv = new Conversation();
  const t0 = process.hrtime.bigint();
  let sum = 0;
  if (withCodec) conv.push('backend', header());
  for (let sent = 0; sent < SIZE; sent += CHUNK) {
    if (withCodec) conv.push('backend', chunk);
    else sum += chunk[sent % CHUNK]!;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(`${label.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms  ${((SIZE / 1024 / 1024 / ms) * 1000).toFixed(0).padStart(7)} MiB/s  rss ${rss.toFixed(0)} MiB${sum < 0 ? '' : ''}`);
}

run('loop over chunks (floor)', false);
run('codec: frame 1 GiB DataRow', true);
