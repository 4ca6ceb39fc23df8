/**
 * How fast each output turns events into a file, without any network: every recording in
 * test/fixtures, decoded once into the events the proxy would report (connection facts,
 * labelled codec events, forwarded-batch notes, typed values and statement records from
 * the statement stage), fed N times through
 *   - the annotated text log (TextLog → LineWriter → OutputTarget), as `-l FILE`;
 *   - JSON lines (JsonlSink → ByteLines → OutputTarget), as `--jsonl FILE --log-forwarded none`;
 *   - the JSON lines sink as it was before issue 6 (test/unit/jsonl/reference), for comparison.
 * Prints events/s and MB/s of each, the median of 5 runs, side by side.
 *
 *   npx tsx bench/sinks.ts                     # N = 200 passes over all recordings
 *   SINKS_N=50 SINKS_ONLY=jsonl npx tsx bench/sinks.ts   # only these sides, by name, comma-separated (for --cpu-prof)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlSink } from '../src/output/jsonl/jsonl-sink.js';
import { ByteLines } from '../src/output/byte-lines.js';
import { LineWriter } from '../src/output/line-writer.js';
import { OutputTarget } from '../src/output/output-target.js';
import { MONOCHROME } from '../src/output/style.js';
import { TextLog } from '../src/output/text-log.js';
import type { ProxyEvent } from '../src/session/events.js';
import { loadFixtures } from '../test/helpers/fixtures.js';
import { proxyEvents } from '../test/unit/jsonl/proxy-events.js';
import { JsonlSink as ReferenceJsonlSink } from '../test/unit/jsonl/reference/jsonl-sink.js';

const N = Number(process.env.SINKS_N ?? 200);
const RUNS = Number(process.env.SINKS_RUNS ?? 5);
const ONLY = process.env.SINKS_ONLY ?? '';
const MAX_VALUE_BYTES = 256; // pgscope's default --max-value-bytes

const events = proxyEvents(loadFixtures());
const dir = mkdtempSync(join(tmpdir(), 'pgscope-sinks-'));

/** A sink over a file, and how to flush what it batched. */
type Make = (file: OutputTarget) => { sink: { write(ev: ProxyEvent): void }; flush(): void };
const textSide =
  (make: (lines: LineWriter) => { write(ev: ProxyEvent): void }): Make =>
  (file) => {
    const lines = new LineWriter((t, n) => file.writeText(t, n));
    return { sink: make(lines), flush: () => lines.flush() };
  };
const sides: [string, Make][] = [
  ['annotated -l', textSide((lines) => new TextLog(lines, { forwarded: 'annotated', style: MONOCHROME, maxValueBytes: MAX_VALUE_BYTES, verbose: false, redact: false }))],
  [
    'jsonl',
    (file) => {
      const lines = new ByteLines((b, n) => file.write(b, n));
      return { sink: new JsonlSink(lines, { redact: false, maxRawBytes: Math.max(MAX_VALUE_BYTES, 1024) }), flush: () => lines.flush() };
    },
  ],
  ['jsonl (before)', textSide((lines) => new ReferenceJsonlSink(lines, { redact: false, maxRawBytes: Math.max(MAX_VALUE_BYTES, 1024) }))],
];
const chosen = sides.filter(([name]) => !ONLY || ONLY.split(',').includes(name));

/** One run: N passes over the events into a fresh file; seconds and bytes written. */
function once(make: Make, name: string): { s: number; bytes: number } {
  const path = join(dir, `${name.replace(/\W+/g, '_')}.out`);
  const file = OutputTarget.openPath('bench', path, false, { unit: 'line', warn: (t) => console.error(t) });
  const { sink, flush } = make(file);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) for (const ev of events) sink.write(ev);
  flush();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  file.close();
  const bytes = statSync(path).size;
  rmSync(path);
  return { s, bytes };
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

console.error(`${events.length} events per pass (${loadFixtures().length} recordings), ${N} passes, median of ${RUNS} runs`);
for (const [name, make] of chosen) once(make, name); // warm-up
const results = new Map<string, { s: number[]; bytes: number }>(chosen.map(([name]) => [name, { s: [], bytes: 0 }]));
for (let r = 0; r < RUNS; r++) {
  for (const [name, make] of chosen) {
    const { s, bytes } = once(make, name);
    const res = results.get(name)!;
    res.s.push(s);
    res.bytes = bytes;
  }
}
rmSync(dir, { recursive: true, force: true });

const base = median(results.get(chosen[0]![0])!.s);
console.log(`${'output'.padEnd(16)} ${'events/s'.padStart(10)} ${'MB/s'.padStart(7)} ${'MB'.padStart(7)} ${'× first'.padStart(8)}`);
for (const [name, res] of results) {
  const s = median(res.s);
  const evs = (events.length * N) / s;
  console.log(`${name.padEnd(16)} ${evs.toFixed(0).padStart(10)} ${(res.bytes / 1e6 / s).toFixed(1).padStart(7)} ${(res.bytes / 1e6).toFixed(1).padStart(7)} ${(base / s).toFixed(2).padStart(8)}`);
}
