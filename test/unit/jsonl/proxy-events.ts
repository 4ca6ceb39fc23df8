import { StatementStage } from '../../../src/session/statement-stage.js';
import type { Label, ProxyEvent } from '../../../src/session/events.js';
import type { Fixture } from '../../helpers/fixtures.js';

export interface ProxyEventOptions {
  /** --redact-passwords: the conversation marks secrets while decoding. */
  redact?: boolean;
  /** First event's time (ms since the epoch, with a fraction). */
  t0?: number;
  /** ms between consecutive events (a fraction: the proxy's clock has microseconds). */
  step?: number;
}

const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: null, alpn: 'postgresql' };

/**
 * Every recording as the proxy would report it, one connection each (conn 1, 2, …): the
 * connection's life (opened, TLS, server chosen, security verdict, closed), its codec
 * events with their labels and a forwarded-batch note per chunk, through the statement
 * stage with typed values and statement records on, as the proxy runs it for --jsonl or
 * the annotated log. Decoded afresh on each call (typed values and secret marks depend on the options).
 */
export function proxyEvents(fixtures: Fixture[], opts: ProxyEventOptions = {}): ProxyEvent[] {
  const out: ProxyEvent[] = [];
  const stage = new StatementStage((ev) => out.push(ev), { redact: opts.redact ?? false, typed: true, records: true });
  let time = opts.t0 ?? 1795223564693.123;
  const step = opts.step ?? 0.0137;
  const tick = (): number => (time += step);
  stage.write({ kind: 'status', conn: null, time: tick(), level: 'info', text: 'pgscope listening on 127.0.0.1:5433, forwarding to "localhost":5432' });
  fixtures.forEach((f, i) => {
    const conn = i + 1;
    const local = { address: '127.0.0.1', port: 5433 };
    stage.write({ kind: 'connection', conn, time: tick(), phase: 'opened', client: { address: '127.0.0.1', port: 40000 + i }, local });
    stage.write({ kind: 'connection', conn, time: tick(), phase: 'client-tls', tls: TLS, direct: false });
    stage.write({ kind: 'connection', conn, time: tick(), phase: 'server-connected', host: 'localhost', port: 5432, why: 'from --server-host', remote: { address: '::1', port: 5432 }, local: { address: '::1', port: 50000 + i } });
    stage.write({ kind: 'connection', conn, time: tick(), phase: 'server-tls', tls: { ...TLS, sni: 'localhost' } });
    // Decoded as a session decodes: typing values and marking secrets as it goes.
    const conv = stage.conversation(conn);
    let start = 0;
    let fromClient = 0;
    let fromServer = 0;
    for (const c of f.chunks) {
      const label: Label = c.dir === 'frontend' ? 'client -> server' : 'server -> client';
      for (const event of conv.push(c.dir, c.bytes)) stage.write({ kind: 'codec', conn, time: tick(), label, event });
      const t = tick();
      start ||= t;
      stage.write({ kind: 'forwarded', conn, time: t, label, bytes: c.bytes.length, elapsed: (t - start) / 1000 });
      if (c.dir === 'frontend') fromClient += c.bytes.length;
      else fromServer += c.bytes.length;
      if (c === f.chunks[Math.floor(f.chunks.length / 2)]) {
        stage.write({
          kind: 'security',
          conn,
          time: tick(),
          verdict: { tls: 'self-signed', gs2Flag: 'n', clientAuth: 'SCRAM-SHA-256', serverOfferedPlus: true, exposure: 'exposed', overrideAuth: false, sentence: `the client accepted pgscope's certificate "without" checking it\n(${f.name})` },
        });
      }
    }
    stage.write({ kind: 'status', conn, time: tick(), level: 'warn', text: `recording ${f.name}: ${f.description}` });
    stage.write({ kind: 'connection', conn, time: tick(), phase: 'closed', reason: 'the client closed the connection', bytesFromClient: fromClient, bytesFromServer: fromServer });
  });
  return out;
}
