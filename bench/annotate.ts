/**
 * Where the annotated log's time goes, in-process and without sockets: each stream below
 * is pushed through the codec in 16 KiB chunks (as TLS records arrive), then
 *   1. framing + decoding only (Conversation.push)
 *   2. + statements (values typed while decoding, and the statement stage, as the annotated
 *      log runs them: typed, no records)
 *   3. + annotated rendering (TextLog → LineWriter → a sink that only counts characters)
 * Each figure is the median of RUNS (default 5) timed passes after one warm-up pass; it
 * prints messages/s and MB/s (of wire bytes) per stage.
 *
 *   npx tsx bench/annotate.ts                 (STREAMS=copy,pgbench-prepared to pick)
 *   node --import tsx --cpu-prof bench/annotate.ts
 *
 * Streams: every recording in test/fixtures/*.json (repeated to a few MB), a synthetic
 * `COPY … TO STDOUT` (CopyData of ~1 kB text lines), and pgbench -S shaped traffic in
 * both protocols (Bind/Execute/Sync → BindComplete/DataRow/CommandComplete/ReadyForQuery,
 * and Query → RowDescription/DataRow/CommandComplete/ReadyForQuery).
 */
import { Conversation } from '../src/protocol/conversation.js';
import type { FramerMode } from '../src/protocol/framer.js';
import type { Direction } from '../src/protocol/types.js';
import { LineWriter } from '../src/output/line-writer.js';
import { StatementStage } from '../src/session/statement-stage.js';
import { MONOCHROME } from '../src/output/style.js';
import { TextLog } from '../src/output/text-log.js';
import type { ProxyEvent } from '../src/session/events.js';
import { loadFixtures } from '../test/helpers/fixtures.js';
import { cstr, int16, int32, msg, startupMessage } from '../test/helpers/wire.js';

const RUNS = Math.max(1, Number(process.env['RUNS'] ?? 5));
const CHUNK = 16 * 1024;

interface Stream {
  name: string;
  chunks: { dir: Direction; bytes: Buffer }[];
  frontendMode: FramerMode;
  bytes: number;
}

function chunked(name: string, parts: { dir: Direction; bytes: Buffer }[], frontendMode: FramerMode): Stream {
  // Consecutive parts of one direction are joined and cut into CHUNK-sized pieces.
  const chunks: { dir: Direction; bytes: Buffer }[] = [];
  let dir: Direction | null = null;
  let pending: Buffer[] = [];
  const flush = (): void => {
    if (dir === null || pending.length === 0) return;
    const all = Buffer.concat(pending);
    for (let i = 0; i < all.length; i += CHUNK) chunks.push({ dir, bytes: all.subarray(i, i + CHUNK) });
    pending = [];
  };
  for (const p of parts) {
    if (p.dir !== dir) {
      flush();
      dir = p.dir;
    }
    pending.push(p.bytes);
  }
  flush();
  return { name, chunks, frontendMode, bytes: chunks.reduce((n, c) => n + c.bytes.length, 0) };
}

function copyStream(mb: number): Stream {
  const parts: { dir: Direction; bytes: Buffer }[] = [];
  parts.push({ dir: 'frontend', bytes: msg('Q', cstr("COPY (SELECT repeat('x', 1000) || g FROM generate_series(1, 100000) g) TO STDOUT")) });
  parts.push({ dir: 'backend', bytes: msg('H', [0], int16(1), int16(0)) });
  const rows = Math.round((mb * 1024 * 1024) / 1012);
  const pad = 'x'.repeat(1000);
  const body: Buffer[] = [];
  for (let g = 1; g <= rows; g++) body.push(msg('d', `${pad}${g}\n`));
  body.push(msg('c'), msg('C', cstr(`COPY ${rows}`)), msg('Z', 'I'));
  parts.push({ dir: 'backend', bytes: Buffer.concat(body) });
  return chunked('copy-out (1 kB lines)', parts, 'normal');
}

/** pgbench -S: one SELECT by primary key per transaction, answered with one int4 column. */
function pgbenchStream(protocol: 'simple' | 'prepared', txns: number): Stream {
  const parts: { dir: Direction; bytes: Buffer }[] = [];
  const sql = 'SELECT abalance FROM pgbench_accounts WHERE aid = $1;';
  const rowDesc = msg('T', int16(1), cstr('abalance'), int32(16396), int16(3), int32(23), int16(4), int32(-1), int16(0));
  if (protocol === 'prepared') {
    parts.push({ dir: 'frontend', bytes: Buffer.concat([msg('P', cstr('P0_1'), cstr(sql), int16(1), int32(23)), msg('S')]) });
    parts.push({ dir: 'backend', bytes: Buffer.concat([msg('1'), msg('Z', 'I')]) });
  }
  for (let t = 0; t < txns; t++) {
    const aid = String(1 + ((t * 7919) % 100000));
    const balance = String((t % 5000) - 2500);
    if (protocol === 'prepared') {
      parts.push({ dir: 'frontend', bytes: Buffer.concat([msg('B', cstr(''), cstr('P0_1'), int16(1), int16(0), int16(1), int32(aid.length), aid, int16(1), int16(0)), msg('E', cstr(''), int32(0)), msg('S')]) });
      parts.push({ dir: 'backend', bytes: Buffer.concat([msg('2'), msg('D', int16(1), int32(balance.length), balance), msg('C', cstr('SELECT 1')), msg('Z', 'I')]) });
    } else {
      parts.push({ dir: 'frontend', bytes: msg('Q', cstr(`SELECT abalance FROM pgbench_accounts WHERE aid = ${aid};`)) });
      parts.push({ dir: 'backend', bytes: Buffer.concat([rowDesc, msg('D', int16(1), int32(balance.length), balance), msg('C', cstr('SELECT 1')), msg('Z', 'I')]) });
    }
  }
  // Each transaction is its own round trip: a chunk per direction change, never joined.
  return { name: `pgbench -S -M ${protocol}`, chunks: parts, frontendMode: 'normal', bytes: parts.reduce((n, c) => n + c.bytes.length, 0) };
}

function fixtureStream(): Stream {
  const fixtures = loadFixtures();
  const parts: { dir: Direction; bytes: Buffer }[] = [];
  for (const f of fixtures) parts.push(...f.chunks);
  const once = parts.reduce((n, c) => n + c.bytes.length, 0);
  return { name: `fixtures (${fixtures.length} recordings)`, chunks: parts, frontendMode: 'startup', bytes: once };
}

type Stage = 'decode' | 'statements' | 'annotated';

/** One pass over a stream; returns [messages, characters written]. */
function pass(s: Stream, stage: Stage, repeat: number): [number, number] {
  let messages = 0;
  let chars = 0;
  const writer = new LineWriter((t) => {
    chars += t.length;
  });
  const text = new TextLog(writer, { forwarded: 'annotated', style: MONOCHROME, maxValueBytes: 256, verbose: false, redact: false });
  const sink = stage === 'annotated' ? (ev: ProxyEvent): void => text.write(ev) : (): void => {};
  const statements = stage === 'decode' ? null : new StatementStage(sink, { redact: false, typed: true, records: false });
  const out = statements ? (ev: ProxyEvent): void => statements.write(ev) : sink;
  for (let r = 0; r < repeat; r++) {
    const conn = r + 1;
    // With statements, the conversation types values while decoding (the stage's Conversation).
    const conv = statements ? statements.conversation(conn, { frontendMode: s.frontendMode, backendMode: 'normal' }) : new Conversation({ frontendMode: s.frontendMode, backendMode: 'normal' });
    for (const c of s.chunks) {
      const label = c.dir === 'frontend' ? 'client -> server' : 'server -> client';
      for (const ev of conv.push(c.dir, c.bytes)) {
        if (ev.kind === 'message') messages++;
        if (stage !== 'decode') out({ kind: 'codec', conn, time: 0, label, event: ev });
      }
      if (stage !== 'decode') out({ kind: 'forwarded', conn, time: 0, label, bytes: c.bytes.length, elapsed: 0 });
    }
    if (stage !== 'decode') out({ kind: 'connection', conn, time: 0, phase: 'closed' } as ProxyEvent);
  }
  writer.flush();
  return [messages, chars];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const all: Stream[] = [fixtureStream(), copyStream(Number(process.env['COPY_MB'] ?? 16)), pgbenchStream('prepared', 20_000), pgbenchStream('simple', 20_000)];
const wanted = process.env['STREAMS']?.split(',');
const streams = (wanted ? all.filter((s) => wanted.some((w) => s.name.includes(w))) : all).filter((s) => s.bytes > 0);
const stages: Stage[] = (process.env['STAGES']?.split(',') as Stage[] | undefined) ?? ['decode', 'statements', 'annotated'];

console.log(`median of ${RUNS} runs; MB/s of wire bytes`);
console.log(`${'stream'.padEnd(28)} ${'stage'.padEnd(11)} ${'msgs/s'.padStart(11)} ${'MB/s'.padStart(8)} ${'ms'.padStart(8)} ${'log MB'.padStart(8)}`);
for (const s of streams) {
  // Small streams are repeated (as new connections) to about 4 MB per pass.
  const repeat = Math.max(1, Math.round((4 * 1024 * 1024) / s.bytes));
  for (const stage of stages) {
    pass(s, stage, Math.max(1, Math.ceil(repeat / 4))); // warm-up
    const times: number[] = [];
    let messages = 0;
    let chars = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      [messages, chars] = pass(s, stage, repeat);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const ms = median(times);
    const mb = (s.bytes * repeat) / (1024 * 1024);
    console.log(
      `${s.name.padEnd(28)} ${stage.padEnd(11)} ${Math.round(messages / (ms / 1000)).toLocaleString('en').padStart(11)} ${(mb / (ms / 1000)).toFixed(1).padStart(8)} ${ms.toFixed(0).padStart(8)} ${(chars / 1024 / 1024).toFixed(1).padStart(8)}`,
    );
  }
}
