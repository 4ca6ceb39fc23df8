import { useRef, useState } from 'preact/hooks';
import type { FingerprintGroup, InspectorSource, StatementRow } from '../../src/inspector/types.js';
import { fmtCount, fmtMs, fmtTime, plural } from './format.js';
import { useDebounced, useRemote, useWidth } from './hooks.js';

/** Statements on one page of the waterfall. */
const PAGE = 500;
/** Fingerprint groups drawn at first. */
const GROUPS_SHOWN = 100;
/** Width of the columns left of the bars (px; kept in view while the timeline scrolls sideways): half the box, within bounds. */
const labelsWidth = (box: number): number => Math.round(Math.max(480, Math.min(900, box * 0.6)));
const ZOOMS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** A bound parameter as the statement record has it: a typed value, or NULL. */
function Param(props: { p: StatementRow['params'][number]; i: number }) {
  const { p } = props;
  return (
    <span class="param" data-testid="statement-param" title={p.type === null ? 'the client left the type to the server' : `${p.format} format, read as ${p.type}`}>
      <span class="pn">${props.i + 1}</span>=
      {p.value === null ? <i>NULL</i> : p.format === 'binary' ? <span class="pv">\x{p.value}</span> : <span class="pv">'{p.value}'</span>}
      {p.type !== null ? (
        <span class="ptype">
          ::{p.type}
          {p.format === 'binary' ? ' (binary)' : ''}
        </span>
      ) : (
        p.format === 'binary' && <span class="ptype"> (binary)</span>
      )}
    </span>
  );
}

function Details(props: { s: StatementRow; onShowMessage: (id: number) => void }) {
  const s = props.s;
  return (
    <div class="st-detail" data-testid="statement-detail">
      <pre class="sql">{s.sql}</pre>
      {s.params.length > 0 && (
        <div class="params-block">
          {s.params.map((p, i) => (
            <Param key={i} p={p} i={i} />
          ))}
        </div>
      )}
      <div class="muted">
        connection #{s.conn} · transaction {s.txn} · {s.protocol} protocol
        {s.statement !== null && ` · prepared statement ${s.statement === '' ? '(unnamed)' : JSON.stringify(s.statement)}, portal ${s.portal === '' || s.portal === null ? '(unnamed)' : JSON.stringify(s.portal)}`} · started{' '}
        {fmtTime(s.startTs)} UTC · {fmtMs(s.duration)} to completion · {s.untilReady === null ? 'no ReadyForQuery (the connection ended)' : `${fmtMs(s.untilReady)} to ReadyForQuery`}
        {s.rows !== null && ` · ${plural(s.rows, 'row')}`}
        {s.affected !== null && s.tag !== null && !s.tag.startsWith('SELECT') && ` · ${fmtCount(s.affected)} affected`}
        {s.pipelined && ' · pipelined: sent before the previous statement on its connection had completed'}
      </div>
      {s.error && (
        <div class="err">
          {s.error.severity} {s.error.code}: {s.error.message}
        </div>
      )}
      <button data-testid="show-messages" disabled={s.firstMessage === null} onClick={() => s.firstMessage !== null && props.onShowMessage(s.firstMessage)}>
        {s.firstMessage === null ? 'its messages are no longer kept' : `show its messages (from message ${s.firstMessage})`}
      </button>
    </div>
  );
}

/** Tick marks for a span of `ms` over `px` pixels: about one every 100 px, at 1/2/5 steps. */
function ticks(ms: number, px: number): number[] {
  const want = Math.max(1, Math.floor(px / 110));
  const raw = ms / want;
  const mag = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-6)));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let t = 0; t <= ms + 1e-9; t += step) out.push(t);
  return out;
}

function Waterfall(props: { rows: StatementRow[]; byConn: boolean; onShowMessage: (id: number) => void; onMissing: (s: StatementRow) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const [zoom, setZoom] = useState(1);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const rows = props.byConn ? [...props.rows].sort((a, b) => a.conn - b.conn || a.startTs - b.startTs) : props.rows;
  if (rows.length === 0) return <p class="empty">No statement (yet) matches.</p>;
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const s of rows) {
    t0 = Math.min(t0, s.startTs);
    t1 = Math.max(t1, s.startTs + (s.untilReady ?? s.duration) * 1000);
  }
  const spanMs = Math.max(0.001, (t1 - t0) / 1000);
  const LABELS = labelsWidth(width);
  const labelStyle = { width: `${LABELS}px`, flexBasis: `${LABELS}px` };
  const track = Math.max(200, (width - LABELS - 30) * zoom);
  const x = (us: number): number => ((us - t0) / 1000 / spanMs) * track;
  const setZoomAt = (z: number, anchorPx?: number): void => {
    const el = ref.current;
    const nz = Math.max(1, Math.min(ZOOMS[ZOOMS.length - 1]!, z));
    if (!el || nz === zoom) return;
    // Keep the time under the pointer (or the middle) where it is.
    const a = anchorPx ?? el.clientWidth / 2;
    const tAt = (el.scrollLeft + a - LABELS) / track;
    setZoom(nz);
    requestAnimationFrame(() => {
      const nt = Math.max(200, (width - LABELS - 30) * nz);
      el.scrollLeft = Math.max(0, tAt * nt + LABELS - a);
    });
  };
  let lastConn = -1;
  return (
    <div class="wf-box">
      <div class="wf-tools">
        <span class="muted">timeline of these {plural(rows.length, 'statement')}: {fmtMs(spanMs)} from the first start</span>
        <button data-testid="zoom-out" disabled={zoom <= 1} onClick={() => setZoomAt(zoom / 2)}>
          −
        </button>
        <span data-testid="zoom-level">{zoom}×</span>
        <button data-testid="zoom-in" disabled={zoom >= ZOOMS[ZOOMS.length - 1]!} onClick={() => setZoomAt(zoom * 2)}>
          +
        </button>
        <button disabled={zoom === 1} onClick={() => setZoomAt(1)}>
          fit
        </button>
        <span class="muted small">(Ctrl + wheel zooms at the pointer)</span>
        <span class="legend">
          <span class="bar-run sample" /> to completion <span class="bar-ready sample" /> until ReadyForQuery <span class="bar-run error sample" /> error
        </span>
      </div>
      <div
        class="waterfall"
        ref={ref}
        data-testid="waterfall"
        onWheel={(e) => {
          if (!e.ctrlKey) return;
          e.preventDefault();
          const el = ref.current!;
          setZoomAt(e.deltaY < 0 ? zoom * 2 : zoom / 2, e.clientX - el.getBoundingClientRect().left);
        }}
      >
        <div class="wf-axis" style={{ width: `${LABELS + track + 20}px` }}>
          <span class="wf-labels" style={labelStyle}>
            <span class="st-conn">conn</span>
            <span class="st-start">start</span>
            <span class="st-dur">duration</span>
            <span class="st-tag">result</span>
            <span class="st-sql">SQL</span>
          </span>
          <span class="wf-track" style={{ width: `${track}px` }}>
            {ticks(spanMs, track).map((t) => (
              <span key={t} class="tick" style={{ left: `${(t / spanMs) * track}px` }}>
                +{fmtMs(t)}
              </span>
            ))}
          </span>
        </div>
        {rows.map((s) => {
          const isOpen = open.has(s.id);
          const lane = props.byConn && s.conn !== lastConn;
          lastConn = s.conn;
          const left = x(s.startTs);
          return (
            <div key={s.id} class={`st-wrap ${lane ? 'lane-start' : ''}`}>
              {lane && (
                <div class="lane-head" style={{ width: `${LABELS + track + 20}px` }}>
                  <span class="wf-labels" style={labelStyle}>connection #{s.conn}</span>
                </div>
              )}
              <div
                class={`st ${s.error ? 'error' : ''} ${s.pipelined ? 'pipelined' : ''}`}
                style={{ width: `${LABELS + track + 20}px` }}
                data-testid="statement-row"
                data-id={s.id}
                data-sql={s.sql}
                data-error={s.error ? s.error.code : undefined}
                title={s.firstMessage === null ? 'its messages are no longer kept' : 'click: show its first message'}
                onClick={() => (s.firstMessage !== null ? props.onShowMessage(s.firstMessage) : props.onMissing(s))}
              >
                <span class="wf-labels" style={labelStyle}>
                  <span
                    class="twisty"
                    data-testid="statement-expand"
                    title="details"
                    onClick={(e) => {
                      e.stopPropagation();
                      const n = new Set(open);
                      if (isOpen) n.delete(s.id);
                      else n.add(s.id);
                      setOpen(n);
                    }}
                  >
                    {isOpen ? '▾' : '▸'}
                  </span>
                  <span class="st-conn">#{s.conn}</span>
                  <span class="st-start">+{fmtMs((s.startTs - t0) / 1000)}</span>
                  <span class="st-dur" data-testid="statement-duration">
                    {fmtMs(s.duration)}
                  </span>
                  <span class="st-tag" data-testid="statement-result">
                    {s.error ? `${s.error.code} ${s.error.message}` : `${s.tag ?? ''}${s.rows !== null && !(s.tag ?? '').startsWith('SELECT') ? ` · ${plural(s.rows, 'row')}` : ''}`}
                  </span>
                  <span class="st-sql" title={s.params.length > 0 ? `${s.sql}\n${s.params.map((p, i) => `$${i + 1} = ${p.value === null ? 'NULL' : p.value}${p.type === null ? '' : `::${p.type}`}`).join('\n')}` : s.sql}>
                    {s.pipelined && (
                      <span class="badge pipe" title="sent before the previous statement on its connection had completed" data-testid="pipelined">
                        pipelined
                      </span>
                    )}
                    <span class="sql-text">{s.sql}</span>
                    {s.params.length > 0 && (
                      <span class="params">
                        {s.params.slice(0, 6).map((p, i) => (
                          <Param key={i} p={p} i={i} />
                        ))}
                        {s.params.length > 6 && <span class="muted"> +{s.params.length - 6} more</span>}
                      </span>
                    )}
                  </span>
                </span>
                <span class="wf-track" style={{ width: `${track}px` }}>
                  <span class="bar-ready" style={{ left: `${left}px`, width: `${Math.max(1, ((s.untilReady ?? s.duration) / spanMs) * track)}px` }} />
                  <span class="bar-run" style={{ left: `${left}px`, width: `${Math.max(2, (s.duration / spanMs) * track)}px` }} />
                </span>
              </div>
              {isOpen && <Details s={s} onShowMessage={props.onShowMessage} />}
            </div>
          );
        })}
      </div>
    </div>
  );
}

function Fingerprints(props: { groups: FingerprintGroup[] }) {
  const [all, setAll] = useState(false);
  const groups = all ? props.groups : props.groups.slice(0, GROUPS_SHOWN);
  if (props.groups.length === 0) return <p class="empty">No statement yet.</p>;
  return (
    <>
      <table class="fps" data-testid="fingerprints">
        <thead>
          <tr>
            <th class="num">count</th>
            <th class="num">total</th>
            <th class="num">p50</th>
            <th class="num">p95</th>
            <th class="num">max</th>
            <th class="num">errors</th>
            <th>statement (constants replaced)</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.fingerprint} data-testid="fingerprint-row" class={g.nPlusOne ? 'nplus1' : ''} data-fingerprint={g.fingerprint}>
              <td class="num">{fmtCount(g.count)}</td>
              <td class="num">{fmtMs(g.totalMs)}</td>
              <td class="num">{fmtMs(g.p50)}</td>
              <td class="num">{fmtMs(g.p95)}</td>
              <td class="num">{fmtMs(g.maxMs)}</td>
              <td class={`num ${g.errors > 0 ? 'err' : ''}`}>{fmtCount(g.errors)}</td>
              <td>
                {g.nPlusOne && <span class="badge nplus1-badge">N+1?</span>}
                <code>{g.fingerprint}</code>
                {g.nPlusOne && g.maxTxn && (
                  <div class="hint" data-testid="nplus1-hint">
                    ran {fmtCount(g.maxInOneTxn)} times in one transaction on #{g.maxTxn.conn} — N+1? (one query per row of an earlier one: a join or an IN list would do it in one)
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.groups.length > groups.length && (
        <button class="link" onClick={() => setAll(true)}>
          all {fmtCount(props.groups.length)} fingerprints
        </button>
      )}
    </>
  );
}

export function Statements(props: { source: InspectorSource; version: number; conn: number | undefined; onShowMessage: (id: number) => void }) {
  const { source, conn } = props;
  const [slowest, setSlowest] = useState(false);
  const [errors, setErrors] = useState(false);
  const [byConn, setByConn] = useState(false);
  const [searchText, setSearchText] = useState('');
  const search = useDebounced(searchText.trim(), 250);
  const [note, setNote] = useState<string | null>(null);
  const q = { ...(conn === undefined ? {} : { conn }), slowest, errors, search };
  const qKey = JSON.stringify(q);
  // A page within one question; a new question starts at its first page.
  const [pos, setPos] = useState({ key: qKey, offset: 0 });
  const off = pos.key === qKey ? pos.offset : 0;
  const setOffset = (offset: number): void => setPos({ key: qKey, offset });
  const page = useRemote(() => source.statements({ ...q, offset: off, limit: PAGE }), `${qKey}@${off}`, props.version);
  const groups = useRemote(() => source.fingerprints(conn), String(conn), props.version);
  const p = page.data;
  const nplus1 = (groups.data ?? []).filter((g) => g.nPlusOne).length;
  return (
    <div class="statements">
      <div class="toolbar">
        <button data-testid="slowest-toggle" class={slowest ? 'on' : ''} aria-pressed={slowest} onClick={() => setSlowest(!slowest)}>
          slowest first
        </button>
        <button data-testid="errors-toggle" class={errors ? 'on' : ''} aria-pressed={errors} onClick={() => setErrors(!errors)}>
          errors only
        </button>
        <button data-testid="lanes-toggle" class={byConn ? 'on' : ''} aria-pressed={byConn} onClick={() => setByConn(!byConn)} title="one lane per connection">
          by connection
        </button>
        <input class="search" data-testid="statement-search" placeholder="SQL contains" spellcheck={false} value={searchText} onInput={(e) => setSearchText((e.target as HTMLInputElement).value)} />
        {p && (
          <span class="total" data-testid="statement-total">
            {plural(p.total, 'statement')}
            {p.total > PAGE && (
              <>
                {' '}
                <button disabled={off === 0} onClick={() => setOffset(Math.max(0, off - PAGE))}>
                  ‹
                </button>{' '}
                {fmtCount(off + 1)}–{fmtCount(Math.min(p.total, off + PAGE))}{' '}
                <button disabled={off + PAGE >= p.total} onClick={() => setOffset(off + PAGE)}>
                  ›
                </button>
              </>
            )}
          </span>
        )}
        <span class="muted small">click a statement to see its messages; ▸ for details</span>
      </div>
      {page.error && <div class="err">{page.error}</div>}
      {note && (
        <div class="notice" data-testid="statement-notice">
          {note}
        </div>
      )}
      <Waterfall rows={p?.rows ?? []} byConn={byConn} onShowMessage={props.onShowMessage} onMissing={(s) => setNote(`the messages of statement ${s.id} are no longer kept`)} />
      <h3>
        By fingerprint <span class="muted small">(as --summary: every statement seen{conn === undefined ? '' : ` on #${conn}`}, most total time first)</span>
        {nplus1 > 0 && (
          <span class="badge nplus1-badge" data-testid="nplus1-count">
            {plural(nplus1, 'N+1 hint')}
          </span>
        )}
      </h3>
      {groups.error && <div class="err">{groups.error}</div>}
      <Fingerprints groups={groups.data ?? []} />
    </div>
  );
}
