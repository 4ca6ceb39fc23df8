/**
 * "This conversation decodes completely": replay recorded chunks into a Conversation and
 * collect every problem instead of stopping at the first, so a failing e2e test shows the
 * whole list.
 */
import { Conversation } from '../../src/protocol/conversation.js';
import type { CodecEvent, DecodedMessage, Direction, Span } from '../../src/protocol/types.js';

export interface DecodeReport {
  conversation: Conversation;
  events: CodecEvent[];
  messages: DecodedMessage[];
  /** Message names and nested payload names (DecodedMessage.sub), as seen. */
  names: Set<string>;
  /** Human-readable problems; empty when the conversation decoded completely. */
  problems: string[];
  /** "F StartupMessage", "B AuthenticationSASL", … in order (for failure messages). */
  trace: string[];
}

export interface DecodeCheckOptions {
  /** Allow 'unparsed' events (bytes after a TLS switch). Default false. */
  allowUnparsedEvents?: boolean;
}

function walk(spans: Span[], parent: { start: number; end: number }, where: string, problems: string[], top: boolean): void {
  let pos = parent.start;
  for (const s of spans) {
    const at = `${where} span "${s.name}" [${s.start}, ${s.end})`;
    if (s.flag === 'unparsed') problems.push(`${at} is flagged unparsed${s.meaning ? `: ${s.meaning}` : ''}`);
    if (s.start < pos || s.end < s.start || s.end > parent.end) problems.push(`${at} is out of order or outside [${parent.start}, ${parent.end})`);
    else if (top && s.start !== pos) problems.push(`${at} leaves bytes [${pos}, ${s.start}) without a span`);
    pos = Math.max(pos, s.end);
    if (s.children?.length) walk(s.children, s, `${where} > ${s.name}`, problems, false);
  }
  if (top && pos !== parent.end) problems.push(`${where}: bytes [${pos}, ${parent.end}) have no span`);
}

/** Replay chunks (in arrival order) and check every message decoded without trouble. */
export function checkDecodes(chunks: { dir: Direction; bytes: Buffer }[], opts: DecodeCheckOptions = {}): DecodeReport {
  const conversation = new Conversation();
  const events: CodecEvent[] = [];
  const messages: DecodedMessage[] = [];
  const names = new Set<string>();
  const problems: string[] = [];
  const trace: string[] = [];
  const total: Record<Direction, number> = { frontend: 0, backend: 0 };
  const framed: Record<Direction, number> = { frontend: 0, backend: 0 };
  for (const c of chunks) {
    total[c.dir] += c.bytes.length;
    for (const ev of conversation.push(c.dir, c.bytes)) {
      events.push(ev);
      if (ev.kind === 'error') problems.push(`framing error: ${ev.error.message}`);
      if (ev.kind === 'unparsed') {
        framed[ev.direction] += ev.length;
        if (!opts.allowUnparsedEvents) problems.push(`unparsed ${ev.direction} bytes at ${ev.offset} (${ev.length}): ${ev.reason}`);
      }
      if (ev.kind !== 'message') continue;
      const m = ev.message;
      messages.push(m);
      framed[m.frame.direction] += m.frame.size;
      names.add(m.name);
      for (const s of m.sub) names.add(s);
      const where = `${m.frame.direction} ${m.name} at ${m.frame.offset}`;
      trace.push(`${m.frame.direction === 'frontend' ? 'F' : 'B'} ${m.name}${m.sub.length ? ` [${m.sub.join(' > ')}]` : ''}`);
      if (/^unknown/i.test(m.name)) problems.push(`${where}: not recognised (type ${JSON.stringify(m.frame.type)})`);
      if (m.error) problems.push(`${where}: ${m.error.message}`);
      if (!m.frame.complete) problems.push(`${where}: frame not retained whole`);
      walk(m.spans, { start: 0, end: m.frame.size }, where, problems, true);
    }
  }
  for (const d of ['frontend', 'backend'] as const) {
    if (framed[d] !== total[d]) problems.push(`${d}: ${total[d]} bytes arrived but ${framed[d]} were framed (a message was left incomplete)`);
  }
  return { conversation, events, messages, names, problems, trace };
}
