import type { ConnectionSummary, Overview } from '../../src/inspector/types.js';
import { fmtBytes, fmtCount, fmtMs } from './format.js';

function tls(t: { protocol: string | null; cipher: string | null; sni: string | null; alpn: string | null } | null, direct?: boolean): string {
  if (!t) return 'plaintext';
  return [t.protocol, t.cipher, t.sni ? `SNI ${t.sni}` : null, t.alpn ? `ALPN ${t.alpn}` : null, direct ? 'direct TLS' : null].filter(Boolean).join(', ');
}

function Connection(props: { c: ConnectionSummary; selected: boolean; onSelect: () => void; now: number | null }) {
  const { c } = props;
  const end = c.closed ?? props.now ?? c.opened;
  return (
    <li class={`conn ${props.selected ? 'selected' : ''} ${c.errors > 0 ? 'has-errors' : ''}`} data-testid="connection-row" onClick={props.onSelect}>
      <div class="conn-head">
        <b>#{c.conn}</b> <span class={`state ${c.state}`}>{c.state}</span> {c.applicationName && <span class="app-name">{c.applicationName}</span>}
      </div>
      <div class="conn-line">
        {c.user ?? '?'}@{c.database ?? '?'} from {c.client ? `${c.client.address}:${c.client.port}` : '?'}
      </div>
      <div class="conn-line">
        → {c.server ? `${c.server.host}:${c.server.port}` : 'no server'} {c.server && <span class="why">({c.server.why})</span>}
      </div>
      <div class="conn-line">
        client leg: {tls(c.clientTls, c.clientTls?.direct)}; server leg: {tls(c.serverTls)}
      </div>
      <div class="conn-line">
        ↑ {fmtBytes(c.bytesFromClient)} ↓ {fmtBytes(c.bytesFromServer)} · {fmtMs((end - c.opened) / 1000)} · {fmtCount(c.messages)} messages · {fmtCount(c.statements)} statements
        {c.droppedMessages > 0 && <span class="dropped"> · {fmtCount(c.droppedMessages)} dropped</span>}
      </div>
      {c.security && (
        <div class={`conn-line verdict ${c.security.exposure}`} title={c.security.sentence}>
          {c.security.sentence}
        </div>
      )}
      {c.errors > 0 && (
        <div class="conn-line err" data-testid="connection-error">
          {c.errors} error{c.errors === 1 ? '' : 's'}: {c.lastError}
        </div>
      )}
      {c.reason && <div class="conn-line why">closed: {c.reason}</div>}
    </li>
  );
}

export function Connections(props: { overview: Overview; selected: number | undefined; onSelect: (conn: number | undefined) => void }) {
  const list = props.overview.connections;
  return (
    <aside class="side">
      <h2>Connections</h2>
      {list.length === 0 && <p class="empty">No connection yet.</p>}
      <ul>
        {[...list].reverse().map((c) => (
          <Connection key={c.conn} c={c} now={props.overview.last} selected={props.selected === c.conn} onSelect={() => props.onSelect(props.selected === c.conn ? undefined : c.conn)} />
        ))}
      </ul>
    </aside>
  );
}
