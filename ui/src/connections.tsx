import { useState } from 'preact/hooks';
import type { ConnectionSummary, Overview } from '../../src/inspector/types.js';
import { fmtBytes, fmtCount, fmtDateTime, fmtMs, plural } from './format.js';

type Tls = { protocol: string | null; cipher: string | null; sni: string | null; alpn: string | null };

/** Connections drawn at first (the newest); more on request. */
const SHOWN = 200;

function tlsText(t: Tls | null, direct?: boolean): string {
  if (!t) return 'plaintext';
  const parts = [t.protocol ?? 'TLS', t.cipher, t.sni ? `SNI ${t.sni}` : 'no SNI', t.alpn ? `ALPN ${t.alpn}` : null, direct ? 'direct TLS (no SSLRequest)' : null];
  return parts.filter((p) => p !== null).join(' · ');
}

function Leg(props: { name: string; tls: Tls | null; direct?: boolean; testid: string }) {
  return (
    <div class="conn-line" data-testid={props.testid}>
      <span class="k">{props.name}</span> <span class={props.tls ? 'tls' : 'plain'}>{tlsText(props.tls, props.direct)}</span>
    </div>
  );
}

function Connection(props: { c: ConnectionSummary; selected: boolean; onSelect: () => void; now: number; keep: number }) {
  const { c } = props;
  const end = c.closed ?? props.now;
  return (
    <li
      class={`conn ${props.selected ? 'selected' : ''} ${c.errors > 0 ? 'has-errors' : ''} state-${c.state}`}
      data-testid="connection-row"
      data-conn={c.conn}
      aria-selected={props.selected}
      tabIndex={0}
      onClick={props.onSelect}
      onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), props.onSelect())}
    >
      <div class="conn-head">
        <b>#{c.conn}</b> <span class={`state ${c.state}`}>{c.state}</span>
        {c.applicationName && (
          <span class="app-name" data-testid="connection-app" title="application_name">
            {c.applicationName}
          </span>
        )}
        {c.errors > 0 && <span class="badge err-badge">{plural(c.errors, 'error')}</span>}
      </div>
      <div class="conn-line">
        <span class="k">who</span> {c.user ?? '?'}
        {c.database !== null && <> @ {c.database}</>} from {c.client ? `${c.client.address}:${c.client.port}` : 'an unknown address'}
      </div>
      <div class="conn-line">
        <span class="k">server</span> {c.server ? `${c.server.host}:${c.server.port}` : c.state === 'open' ? 'none yet' : 'none'}
        {c.server && <span class="why"> — {c.server.why}</span>}
      </div>
      <Leg name="client leg" tls={c.clientTls} direct={c.clientTls?.direct ?? false} testid="connection-client-tls" />
      <Leg name="server leg" tls={c.serverTls} testid="connection-server-tls" />
      {c.security && (
        <div class={`conn-line verdict ${c.security.exposure}`} data-testid="connection-verdict">
          <span class="k">{c.security.exposure === 'exposed' ? '⚠ verdict' : 'verdict'}</span> {c.security.sentence}
        </div>
      )}
      <div class="conn-line">
        <span class="k">traffic</span> client {fmtBytes(c.bytesFromClient)} → · ← server {fmtBytes(c.bytesFromServer)} · {fmtMs((end - c.opened) / 1000)}
        {c.state === 'open' ? ' so far' : ''}
      </div>
      <div class="conn-line">
        {plural(c.messages, 'message')} · {plural(c.statements, 'statement')} · opened {fmtDateTime(c.opened)}
      </div>
      {c.droppedMessages > 0 && (
        <div class="conn-line dropped" data-testid="connection-dropped">
          the inspector keeps the last {fmtCount(props.keep)} messages per connection; {fmtCount(c.droppedMessages)} older {c.droppedMessages === 1 ? 'one was' : 'ones were'} dropped
        </div>
      )}
      {c.errors > 0 && c.lastError && (
        <div class="conn-line err" data-testid="connection-error">
          <span class="k">last error</span> {c.lastError}
        </div>
      )}
      {c.reason && (
        <div class="conn-line">
          <span class="k">closed</span> {c.reason}
        </div>
      )}
    </li>
  );
}

export function Connections(props: { overview: Overview; live: boolean; selected: number | undefined; onSelect: (conn: number | undefined) => void }) {
  const o = props.overview;
  const [more, setMore] = useState(0);
  const [text, setText] = useState('');
  const q = text.trim().toLowerCase();
  const all = [...o.connections].reverse();
  const matching = q
    ? all.filter((c) =>
        [`#${c.conn}`, c.applicationName, c.user, c.database, c.client?.address, c.client ? String(c.client.port) : null, c.server?.host, c.lastError, c.state].some((s) => s?.toLowerCase().includes(q)),
      )
    : all;
  const list = matching.slice(0, SHOWN + more);
  const now = props.live ? Date.now() * 1000 : (o.last ?? 0);
  const forgotten = o.counts.connections - o.connections.length;
  return (
    <aside class="side" data-testid="connections">
      <h2>
        Connections <span class="muted">{fmtCount(o.counts.connections)}</span>
      </h2>
      {o.connections.length > 5 && <input class="search small" data-testid="connection-search" placeholder="find a connection" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />}
      {o.connections.length === 0 && <p class="empty">No connection yet.</p>}
      <ul>
        {list.map((c) => (
          <Connection key={c.conn} c={c} now={now} keep={o.limits.messagesPerConnection} selected={props.selected === c.conn} onSelect={() => props.onSelect(props.selected === c.conn ? undefined : c.conn)} />
        ))}
      </ul>
      {matching.length > list.length && (
        <button class="link" onClick={() => setMore(more + SHOWN)}>
          {fmtCount(matching.length - list.length)} more
        </button>
      )}
      {forgotten > 0 && <p class="muted small">{fmtCount(forgotten)} older connections are no longer listed.</p>}
    </aside>
  );
}
