import type { ProxyEvent, Sink } from '../../session/events.js';
import { ByteLines } from '../byte-lines.js';
import { JsonlSink, type JsonlOptions } from './jsonl-sink.js';
import type { JsonlObject } from './objects.js';

/**
 * JSON lines as objects, one per event as it happens: the very lines --jsonl writes,
 * parsed (so the two can never differ), each with its line. For startProxy()'s listeners
 * and the inspector.
 */
export function jsonlObjectSink(onObject: (o: JsonlObject, line: string) => void, opts: JsonlOptions): Sink {
  // No batching: each line is handed on as soon as it is written.
  const lines = new ByteLines((bytes) => {
    const text = bytes.toString('utf8');
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      const line = text.slice(from, nl);
      onObject(JSON.parse(line) as JsonlObject, line);
      from = nl + 1;
    }
  }, 0, 1);
  const sink = new JsonlSink(lines, opts);
  return {
    write: (ev: ProxyEvent) => sink.write(ev),
    flush: () => lines.flush(),
    close: () => lines.flush(),
  };
}
