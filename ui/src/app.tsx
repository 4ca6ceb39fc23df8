import { Component, type ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { InspectorSource, Overview } from '../../src/inspector/types.js';
import { Charts } from './charts.js';
import { Connections } from './connections.js';
import { Faults } from './faults.js';
import { fmtCount, plural } from './format.js';
import { useRemote } from './hooks.js';
import type { LiveSource, StreamState } from './http-source.js';
import { Messages, type Focus } from './messages.js';
import { Statements } from './statements.js';

type Tab = 'messages' | 'statements' | 'charts' | 'faults';

/** Anything a view throws is shown where the view was, not as a blank page. */
class Guard extends Component<{ children: ComponentChildren; name: string }, { error: string | null }> {
  override state = { error: null as string | null };
  override componentDidCatch(e: unknown): void {
    this.setState({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
  override render() {
    if (this.state.error)
      return (
        <div class="crash" data-testid="view-error">
          The {this.props.name} view failed: {this.state.error}{' '}
          <button onClick={() => this.setState({ error: null })}>try again</button>
        </div>
      );
    return this.props.children;
  }
}

function Header(props: { o: Overview; live: LiveSource | null; paused: boolean; stream: StreamState | null; note: string | null }) {
  const { o } = props;
  const c = o.counts;
  return (
    <header class="top">
      <span class="brand">pgscope</span>
      <span class="title" data-testid="title" title={o.title}>
        {o.title}
      </span>
      <span class={`mode mode-${o.mode}`} data-testid="mode">
        {o.mode === 'capture' ? 'capture' : o.mode}
      </span>
      {o.redacted && (
        <span class="badge redacted" data-testid="redacted-badge" title="values marked secret (passwords, MD5 hashes) were redacted before the inspector saw them">
          redacted
        </span>
      )}
      <span class="counts" data-testid="counts">
        {plural(c.connections, 'connection')} · {plural(c.messages, 'message')}
        {c.dropped > 0 && ` (${fmtCount(c.kept)} kept)`} · {plural(c.statements, 'statement')} ·{' '}
        <span class={c.errors > 0 ? 'err' : ''} data-testid="error-count">
          {plural(c.errors, 'error')}
        </span>
      </span>
      {o.mode === 'live' && props.live && (
        <>
          <span class={`stream stream-${props.paused ? 'paused' : (props.stream ?? 'connecting')}`} data-testid="stream-state" title="the update stream from pgscope">
            {props.paused ? 'paused' : props.stream === 'open' ? 'live' : props.stream === 'retrying' ? 'reconnecting…' : 'connecting…'}
          </span>
        </>
      )}
      {props.note && <span class="note">{props.note}</span>}
    </header>
  );
}

function Banners(props: { o: Overview; error: string | null }) {
  const { o } = props;
  const [allWarnings, setAllWarnings] = useState(false);
  const w = o.warnings;
  const shown = allWarnings ? w : w.slice(-3);
  return (
    <>
      {props.error && (
        <div class="banner bad" data-testid="api-error">
          pgscope does not answer: {props.error}
        </div>
      )}
      {o.counts.dropped > 0 && (
        <div class="banner" data-testid="dropped-banner">
          The inspector keeps the last {fmtCount(o.limits.messagesPerConnection)} messages per connection ({fmtCount(o.limits.messages)} in all); {fmtCount(o.counts.dropped)} older{' '}
          {o.counts.dropped === 1 ? 'one was' : 'ones were'} dropped. Statements, their figures and the charts count everything.
        </div>
      )}
      {w.length > 0 && (
        <div class="banner warn" data-testid="warnings">
          {shown.map((x, i) => (
            <div key={`${x.ts}-${i}`} class={`warning level-${x.level}`}>
              <b>{x.level}</b> {x.text}
            </div>
          ))}
          {w.length > 3 && (
            <button class="link" onClick={() => setAllWarnings(!allWarnings)}>
              {allWarnings ? 'fewer' : `all ${w.length} warnings`}
            </button>
          )}
        </div>
      )}
    </>
  );
}

export function App(props: { source: InspectorSource; live: LiveSource | null; note: string | null }) {
  const { source, live } = props;
  const [latest, setLatest] = useState(0);
  const [paused, setPaused] = useState(false);
  const [shown, setShown] = useState(0);
  const [stream, setStream] = useState<StreamState | null>(null);
  const [conn, setConn] = useState<number | undefined>(undefined);
  const [tab, setTab] = useState<Tab>('messages');
  const [focus, setFocus] = useState<Focus | null>(null);
  const focusN = useRef(0);

  // pgscope says when something changed; the page asks again for what it shows (unless paused).
  useEffect(() => {
    if (!live) return;
    return live.updates(setLatest, setStream);
  }, [live]);
  useEffect(() => {
    if (!paused) setShown(latest);
  }, [latest, paused]);

  const ov = useRemote(() => source.overview(), 'overview', shown);
  // The version each view last saw: the one shown follows updates, the others wait until shown.
  const seenRef = useRef<Record<Tab, number>>({ messages: 0, statements: 0, charts: 0, faults: 0 });
  seenRef.current[tab] = shown;
  const seen = seenRef.current;
  const o = ov.data;
  const isLive = o?.mode === 'live';

  const showMessage = useCallback((id: number) => {
    setFocus({ id, n: ++focusN.current });
    setTab('messages');
  }, []);

  if (!o) return <div class="loading">{ov.error ? `pgscope does not answer: ${ov.error}` : 'loading…'}</div>;
  const tabs: Tab[] = ['messages', 'statements', 'charts', ...(o.faults && live ? (['faults'] as const) : [])];
  const selected = conn === undefined ? undefined : o.connections.find((c) => c.conn === conn);
  return (
    <div class="app">
      <Header o={o} live={live} paused={paused} stream={stream} note={props.note} />
      <Banners o={o} error={ov.error} />
      <div class="body">
        <Guard name="connections">
          <Connections overview={o} live={isLive} selected={conn} onSelect={setConn} />
        </Guard>
        <main class="main">
          <nav class="tabs" role="tablist">
            {tabs.map((t) => (
              <button key={t} role="tab" aria-selected={tab === t} data-testid={`tab-${t}`} class={tab === t ? 'active' : ''} onClick={() => setTab(t)}>
                {t === 'messages' ? 'Messages' : t === 'statements' ? 'Statements' : t === 'charts' ? 'Charts' : 'Faults'}
              </button>
            ))}
            {conn !== undefined && (
              <span class="scope" data-testid="scope">
                only connection #{conn}
                {selected?.applicationName ? ` (${selected.applicationName})` : ''}{' '}
                <button data-testid="all-connections" onClick={() => setConn(undefined)}>
                  show all
                </button>
              </span>
            )}
          </nav>
          {/* Every view stays mounted (its toggles, filter and scroll position kept); only the one shown asks pgscope for updates. */}
          <div class={`view ${tab === 'messages' ? '' : 'hidden'}`}>
            <Guard name="messages">
              <Messages source={source} version={seen.messages} active={tab === 'messages'} conn={conn} live={isLive} paused={paused} onPause={() => setPaused(!paused)} focus={focus} onFocusDone={() => setFocus(null)} />
            </Guard>
          </div>
          <div class={`view ${tab === 'statements' ? '' : 'hidden'}`}>
            <Guard name="statements">
              <Statements source={source} version={seen.statements} conn={conn} onShowMessage={showMessage} />
            </Guard>
          </div>
          <div class={`view ${tab === 'charts' ? '' : 'hidden'}`}>
            <Guard name="charts">
              <Charts source={source} version={seen.charts} conn={conn} />
            </Guard>
          </div>
          {live && o.faults && (
            <div class={`view ${tab === 'faults' ? '' : 'hidden'}`}>
              <Guard name="faults">
                <Faults live={live} version={seen.faults} />
              </Guard>
            </div>
          )}
        </main>
      </div>
    </div>
  );
}
