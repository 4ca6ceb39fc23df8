/**
 * OutputTarget against a real FIFO whose reader stops reading: writing never blocks, the
 * queue is bounded, dropped batches are counted and marked where the gap is, --lossless
 * drops nothing and reports congestion instead, and a reader that goes away stops the
 * output (EPIPE) without an exception.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OutputTarget } from '../../../src/output/output-target.js';

const dir = mkdtempSync(join(tmpdir(), 'pgscope-target-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A FIFO with a reader end we hold open (non-blocking) but do not read until asked. */
function fifo(): { path: string; reader: number; readAll(): string } {
  const path = join(dir, `fifo-${n++}`);
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const readAll = (): string => {
    const chunks: Buffer[] = [];
    const b = Buffer.alloc(1 << 16);
    for (;;) {
      try {
        const got = readSync(reader, b, 0, b.length, null);
        if (got <= 0) break;
        chunks.push(Buffer.from(b.subarray(0, got)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  };
  return { path, reader, readAll };
}

/** `count` numbered lines of about 100 bytes, as one batch. */
function batch(from: number, count: number): string {
  let s = '';
  for (let i = from; i < from + count; i++) s += `line ${String(i).padStart(8, '0')} ${'x'.repeat(80)}\n`;
  return s;
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('OutputTarget over a FIFO whose reader stopped', () => {
  it('never blocks, keeps at most its limit queued, and marks the gap before what follows it', async () => {
    const f = fifo();
    const limit = 256 * 1024;
    const t = OutputTarget.openPath('--query-log', f.path, false, { unit: 'line', warn: assert.fail, limit, gapMarker: (units) => Buffer.from(`-- ${units} lines dropped --\n`) });
    // 50 MB offered to a reader that takes nothing: returns (a blocking write would hang here).
    let line = 0;
    for (let i = 0; i < 5000; i++) {
      t.writeText(batch(line, 100), 100);
      line += 100;
    }
    assert.ok(t.backlog <= limit, `backlog ${t.backlog}`);
    const dropped = t.dropped;
    assert.ok(dropped.units > 0 && dropped.units % 100 === 0, `whole batches dropped: ${dropped.units}`);
    // The reader catches up; the queue drains on the retry timer; a new batch follows the marker.
    let text = '';
    for (let i = 0; i < 200 && t.backlog > 0; i++) {
      text += f.readAll();
      await tick(5);
    }
    assert.equal(t.backlog, 0);
    t.writeText(batch(line, 1), 1);
    text += f.readAll();
    const lines = text.split('\n').filter(Boolean);
    assert.equal(lines.at(-2), `-- ${dropped.units} lines dropped --`);
    assert.match(lines.at(-1)!, new RegExp(`^line ${String(line).padStart(8, '0')} x+$`));
    // Every line before the marker is whole, in order, with no repeats: the gap is the only loss.
    const before = lines.slice(0, -2).map((l) => Number(/^line (\d+) x{80}$/.exec(l)![1]));
    assert.deepEqual(before, before.map((_, i) => i));
    assert.equal(before.length + dropped.units, line);
    t.close();
    closeSync(f.reader);
  });

  it('--lossless: nothing dropped; congestion reported past the limit and cleared once the reader catches up', async () => {
    const f = fifo();
    const limit = 128 * 1024;
    const events: boolean[] = [];
    const t = OutputTarget.openPath('--jsonl', f.path, false, { unit: 'line', warn: assert.fail, limit, lossless: true, onCongestion: (c) => events.push(c) });
    for (let i = 0; i < 40; i++) t.writeText(batch(i * 100, 100), 100);
    assert.deepEqual(events, [true]);
    assert.equal(t.dropped.units, 0);
    let text = '';
    for (let i = 0; i < 400 && t.backlog > 0; i++) {
      text += f.readAll();
      await tick(5);
    }
    text += f.readAll();
    assert.deepEqual(events, [true, false]);
    assert.equal(text.split('\n').filter(Boolean).length, 4000);
    t.close();
    closeSync(f.reader);
  });

  it('drain() gives up at its deadline while the reader is stalled, and succeeds once it reads', async () => {
    const f = fifo();
    const t = OutputTarget.openPath('--jsonl', f.path, false, { unit: 'line', warn: assert.fail });
    for (let i = 0; i < 20; i++) t.writeText(batch(i * 100, 100), 100);
    assert.ok(t.backlog > 0);
    assert.equal(await t.drain(Date.now() + 50), false);
    const reading = setInterval(() => f.readAll(), 2);
    assert.equal(await t.drain(Date.now() + 10_000), true);
    clearInterval(reading);
    t.close();
    closeSync(f.reader);
  });

  it('a reader that goes away stops the output: onBrokenPipe, once, and no exception', () => {
    const f = fifo();
    let gone = 0;
    const t = OutputTarget.openPath('--jsonl', f.path, false, { unit: 'line', warn: assert.fail, onBrokenPipe: () => gone++ });
    closeSync(f.reader);
    assert.doesNotThrow(() => t.writeText('one\n', 1));
    assert.doesNotThrow(() => t.writeText('two\n', 1));
    assert.equal(gone, 1);
    t.close();
  });

  it('without onBrokenPipe, a write error is one warning naming the output', () => {
    const f = fifo();
    const warnings: string[] = [];
    const t = OutputTarget.openPath('--jsonl', f.path, false, { unit: 'line', warn: (w) => warnings.push(w) });
    closeSync(f.reader);
    t.writeText('one\n', 1);
    t.writeText('two\n', 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`^--jsonl ${f.path}: cannot write any more \\(.*EPIPE.*\\): this output stopped, proxying goes on$`));
    t.close();
  });
});
