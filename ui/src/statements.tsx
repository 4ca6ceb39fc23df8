import { useEffect, useState } from 'preact/hooks';
import type { FingerprintGroup, InspectorSource, StatementPage, StatementRow } from '../../src/inspector/types.js';
import { fmtCount, fmtMs, fmtTime } from './format.js';

const PAGE = 300;

function Params(props: { s: StatementRow }) {
  if (props.s.params.length === 0) return null;
  return (
    <div class="params">
      {props.s.params.map((p, i) => (
        <span key={i} class="param" data-testid="statement-param">
          ${i + 1} = {p.value === null ? <i>NULL</i> : p.format === 'binary' ? `\\x${p.value}` : `'${p.value}'`}
          {p.type && <span class="ptype">::{p.type}</span>}
        </span>
      ))}
    </div>
  );
}

/** One bar per statement: to completion (solid), then to ReadyForQuery (light), on one time axis for the page. */
function Waterfall(props: { rows: StatementRow[]; selected: number | null; onSelect: (s: StatementRow) => void; onShowMessage: (id: number | null) => void }) {
  const rows = props.rows;
  if (rows.length === 0) return <p class="empty">No statement completed yet.</p>;
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const s of rows) {
    t0 = Math.min(t0, s.startTs);
    t1 = Math.max(t1, s.startTs + (s.untilReady ?? s.duration) * 1000);
  }
  const span = Math.max(1, t1 - t0);
  const pct = (us: number): string => `${Math.max(0, Math.min(100, (us / span) * 100)).toFixed(3)}%`;
  return (
    <div class="waterfall" data-testid="waterfall">
      {rows.map((s) => (
        <div
          key={s.id}
          class={`st ${s.error ? 'error' : ''} ${props.selected === s.id ? 'selected' : ''}`}
          data-testid="statement-row"
          data-sql={s.sql}
          onClick={() => props.onSelect(s)}
          onDblClick={() => props.onShowMessage(s.firstMessage)}
        >
          <span class="st-conn">#{s.conn}</span>
          <span class="st-dur">{fmtMs(s.duration)}</span>
          <span class="st-tag">{s.error ? `${s.error.code} ${s.error.message}` : `${s.tag ?? ''}${s.rows !== null ? ` · ${s.rows} rows` : ''}`}</span>
          {s.pipelined && (
            <span class="badge pipe" title="started before the previous statement on its connection had completed" data-testid="pipelined">
              pipelined
            </span>
          )}
          <span class="st-sql" title={s.sql}>
            {s.sql}
          </span>
          <span class="st-bar">
            <span class="bar-ready" style={{ left: pct(s.startTs - t0), width: pct((s.untilReady ?? s.duration) * 1000) }} />
            <span class="bar-run" style={{ left: pct(s.startTs - t0), width: pct(s.duration * 1000) }} />
          </span>
        </div>
      ))}
    </div>
  );
}

function Fingerprints(props: { groups: FingerprintGroup[] }) {
  return (
    <table class="fps" data-testid="fingerprints">
      <thead>
        <tr>
          <th>count</th>
          <th>total</th>
          <th>p50</th>
          <th>p95</th>
          <th>max</th>
          <th>errors</th>
          <th>statement</th>
        </tr>
      </thead>
      <tbody>
        {props.groups.slice(0, 200).map((g) => (
          <tr key={g.fingerprint} data-testid="fingerprint-row" class={g.nPlusOne ? 'nplus1' : ''}>
            <td>{fmtCount(g.count)}</td>
            <td>{fmtMs(g.totalMs)}</td>
            <td>{fmtMs(g.p50)}</td>
            <td>{fmtMs(g.p95)}</td>
            <td>{fmtMs(g.maxMs)}</td>
            <td class={g.errors > 0 ? 'err' : ''}>{g.errors}</td>
            <td>
              <code>{g.fingerprint}</code>
              {g.nPlusOne && g.maxTxn && (
                <div class="hint" data-testid="nplus1-hint">
                  ran {g.maxInOneTxn} times in one transaction on #{g.maxTxn.conn} — an N+1 pattern? (one query per row of an earlier one)
                </div>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Statements(props: { source: InspectorSource; version: number; conn: number | undefined; onShowMessage: (id: number | null) => void }) {
  const { source, conn } = props;
  const [slowest, setSlowest] = useState(false);
  const [errors, setErrors] = useState(false);
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<StatementPage | null>(null);
  const [groups, setGroups] = useState<FingerprintGroup[]>([]);
  const [selected, setSelected] = useState<StatementRow | null>(null);
  useEffect(() => setOffset(0), [slowest, errors, search, conn]);
  useEffect(() => {
    let gone = false;
    void source.statements({ ...(conn === undefined ? {} : { conn }), slowest, errors, search, offset, limit: PAGE }).then((p) => !gone && setPage(p));
    void source.fingerprints(conn).then((g) => !gone && setGroups(g));
    return () => {
      gone = true;
    };
  }, [source, conn, slowest, errors, search, offset, props.version]);
  return (
    <div class="statements">
      <div class="toolbar">
        <label>
          <input type="checkbox" data-testid="slowest-toggle" checked={slowest} onChange={(e) => setSlowest((e.target as HTMLInputElement).checked)} /> slowest first
        </label>
        <label>
          <input type="checkbox" data-testid="errors-toggle" checked={errors} onChange={(e) => setErrors((e.target as HTMLInputElement).checked)} /> errors only
        </label>
        <input class="search" data-testid="statement-search" placeholder="SQL contains" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        {page && (
          <span class="total">
            {fmtCount(page.total)} statements{' '}
            {page.total > PAGE && (
              <>
                <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                  ‹
                </button>{' '}
                {offset + 1}–{Math.min(page.total, offset + PAGE)}{' '}
                <button disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>
                  ›
                </button>
              </>
            )}
          </span>
        )}
      </div>
      <Waterfall rows={page?.rows ?? []} selected={selected?.id ?? null} onSelect={setSelected} onShowMessage={props.onShowMessage} />
      {selected && (
        <div class="st-detail" data-testid="statement-detail">
          <div>
            <b>#{selected.conn}</b> {fmtTime(selected.startTs)} · {selected.protocol} · {fmtMs(selected.duration)} to completion · {fmtMs(selected.untilReady)} to ReadyForQuery · transaction {selected.txn}
            {selected.statement !== null && ` · statement ${JSON.stringify(selected.statement)} portal ${JSON.stringify(selected.portal)}`}
          </div>
          <pre class="sql">{selected.sql}</pre>
          <Params s={selected} />
          {selected.error && (
            <div class="err">
              {selected.error.severity} {selected.error.code}: {selected.error.message}
            </div>
          )}
          <button data-testid="show-messages" disabled={selected.firstMessage === null} onClick={() => props.onShowMessage(selected.firstMessage)}>
            show its messages
          </button>
        </div>
      )}
      <h3>By fingerprint (as --summary)</h3>
      <Fingerprints groups={groups} />
    </div>
  );
}
