import { Conversation } from '../../../src/protocol/conversation.js';
import type { CodecEvent } from '../../../src/protocol/types.js';
import type { ProxyEvent } from '../../../src/session/events.js';
import { JsonlSink, type JsonlOptions } from '../../../src/output/jsonl/jsonl-sink.js';
import { ByteLines } from '../../../src/output/byte-lines.js';
import { filterSink, type Filter } from '../../../src/output/filter/filter.js';
import type { Fixture } from '../../helpers/fixtures.js';

/** A start time with sub-millisecond digits, as the proxy's clock gives them. */
export const T0 = 1795223564693.123;

/** A recorded conversation as the proxy would report it: codec events of connection `conn`, 1.5 µs apart. */
export function fixtureEvents(f: Fixture, conn = 1, conv = new Conversation()): ProxyEvent[] {
  const out: ProxyEvent[] = [];
  let n = 0;
  for (const c of f.chunks) {
    for (const event of conv.push(c.dir, c.bytes)) {
      out.push({ kind: 'codec', conn, time: T0 + 0.0015 * n++, label: c.dir === 'frontend' ? 'client -> server' : 'server -> client', event });
    }
  }
  return out;
}

/** Run events through a JsonlSink and return everything it wrote. */
export function renderJsonl(events: ProxyEvent[], opts: JsonlOptions & { filter?: Filter }): string {
  let text = '';
  const jsonl = new JsonlSink(new ByteLines((b) => (text += b.toString('utf8'))), opts);
  // --filter sits in front of the sink, as the proxy puts it (src/output/outputs.ts).
  const sink = opts.filter ? filterSink(jsonl, opts.filter) : jsonl;
  for (const ev of events) sink.write(ev);
  sink.close();
  return text;
}
