/**
 * The events the proxy would feed a sink for one recorded conversation (test/fixtures):
 * codec events decoded by the real Conversation, then the wire bytes of the same chunk,
 * without a leading SSLRequest/GSSENCRequest and its answer (pgscope consumes those).
 */
import { Conversation } from '../../../src/protocol/conversation.js';
import type { CodecEvent, DecodedMessage } from '../../../src/protocol/types.js';
import type { Endpoint, ProxyEvent } from '../../../src/session/events.js';
import type { Fixture } from '../../helpers/fixtures.js';
import { closed, opened, serverConnected, wire } from './events.js';

export interface FixtureRun {
  events: ProxyEvent[];
  /** Every message of the conversation, in order. */
  messages: DecodedMessage[];
}

export function fixtureEvents(fx: Fixture, conn: number, t0: number, client: Endpoint, server: Endpoint): FixtureRun {
  const conv = new Conversation();
  const decoded = fx.chunks.map((c) => conv.push(c.dir, c.bytes));
  const messages = decoded.flat().flatMap((e) => (e.kind === 'message' ? [e.message] : []));
  // Bytes before these offsets are the encryption request and its answer: not in the wire.
  const skip = { frontend: 0, backend: 0 };
  for (const m of messages) {
    const f = m.frame;
    if (m.name === 'SSLRequest' || m.name === 'GSSENCRequest' || f.kind === 'answer') skip[f.direction] = f.offset + f.size;
  }
  const scripted = (e: CodecEvent): boolean => e.kind === 'message' && (e.message.name === 'SSLRequest' || e.message.name === 'GSSENCRequest' || e.message.frame.kind === 'answer');

  const events: ProxyEvent[] = [opened(conn, t0, client)];
  const offset = { frontend: 0, backend: 0 };
  let connected = false;
  fx.chunks.forEach((c, i) => {
    const time = t0 + 1 + i;
    for (const e of decoded[i]!) {
      const label = scripted(e) ? (c.dir === 'frontend' ? 'client -> script' : 'script -> client') : c.dir === 'frontend' ? 'client -> server' : 'server -> client';
      events.push({ kind: 'codec', conn, time, label, event: e });
    }
    const start = offset[c.dir];
    offset[c.dir] += c.bytes.length;
    const from = Math.max(0, skip[c.dir] - start);
    if (from < c.bytes.length) events.push(wire(conn, time, c.dir, start + from, c.bytes.subarray(from)));
    if (!connected && c.dir === 'frontend' && offset.frontend > skip.frontend) {
      // pgscope connects to the server once it has the StartupMessage.
      events.push(serverConnected(conn, time + 0.25, server));
      connected = true;
    }
  });
  events.push(closed(conn, t0 + 2 + fx.chunks.length));
  return { events, messages };
}
