/**
 * A saved capture, read back into JSON-lines objects (docs/jsonl.md): a pcapng or pcap
 * (its TCP streams reassembled and decoded by pgscope's codec, statements found by its
 * analysis, written by the very sink --jsonl uses), or JSON lines as --jsonl wrote them.
 */
import { readFileSync } from 'node:fs';
import { jsonlObjectSink } from '../output/jsonl/object-sink.js';
import type { JsonlObject } from '../output/jsonl/objects.js';
import { CaptureError } from './capture-error.js';
import { pcapngPackets, pcapPackets, sniffFormat, type Packet } from './capture-files.js';
import { Replay } from './replay.js';
import { segmentOf } from './tcp-segments.js';
import { TcpStreams } from './tcp-streams.js';

export interface CaptureOptions {
  redact: boolean;
  /** Longest value kept (as --max-value-bytes); the bytes of a message are kept up to 64 KiB. */
  maxValueBytes?: number;
  /** Ports a server listens on, for connections whose handshake is not in the capture (default 5432). */
  serverPorts?: number[];
}

export interface Capture {
  format: 'pcapng' | 'pcap' | 'jsonl';
  objects: JsonlObject[];
  /** What a reader should know: packets that are not TCP, bytes missing, encrypted connections. */
  notes: string[];
}

function readJsonl(file: string, text: string): JsonlObject[] {
  const out: JsonlObject[] = [];
  let at = 0;
  let line = 0;
  while (at < text.length) {
    const nl = text.indexOf('\n', at);
    const end = nl === -1 ? text.length : nl;
    line++;
    const l = text.slice(at, end).trim();
    if (l !== '') {
      let o: unknown;
      try {
        o = JSON.parse(l);
      } catch {
        throw new CaptureError(file, at, `line ${line}`, 'a pcapng or pcap file, or JSON lines as --jsonl writes them (this line is not JSON)');
      }
      const v = o as { v?: unknown; type?: unknown };
      if (typeof o !== 'object' || o === null || v.v !== 1 || typeof v.type !== 'string') {
        throw new CaptureError(file, at, `line ${line}`, 'a JSON-lines object of pgscope (with "v": 1 and a "type")');
      }
      out.push(o as JsonlObject);
    }
    at = end + 1;
  }
  return out;
}

export async function readCapture(file: string, opts: CaptureOptions): Promise<Capture> {
  const bytes = readFileSync(file);
  const format = sniffFormat(bytes);
  if (format === null) {
    const text = bytes.toString('utf8');
    if (!text.trimStart().startsWith('{')) throw new CaptureError(file, 0, 'the start of the file', 'a pcapng or pcap file, or JSON lines as --jsonl writes them');
    return { format: 'jsonl', objects: readJsonl(file, text), notes: [] };
  }
  const objects: JsonlObject[] = [];
  const notes: string[] = [];
  const sink = jsonlObjectSink((o) => objects.push(o), { redact: opts.redact, maxRawBytes: Math.max(opts.maxValueBytes ?? 256, 64 * 1024) });
  const replay = new Replay((ev) => sink.write(ev), opts.redact);
  const streams = new TcpStreams(new Set(opts.serverPorts ?? [5432]));
  const packets: Iterable<Packet> = format === 'pcapng' ? pcapngPackets(file, bytes) : pcapPackets(file, bytes);
  let notTcp = 0;
  let last = 0;
  for (const p of packets) {
    const ts = p.ts || last;
    last = Math.max(last, ts);
    const seg = segmentOf(p.linkType, p.data);
    if (!seg) {
      // pgscope writes an empty packet with a comment where its reader fell behind.
      if (p.comment) notes.push(`frame ${p.frame}: ${p.comment}`);
      else notTcp++;
      continue;
    }
    for (const ev of streams.push(seg, ts, p.comment)) {
      if (ev.kind === 'note' && !ev.text.startsWith('pgscope')) notes.push(`frame ${p.frame}: ${ev.text}`);
      replay.push(ev);
    }
  }
  for (const ev of streams.end(last)) replay.push(ev);
  sink.close();
  if (notTcp > 0) notes.push(`${notTcp} packet(s) are not TCP over IPv4/IPv6 and were skipped`);
  for (const o of objects) if (o.type === 'status' && o.level === 'warn') notes.push(o.text);
  return { format, objects, notes };
}
