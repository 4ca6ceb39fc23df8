import { useEffect, useState } from 'preact/hooks';
import type { InspectorSource, Overview } from '../../src/inspector/types.js';
import { Charts } from './charts.js';
import { Connections } from './connections.js';
import { Faults } from './faults.js';
import { fmtCount } from './format.js';
import type { LiveSource } from './http-source.js';
import { Messages } from './messages.js';
import { Statements } from './statements.js';

type Tab = 'messages' | 'statements' | 'charts' | 'faults';

export interface Focus {
  /** A message to show (a statement's first message): the list scrolls to it. */
  message: number | null;
}

export function App(props: { source: InspectorSource; live: LiveSource | null; note: string | null }) {
  const { source, live } = props;
  const [overview, setOverview] = useState<Overview | null>(null);
  const [version, setVersion] = useState(0);
  const [paused, setPaused] = useState(false);
  const [conn, setConn] = useState<number | undefined>(undefined);
  const [tab, setTab] = useState<Tab>('messages');
  const [focus, setFocus] = useState<Focus>({ message: null });
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!live || paused) return;
    return live.updates((v) => setVersion(v));
  }, [live, paused]);

  useEffect(() => {
    let gone = false;
    source.overview().then(
      (o) => {
        if (!gone) {
          setOverview(o);
          setError(null);
        }
      },
      (e: unknown) => !gone && setError(String(e)),
    );
    return () => {
      gone = true;
    };
  }, [source, version]);

  if (!overview) return <div class="loading">{error ?? 'loading…'}</div>;
  const c = overview.counts;
  const showMessage = (id: number | null): void => {
    setFocus({ message: id });
    setTab('messages');
  };
  return (
    <div class="app">
      <header class="top">
        <span class="brand">pgscope</span>
        <span class="title">{overview.title}</span>
        <span class={`mode mode-${overview.mode}`} data-testid="mode">
          {overview.mode}
        </span>
        {overview.redacted && <span class="badge">passwords redacted</span>}
        <span class="counts" data-testid="counts">
          {fmtCount(c.connections)} connections · {fmtCount(c.messages)} messages · {fmtCount(c.statements)} statements ·{' '}
          <span class={c.errors > 0 ? 'err' : ''}>{fmtCount(c.errors)} errors</span>
        </span>
        {live && (
          <button data-testid="pause-toggle" class={paused ? 'on' : ''} onClick={() => setPaused(!paused)} title="stop or resume live updates">
            {paused ? '▶ resume' : '⏸ pause'}
          </button>
        )}
        {props.note && <span class="note">{props.note}</span>}
      </header>
      {c.dropped > 0 && (
        <div class="banner" data-testid="dropped-banner">
          The inspector keeps the last {fmtCount(overview.limits.messagesPerConnection)} messages per connection ({fmtCount(overview.limits.messages)} in all): {fmtCount(c.dropped)} older
          messages were dropped (statements and their figures are complete).
        </div>
      )}
      {overview.warnings.length > 0 && (
        <div class="banner warn" data-testid="warnings">
          {overview.warnings.slice(-3).map((w) => (
            <div key={w.ts + w.text}>{w.text}</div>
          ))}
        </div>
      )}
      <div class="body">
        <Connections overview={overview} selected={conn} onSelect={setConn} />
        <main class="main">
          <nav class="tabs">
            {(['messages', 'statements', 'charts', ...(overview.faults ? ['faults'] : [])] as Tab[]).map((t) => (
              <button key={t} data-testid={`tab-${t}`} class={tab === t ? 'active' : ''} onClick={() => setTab(t)}>
                {t}
              </button>
            ))}
            {conn !== undefined && (
              <span class="scope">
                connection #{conn}{' '}
                <button data-testid="all-connections" onClick={() => setConn(undefined)}>
                  all
                </button>
              </span>
            )}
          </nav>
          {tab === 'messages' && <Messages source={source} version={version} conn={conn} live={live !== null && !paused} focus={focus} />}
          {tab === 'statements' && <Statements source={source} version={version} conn={conn} onShowMessage={showMessage} />}
          {tab === 'charts' && <Charts source={source} version={version} conn={conn} />}
          {tab === 'faults' && live && <Faults live={live} version={version} />}
        </main>
      </div>
    </div>
  );
}
