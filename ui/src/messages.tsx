import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { FilterError, parseExpression } from '../../src/filter/index.js';
import type { InspectorSource, MessageQuery, MessageRow } from '../../src/inspector/types.js';
import { arrow, errorText, fmtCount, fmtTime, side } from './format.js';
import { useDebounced } from './hooks.js';
import { MessagePane } from './message-pane.js';

/** A message to bring into view (a statement's first message); `n` tells two requests for the same id apart. */
export interface Focus {
  id: number;
  n: number;
}

/** Every row is this tall (px): no measuring, a million rows cost nothing more than fifty. */
const ROW = 22;
/** Rows asked for at once, around what is visible. */
const PAGE = 200;
/**
 * Rows the list holds at once: a browser cannot make an element taller than about 33
 * million pixels. Beyond, the list shows a window of this many, moved with buttons.
 */
const WINDOW = 1_000_000;
/** Pages kept in memory; the farthest from the view are forgotten first. */
const KEEP_PAGES = 40;

const EXAMPLES: { filter: string; what: string }[] = [
  { filter: 'Query, Parse', what: 'these messages (names as in PostgreSQL’s Message Formats)' },
  { filter: 'errors', what: 'ErrorResponses and bytes that did not decode' },
  { filter: 'conn=3', what: 'connection 3 (conn=2-5: a range)' },
  { filter: 'sql ~* "orders"', what: 'requests whose SQL matches, case-insensitive (~ is case-sensitive; sql contains "text")' },
  { filter: 'not DataRow', what: 'everything but DataRow' },
  { filter: 'server and not (DataRow or RowDescription)', what: 'and, or, not, parentheses' },
  { filter: 'queries', what: 'requests that run SQL (Query, Parse, Bind, Execute…)' },
  { filter: 'client', what: 'what the client sent (server: what the server sent; pgscope: its own)' },
];

interface Page {
  gen: number;
  rows: MessageRow[];
}

/** Rows of one query (filter, search, connection), by page; refreshed a page at a time. */
class RowCache {
  key = '';
  /** Moves when pgscope has news: a page of an older generation still shows, and is asked again when in view. */
  gen = 0;
  pages = new Map<number, Page>();
  /** Pages asked for, and in which generation. */
  pending = new Map<number, number>();
  /** The total of the latest question answered wins (answers may overtake each other). */
  seq = 0;
  totalSeq = 0;

  row(offset: number): MessageRow | undefined {
    return this.pages.get(Math.floor(offset / PAGE))?.rows[offset % PAGE];
  }

  reset(key: string): void {
    this.key = key;
    this.gen++;
    this.pages.clear();
    this.pending.clear();
  }

  /** Forget the pages farthest from `page` beyond KEEP_PAGES. */
  trim(page: number): void {
    if (this.pages.size <= KEEP_PAGES) return;
    const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - page) - Math.abs(a - page));
    for (const p of far.slice(0, this.pages.size - KEEP_PAGES)) this.pages.delete(p);
  }
}

function FilterHelp(props: { onPick: (f: string) => void; onClose: () => void }) {
  return (
    <div class="popover" data-testid="filter-help" role="dialog">
      <div class="popover-head">
        The <code>--filter</code> language <button class="link" onClick={props.onClose}>close</button>
      </div>
      <table>
        <tbody>
          {EXAMPLES.map((e) => (
            <tr key={e.filter}>
              <td>
                <button class="example" data-testid="filter-example" onClick={() => props.onPick(e.filter)}>
                  {e.filter}
                </button>
              </td>
              <td>{e.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        In a string, <code>\"</code> is a double quote. Enter applies the filter; the plain-text search box looks in names and summaries.
      </p>
    </div>
  );
}

function keyOf(filter: string, search: string, conn: number | undefined): string {
  return `${filter}\u0000${search}\u0000${conn ?? ''}`;
}

/** Where a --filter expression goes wrong (the same parser pgscope uses), or null when it parses. */
function filterProblem(text: string): { message: string; position: number } | null {
  if (text.trim() === '') return null;
  try {
    parseExpression(text);
    return null;
  } catch (e) {
    if (e instanceof FilterError) return { message: e.message, position: e.position };
    return { message: errorText(e), position: 0 };
  }
}

export function Messages(props: {
  source: InspectorSource;
  version: number;
  active: boolean;
  conn: number | undefined;
  live: boolean;
  paused: boolean;
  onPause: () => void;
  focus: Focus | null;
  onFocusDone: () => void;
}) {
  const { source, conn } = props;
  const [filterText, setFilterText] = useState('');
  const [filter, setFilter] = useState('');
  const [searchText, setSearchText] = useState('');
  const search = useDebounced(searchText.trim(), 250);
  const [serverError, setServerError] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [total, setTotal] = useState(0);
  const [base, setBase] = useState(0);
  const [follow, setFollow] = useState(props.live);
  const [selected, setSelected] = useState<number | null>(null);
  const [selIndex, setSelIndex] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [listHeight, setListHeight] = useState<number | null>(null);
  const [, setTick] = useState(0);
  const scrollRef = useRef<HTMLDivElement>(null);
  const cache = useRef(new RowCache()).current;
  const query = useRef<Omit<MessageQuery, 'offset' | 'limit'>>({});
  /** A row to bring into view once its query's rows are counted (a jump from a statement). */
  const pendingScroll = useRef<{ at: number; key: string } | null>(null);
  /** The total last counted, and for which question. */
  const known = useRef({ key: '', total: -1 });

  const problem = useMemo(() => filterProblem(filterText), [filterText]);
  const key = keyOf(filter, search, conn);
  const count = Math.max(0, Math.min(total - base, WINDOW));

  useEffect(() => setFollow(props.live), [props.live]);

  // A filter that parses applies by itself after a pause in typing (Enter: at once).
  useEffect(() => {
    if (problem || filterText.trim() === filter) return;
    const t = setTimeout(() => setFilter(filterText.trim()), 400);
    return () => clearTimeout(t);
  }, [filterText, problem]);

  const virtualizer = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count: 0,
        getScrollElement: () => scrollRef.current,
        estimateSize: () => ROW,
        overscan: 20,
        observeElementRect,
        observeElementOffset,
        scrollToFn: elementScroll,
        onChange: () => setTick((t) => t + 1),
      }),
    [],
  );
  virtualizer.setOptions({ ...virtualizer.options, count });
  useLayoutEffect(() => virtualizer._didMount(), [virtualizer]);
  useLayoutEffect(() => virtualizer._willUpdate());

  /** Bring row `index` (of the window) into view: at the end, in the middle, or just into view. */
  const scrollToRow = (index: number, align: 'end' | 'center' | 'auto'): void => {
    const el = scrollRef.current;
    if (!el) return;
    const top = index * ROW;
    const h = el.clientHeight;
    if (align === 'end') el.scrollTop = Math.max(0, top + ROW - h);
    else if (align === 'center') el.scrollTop = Math.max(0, top - (h - ROW) / 2);
    else if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW > el.scrollTop + h) el.scrollTop = top + ROW - h;
  };

  const fetchPage = (page: number): void => {
    const gen = cache.gen;
    if (page < 0 || cache.pending.get(page) === gen || cache.pages.get(page)?.gen === gen) return;
    cache.pending.set(page, gen);
    const k = cache.key;
    const seq = ++cache.seq;
    source.messages({ ...query.current, offset: page * PAGE, limit: PAGE }).then(
      (p) => {
        if (cache.key !== k) return;
        if (cache.pending.get(page) === gen) cache.pending.delete(page);
        setLoadError(null);
        if (p.error !== undefined) {
          setServerError(p.error);
          setTotal(0);
          return;
        }
        setServerError(null);
        const old = cache.pages.get(page);
        if (!old || old.gen <= gen) cache.pages.set(page, { gen, rows: p.rows });
        if (seq > cache.totalSeq) {
          cache.totalSeq = seq;
          known.current = { key: k, total: p.total };
          setTotal(p.total);
        }
        cache.trim(page);
        setTick((t) => t + 1);
      },
      (e: unknown) => {
        if (cache.pending.get(page) === gen) cache.pending.delete(page);
        setLoadError(errorText(e));
      },
    );
  };

  // A new question (filter, search, connection): forget the rows, count again.
  useEffect(() => {
    query.current = { ...(filter ? { filter } : {}), ...(search ? { search } : {}), ...(conn === undefined ? {} : { conn }) };
    cache.reset(key);
    cache.totalSeq = cache.seq;
    known.current = { key, total: -1 };
    setTotal(0);
    setBase(0);
    setSelIndex(null);
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    fetchPage(0);
  }, [key, source]);

  // Something new: the pages in view (and where new rows land) are asked again; others when seen.
  useEffect(() => {
    if (!props.active) return;
    cache.gen++;
    const items = virtualizer.getVirtualItems();
    const pages = new Set<number>();
    for (const it of items) pages.add(Math.floor((base + it.index) / PAGE));
    pages.add(Math.floor(total / PAGE));
    if (total > 0) pages.add(Math.floor((total - 1) / PAGE));
    for (const p of pages) fetchPage(p);
  }, [props.version, props.active]);

  // Rows in view that are missing or stale: ask for their pages.
  const items = virtualizer.getVirtualItems();
  useEffect(() => {
    if (!props.active) return;
    for (const it of items) fetchPage(Math.floor((base + it.index) / PAGE));
  });

  // Follow: the newest rows in view, the window at the end.
  useEffect(() => {
    if (!follow || !props.active) return;
    const b = Math.max(0, total - WINDOW);
    if (b !== base) return setBase(b);
    const el = scrollRef.current;
    if (el && count > 0) el.scrollTop = el.scrollHeight;
  }, [follow, total, base, props.active]);

  // A jump waiting for its question's rows to be counted.
  useEffect(() => {
    const p = pendingScroll.current;
    if (!p || cache.key !== p.key || known.current.key !== p.key || known.current.total !== total || total <= p.at) return;
    const b = total <= WINDOW ? 0 : Math.max(0, Math.min(total - WINDOW, p.at - WINDOW / 2));
    if (b !== base) return setBase(b);
    pendingScroll.current = null;
    setSelIndex(p.at - b);
    scrollToRow(p.at - b, 'center');
  });

  // A statement asks to show its first message: find it (rows are in id order), select it.
  useEffect(() => {
    const f = props.focus;
    if (!f) return;
    props.onFocusDone();
    setFollow(false);
    setSelected(f.id);
    setNotice(null);
    const find = async (q: Omit<MessageQuery, 'offset' | 'limit'>): Promise<number | null> => {
      let lo = 0;
      let hi = (await source.messages({ ...q, offset: 0, limit: 0 })).total - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const r = (await source.messages({ ...q, offset: mid, limit: 1 })).rows[0];
        if (!r) return null;
        if (r.id === f.id) return mid;
        if (r.id < f.id) lo = mid + 1;
        else hi = mid - 1;
      }
      return null;
    };
    void (async () => {
      let k = cache.key;
      let at = await find(query.current);
      if (at === null && (query.current.filter || query.current.search)) {
        // Not among the rows the filter or search lets through: show them all.
        at = await find(conn === undefined ? {} : { conn });
        if (at !== null) {
          k = keyOf('', '', conn);
          setFilterText('');
          setFilter('');
          setSearchText('');
          setNotice('the filter and search were cleared to show this message');
        }
      }
      if (at === null) {
        setNotice(`message ${f.id} is no longer kept (the inspector keeps the newest messages of each connection)`);
        return;
      }
      pendingScroll.current = { at, key: k };
      setTick((t) => t + 1);
    })().catch((e: unknown) => setLoadError(errorText(e)));
  }, [props.focus]);

  const applyNow = (): void => {
    if (!problem) setFilter(filterText.trim());
  };

  const pick = (index: number): void => {
    const r = cache.row(base + index);
    if (!r) return;
    setSelected(r.id);
    setSelIndex(index);
    setNotice(null);
  };

  const onListKey = (e: KeyboardEvent): void => {
    const step = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : 0;
    if (step !== 0) {
      e.preventDefault();
      setFollow(false);
      const at = Math.max(0, Math.min(count - 1, (selIndex ?? (step > 0 ? -1 : count)) + step));
      pick(at);
      scrollToRow(at, 'auto');
      return;
    }
    if (['PageUp', 'Home'].includes(e.key)) setFollow(false);
  };

  // Dragging the bar between the list and the message: the list's height.
  const startResize = (e: PointerEvent): void => {
    const list = scrollRef.current;
    if (!list) return;
    e.preventDefault();
    const y0 = e.clientY;
    const h0 = list.clientHeight;
    const move = (ev: PointerEvent): void => setListHeight(Math.max(3 * ROW, h0 + ev.clientY - y0));
    const up = (): void => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  const shownError = problem?.message ?? serverError;
  return (
    <div class="messages">
      <div class="toolbar">
        <div class="filter-box">
          <input
            data-testid="filter-input"
            class={`filter ${shownError ? 'bad' : ''}`}
            placeholder='filter: errors · Query, Parse · conn=3 and not DataRow · sql ~* "orders"'
            spellcheck={false}
            value={filterText}
            aria-invalid={shownError !== null}
            onInput={(e) => setFilterText((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => e.key === 'Enter' && applyNow()}
          />
          <button class={`help ${help ? 'on' : ''}`} data-testid="filter-help-toggle" title="the filter language, with examples" onClick={() => setHelp(!help)}>
            ?
          </button>
          {help && (
            <FilterHelp
              onClose={() => setHelp(false)}
              onPick={(f) => {
                setFilterText(f);
                setFilter(f);
                setHelp(false);
              }}
            />
          )}
        </div>
        <input data-testid="search-input" class="search" placeholder="search text" spellcheck={false} value={searchText} onInput={(e) => setSearchText((e.target as HTMLInputElement).value)} />
        <span class="total" data-testid="message-total">
          {total > WINDOW ? `${fmtCount(base + 1)}–${fmtCount(base + count)} of ` : ''}
          {fmtCount(total)} {filter || search ? 'matching' : total === 1 ? 'message' : 'messages'}
        </span>
        {total > WINDOW && (
          <>
            <button disabled={base === 0} onClick={() => (setFollow(false), setBase(Math.max(0, base - WINDOW / 2)))}>
              earlier
            </button>
            <button disabled={base + count >= total} onClick={() => setBase(Math.min(total - WINDOW, base + WINDOW / 2))}>
              later
            </button>
          </>
        )}
        {props.live && (
          <>
            <button data-testid="follow-toggle" class={follow ? 'on' : ''} aria-pressed={follow} onClick={() => setFollow(!follow)} title="keep the newest message in view">
              {follow ? '⇣ following' : '⇣ follow'}
            </button>
            <button data-testid="pause-toggle" class={props.paused ? 'on' : ''} aria-pressed={props.paused} onClick={props.onPause} title="stop refreshing the page (pgscope keeps recording); resume to catch up">
              {props.paused ? 'resume' : 'pause'}
            </button>
          </>
        )}
      </div>
      {shownError && (
        <div class="filter-error" data-testid="filter-error">
          {problem && (
            <pre class="caret">
              {filterText}
              {'\n'}
              {' '.repeat(problem.position)}^
            </pre>
          )}
          {shownError}
        </div>
      )}
      {loadError && (
        <div class="filter-error" data-testid="load-error">
          {loadError}
        </div>
      )}
      {notice && (
        <div class="notice" data-testid="message-notice">
          {notice}
        </div>
      )}
      <div class="split">
        <div class="list-head row">
          <span class="c-id">id</span>
          <span class="c-time">time (UTC)</span>
          <span class="c-conn">conn</span>
          <span class="c-dir">dir</span>
          <span class="c-name">message</span>
          <span class="c-size">bytes</span>
          <span class="c-sum">summary</span>
        </div>
        <div
          class="list"
          ref={scrollRef}
          data-testid="message-list"
          tabIndex={0}
          {...(listHeight === null ? {} : { style: { flex: `0 0 ${listHeight}px` } })}
          onKeyDown={onListKey}
          onWheel={(e) => e.deltaY < 0 && setFollow(false)}
          onPointerDown={(e) => {
            // On the scroll bar (beyond the content's width): the reader takes over.
            const el = e.currentTarget as HTMLDivElement;
            if (e.offsetX >= el.clientWidth) setFollow(false);
          }}
        >
          <div class="list-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
            {items.map((it) => {
              const r = cache.row(base + it.index);
              const style = { transform: `translateY(${it.start}px)` };
              if (!r)
                return (
                  <div key={it.index} class="row loading" style={style}>
                    <span class="c-id">{fmtCount(base + it.index + 1)}</span>
                    <span class="c-sum">…</span>
                  </div>
                );
              return (
                <div
                  key={it.index}
                  class={`row from-${r.from} kind-${r.kind}${r.error ? ' error' : ''}${r.id === selected ? ' selected' : ''}`}
                  data-testid="message-row"
                  data-id={r.id}
                  data-msg={r.msg}
                  aria-selected={r.id === selected}
                  style={style}
                  onClick={() => {
                    setFollow(false);
                    pick(it.index);
                  }}
                >
                  <span class="c-id">{r.id}</span>
                  <span class="c-time">{fmtTime(r.ts)}</span>
                  <span class="c-conn">{r.conn === null ? '–' : `#${r.conn}`}</span>
                  <span class="c-dir" title={`${side(r.from)} → ${side(r.to)}`}>
                    {arrow(r.from, r.to)}
                  </span>
                  <span class="c-name" title={[r.msg, ...r.sub].join(' › ')}>
                    {r.msg}
                    {r.sub.length > 0 && <span class="sub"> › {r.sub.join(' › ')}</span>}
                  </span>
                  <span class="c-size">{r.kind === 'action' ? '' : r.size}</span>
                  <span class="c-sum">{r.summary}</span>
                </div>
              );
            })}
          </div>
          {total === 0 && !shownError && <div class="empty list-empty">{filter || search ? 'No message matches.' : 'No message yet.'}</div>}
        </div>
        <div class="splitter" onPointerDown={startResize} title="drag to resize" />
        <MessagePane source={source} id={selected} />
      </div>
    </div>
  );
}
