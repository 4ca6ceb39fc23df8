/**
 * A saved capture, read back into JSON-lines objects (docs/jsonl.md), for `pgscope view`
 * and `pgscope report`: a pcapng or classic pcap file (its TCP connections put back
 * together, decoded by pgscope's codec, statements found by its analysis, and written by
 * the very sink --jsonl writes with, so the objects are those the live proxy would have
 * written), or JSON lines as --jsonl wrote them. The file is read in chunks: what is kept
 * is what the caller keeps of the objects, plus the connections open at the moment.
 */
import { createReadStream } from 'node:fs';
import { jsonlObjectSink } from '../output/jsonl/object-sink.js';
import type { JsonlObject } from '../output/jsonl/objects.js';
import type { ProxyEvent } from '../session/events.js';
import { CaptureError } from './capture-error.js';
import { CaptureNotes } from './capture-notes.js';
import { JsonlReader } from './jsonl-reader.js';
import { PcapReader, pcapMagic } from './pcap-reader.js';
import { PcapngReader, type ChunkReader, type Packet } from './pcapng-reader.js';
import { isPgscopeGapMarker } from './pgscope-comments.js';
import { Replay } from './replay.js';
import { segmentOf } from './tcp-segments.js';
import { TcpStreams } from './tcp-streams.js';
import type { KeyLog } from './tls/key-log.js';

export interface CaptureOptions {
  /** As --redact-passwords: no secret value, and no raw bytes of a message holding one. */
  redact: boolean;
  /** As --max-value-bytes: raw bytes and values are cut at Math.max(this, 1024), as the live proxy's JSON lines. */
  maxValueBytes?: number;
  /** A connection whose handshake is not in the capture has its server on one of these ports (default 5432). */
  serverPorts?: number[];
  /** Secrets to decrypt TLS with (--keylog). */
  keys?: KeyLog | null;
}

/** What reading a capture into events takes: the options above, and what the outputs ask of the analysis. */
export interface CaptureEventOptions extends Omit<CaptureOptions, 'maxValueBytes'> {
  /** Outputs.statements: null when no output shows statements or typed values. */
  statements: { redact: boolean; typed: boolean; records: boolean } | null;
  /** Notes about one connection are also among the notes returned (default); false: only in its status events. */
  noteConnections?: boolean;
  /** Emit 'wire' events (Outputs.wire: --pcap writes the decrypted conversation from them). */
  wire?: boolean;
  /** Say each connection's opening, TLS and end in status lines (for a text log). */
  narrate?: boolean;
}

type Format = 'pcapng' | 'pcap' | 'jsonl';

export interface Capture {
  format: Format;
  /** Every JSON-lines object, in the order of the capture. */
  objects: JsonlObject[];
  /** What a reader should know: encrypted connections, bytes missing, packets skipped. */
  notes: string[];
}

/** Bytes read at a time. */
const CHUNK = 1024 * 1024;
const PCAPNG_MAGIC = 0x0a0d0d0a;
/** The default of --max-value-bytes; JSON lines never cut raw bytes below 1024 anyway. */
const MIN_RAW_BYTES = 1024;

/**
 * Every JSON-lines object the capture holds, in the order of the capture. Rejects with a
 * CaptureError for a file that is not a capture (naming the block, packet or line, its
 * byte offset and what was expected), or with the file system's error.
 */
export async function readCapture(path: string, opts: CaptureOptions): Promise<Capture> {
  const objects: JsonlObject[] = [];
  const { format, notes } = await forEachCaptureObject(path, opts, (o) => objects.push(o));
  return { format, objects, notes };
}

/** readCapture, handing each object on as it is made (with its JSON line) instead of keeping them all. */
export async function forEachCaptureObject(path: string, opts: CaptureOptions, onObject: (o: JsonlObject, line: string) => void): Promise<Omit<Capture, 'objects'>> {
  const notes = new CaptureNotes();
  const sink = jsonlObjectSink(onObject, { redact: opts.redact, maxRawBytes: Math.max(opts.maxValueBytes ?? 0, MIN_RAW_BYTES) });
  const eventOptions: CaptureEventOptions = { ...opts, statements: { redact: opts.redact, typed: true, records: true } };
  let jsonl = false;
  const format = await readChunks(createReadStream(path, { highWaterMark: CHUNK }), path, (head) => {
    if (!opensObject(head)) return packetReader(head, path, eventOptions, (ev) => sink.write(ev), notes);
    jsonl = true;
    if (opts.redact) notes.add('JSON lines are shown as they were written: passwords are taken out when pgscope writes them (--redact-passwords), not when it reads them');
    return { format: 'jsonl', reader: new JsonlReader(path, onObject), finish: () => {} };
  });
  if (!jsonl) sink.close();
  for (const p of opts.keys?.problems() ?? []) notes.add(p);
  return { format, notes: notes.list() };
}

/**
 * A pcap or pcapng capture (a file, standard input, tcpdump's pipe) as the events a live
 * proxy emits, handed to `onEvent` as they are made: what `pgscope read` and `pgscope
 * sniff` feed the outputs with. Rejects with a CaptureError for input that is not a
 * capture (JSON lines included: view and report read those).
 */
export async function forEachCaptureEvent(input: AsyncIterable<Buffer>, name: string, opts: CaptureEventOptions, onEvent: (ev: ProxyEvent) => void): Promise<Omit<Capture, 'objects'>> {
  const notes = new CaptureNotes();
  const format = await readChunks(input, name, (head) => {
    if (opensObject(head)) throw new CaptureError(name, 0, 'the start of the file', 'a pcapng or pcap file (JSON lines from --jsonl are read by pgscope view and pgscope report)');
    return packetReader(head, name, opts, onEvent, notes);
  });
  for (const p of opts.keys?.problems() ?? []) notes.add(p);
  return { format, notes: notes.list() };
}

/** Chunks read 1 MiB at a time from a file. */
export function fileChunks(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: CHUNK });
}

interface Reading {
  format: Format;
  reader: ChunkReader;
  finish: () => void;
}

async function readChunks(input: AsyncIterable<Buffer>, name: string, open: (head: Buffer) => Reading): Promise<Format> {
  let reading: Reading | null = null;
  for await (const chunk of input) {
    if (chunk.length === 0) continue;
    reading ??= open(chunk);
    reading.reader.push(chunk);
  }
  if (reading === null) throw new CaptureError(name, 0, 'the start of the file', 'a pcapng file, a pcap file or JSON lines: the file is empty');
  reading.reader.end();
  reading.finish();
  return reading.format;
}

/** The packet reader for the kind of file its first bytes say. */
function packetReader(head: Buffer, name: string, opts: CaptureEventOptions, onEvent: (ev: ProxyEvent) => void, notes: CaptureNotes): Reading {
  if (head.length >= 4 && head.readUInt32LE(0) === PCAPNG_MAGIC) return packets('pcapng', name, opts, onEvent, notes);
  if (pcapMagic(head) !== null) return packets('pcap', name, opts, onEvent, notes);
  const found = head.subarray(0, 8).toString('hex');
  throw new CaptureError(name, 0, 'the start of the file', `a pcapng file (0a0d0d0a), a pcap file (a1b2c3d4 or a1b23c4d, either byte order) or JSON lines ("{"), found ${found}`);
}

/** JSON lines start with "{" after any white space (and a byte-order mark). */
function opensObject(head: Buffer): boolean {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  return head[i] === 0x7b;
}

/** Packets → TCP segments → connections → TLS, the codec and analysis → events. */
function packets(format: 'pcapng' | 'pcap', name: string, opts: CaptureEventOptions, onEvent: (ev: ProxyEvent) => void, notes: CaptureNotes): Reading {
  const serverPorts = new Set(opts.serverPorts ?? [5432]);
  const replay = new Replay(onEvent, { redact: opts.redact, serverPorts, note: (text) => notes.add(text), keys: opts.keys ?? null, statements: opts.statements, noteConnections: opts.noteConnections ?? true, wire: opts.wire ?? false, narrate: opts.narrate ?? false });
  const streams = new TcpStreams(serverPorts, (ev) => replay.push(ev));
  let lastTime = 0;
  const onPacket = (p: Packet): void => {
    if (p.time > lastTime) lastTime = p.time;
    if (isPgscopeGapMarker(p.data, p.comment)) {
      notes.add(`frame ${p.number}: ${p.comment}`);
      return;
    }
    const s = segmentOf(p.linkType, p.data);
    if (typeof s === 'string') notes.skipped(s, p.linkType);
    else streams.push(s, p.time, p.comment);
  };
  const reader = format === 'pcapng' ? new PcapngReader(name, onPacket, (text) => notes.add(text)) : new PcapReader(name, onPacket);
  const finish = (): void => {
    streams.end(lastTime);
    replay.finish();
  };
  return { format, reader, finish };
}
