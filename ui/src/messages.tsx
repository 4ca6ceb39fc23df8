import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { InspectorSource, MessageRow } from '../../src/inspector/types.js';
import type { Focus } from './app.js';
import { arrow, fmtTime } from './format.js';
import { MessagePane } from './message-pane.js';

const ROW = 22;
const PAGE = 200;

const FILTER_HELP = 'The --filter language: Query, DataRow (names) · client, server, pgscope · errors · queries · conn=3 · sql ~ "regex", sql ~* "regex", sql contains "text" · and, or, not, ( )';

/** Rows by index for one query (filter, search, connection), fetched a page at a time around what is visible. */
class RowCache {
  rows = new Map<number, MessageRow>();
  /** The generation each page was fetched in; a page of an older one is asked again (it still shows meanwhile). */
  pageGen = new Map<number, number>();
  pending = new Set<string>();
  gen = 0;
  key = '';
}

export function Messages(props: { source: InspectorSource; version: number; conn: number | undefined; live: boolean; focus: Focus }) {
  const { source, conn } = props;
  const [filter, setFilter] = useState('');
  const [applied, setApplied] = useState('');
  const [search, setSearch] = useState('');
  const [total, setTotal] = useState(0);
  const [filterError, setFilterError] = useState<string | null>(null);
  const [follow, setFollow] = useState(props.live);
  const [selected, setSelected] = useState<number | null>(null);
  const [, setTick] = useState(0);
  const scrollRef = useRef<HTMLDivElement>(null);
  const cache = useRef(new RowCache());
  const key = `${applied}\u0000${search}\u0000${conn ?? ''}`;

  const virtualizer = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count: 0,
        getScrollElement: () => scrollRef.current,
        estimateSize: () => ROW,
        overscan: 30,
        observeElementRect,
        observeElementOffset,
        scrollToFn: elementScroll,
        onChange: () => setTick((t) => t + 1),
      }),
    [],
  );
  virtualizer.setOptions({ ...virtualizer.options, count: total });
  useLayoutEffect(() => virtualizer._didMount(), [virtualizer]);
  useLayoutEffect(() => virtualizer._willUpdate());

  const fetchPage = (page: number, k: string): void => {
    const c = cache.current;
    const gen = c.gen;
    const tag = `${page}:${gen}`;
    if (c.pending.has(tag) || c.pageGen.get(page) === gen) return;
    c.pending.add(tag);
    source
      .messages({ filter: applied, search, ...(conn === undefined ? {} : { conn }), offset: page * PAGE, limit: PAGE })
      .then((p) => {
        if (c.key !== k) return;
        c.pending.delete(tag);
        c.pageGen.set(page, gen);
        if (p.error) {
          setFilterError(p.error);
          setTotal(0);
          return;
        }
        setFilterError(null);
        p.rows.forEach((r, i) => c.rows.set(p.offset + i, r));
        setTotal(p.total);
        setTick((t) => t + 1);
      })
      .catch(() => c.pending.delete(tag));
  };

  // A new query: forget the rows, ask again.
  useEffect(() => {
    const c = cache.current;
    c.key = key;
    c.rows.clear();
    c.pageGen.clear();
    c.pending.clear();
    c.gen++;
    setTotal(0);
    fetchPage(0, key);
  }, [key, source]);

  // Something new (live): ask for the count and the visible pages again.
  useEffect(() => {
    const c = cache.current;
    c.gen++;
    const items = virtualizer.getVirtualItems();
    const first = items[0]?.index ?? 0;
    const last = items[items.length - 1]?.index ?? 0;
    const pages = new Set([Math.floor(first / PAGE), Math.floor(last / PAGE)]);
    if (follow) pages.add(Math.max(0, Math.floor((total - 1) / PAGE)));
    // The page after the last one known: where new rows land.
    pages.add(Math.floor(total / PAGE));
    for (const p of pages) fetchPage(p, c.key);
  }, [props.version]);

  // Follow: stay at the newest.
  useEffect(() => {
    if (follow && total > 0) virtualizer.scrollToIndex(total - 1, { align: 'end' });
  }, [follow, total]);

  // A statement asked to show its first message: find its index, scroll there, select it.
  useEffect(() => {
    const id = props.focus.message;
    if (id === null) return;
    setFollow(false);
    setApplied('');
    setFilter('');
    setSearch('');
    setSelected(id);
    void (async () => {
      // Rows are in id order: a binary search over pages of one row.
      let lo = 0;
      let hi = (await source.messages({ offset: 0, limit: 0, ...(conn === undefined ? {} : { conn }) })).total - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const r = (await source.messages({ offset: mid, limit: 1, ...(conn === undefined ? {} : { conn }) })).rows[0];
        if (!r) break;
        if (r.id === id) {
          virtualizer.scrollToIndex(mid, { align: 'center' });
          return;
        }
        if (r.id < id) lo = mid + 1;
        else hi = mid - 1;
      }
    })();
  }, [props.focus]);

  const items = virtualizer.getVirtualItems();
  const c = cache.current;
  for (const it of items) {
    const page = Math.floor(it.index / PAGE);
    if (c.pageGen.get(page) !== c.gen) fetchPage(page, c.key);
  }

  const onKey = (e: KeyboardEvent): void => {
    if (e.key === 'Enter') setApplied(filter.trim());
  };

  return (
    <div class="messages">
      <div class="toolbar">
        <input data-testid="filter-input" class={`filter ${filterError ? 'bad' : ''}`} placeholder='filter: errors · Query, Parse · conn=3 and not DataRow · sql ~* "orders"  (Enter)' value={filter} title={FILTER_HELP} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} onKeyDown={onKey} onBlur={() => setApplied(filter.trim())} />
        <input data-testid="search-input" class="search" placeholder="search text" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        <span class="total" data-testid="message-total">
          {total.toLocaleString('en-US')} messages
        </span>
        {props.live && (
          <button data-testid="follow-toggle" class={follow ? 'on' : ''} onClick={() => setFollow(!follow)} title="keep the newest message in view">
            {follow ? '⇣ following' : '⇣ follow'}
          </button>
        )}
      </div>
      {filterError && (
        <div class="filter-error" data-testid="filter-error">
          {filterError}
        </div>
      )}
      <div class="split">
        <div
          class="list"
          ref={scrollRef}
          data-testid="message-list"
          onWheel={(e) => {
            if (follow && e.deltaY < 0) setFollow(false);
          }}
        >
          <div style={{ height: `${virtualizer.getTotalSize()}px`, position: 'relative' }}>
            {items.map((it) => {
              const r = c.rows.get(it.index);
              return (
                <div
                  key={it.index}
                  class={`row ${r ? `from-${r.from}` : 'loading'} ${r?.error ? 'error' : ''} ${r && r.id === selected ? 'selected' : ''} kind-${r?.kind ?? ''}`}
                  data-testid="message-row"
                  data-id={r?.id}
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: `${ROW}px`, transform: `translateY(${it.start}px)` }}
                  onClick={() => r && setSelected(r.id)}
                >
                  {r ? (
                    <>
                      <span class="c-id">{r.id}</span>
                      <span class="c-time">{fmtTime(r.ts)}</span>
                      <span class="c-conn">#{r.conn ?? '–'}</span>
                      <span class="c-dir">{arrow(r.from, r.to)}</span>
                      <span class="c-name">{r.msg}</span>
                      <span class="c-sum">{r.summary}</span>
                    </>
                  ) : (
                    <span class="c-sum">…</span>
                  )}
                </div>
              );
            })}
          </div>
        </div>
        <MessagePane source={source} id={selected} />
      </div>
    </div>
  );
}
