import { useMemo, useState } from 'preact/hooks';
import { parseFaultRule } from '../../src/faults/rule.js';
import { errorText, fmtCount } from './format.js';
import { useRemote } from './hooks.js';
import type { LiveSource } from './http-source.js';

const EXAMPLES = [
  'error 40001 when sql ~* "^\\s*update" once',
  'delay 300ms when sql contains "orders"',
  'fatal 57P01 when server and DataRow after 100',
  'reset when server and DataRow after 1000',
  'notice "hello from pgscope" when Query',
  'delay 50ms..200ms when client',
];

/** The proxy's fault rules (the --fault language): counts, switches, new ones, while the traffic runs. */
export function Faults(props: { live: LiveSource; version: number }) {
  const [bump, setBump] = useState(0);
  const rules = useRemote(() => props.live.faults(), `faults:${bump}`, props.version);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The rule language's own parser (the very one pgscope runs): what is wrong shows as it is typed.
  const problem = useMemo(() => {
    if (text.trim() === '') return null;
    try {
      parseFaultRule(text.trim());
      return null;
    } catch (e) {
      return errorText(e);
    }
  }, [text]);
  const act = async (what: () => Promise<void>): Promise<void> => {
    setBusy(true);
    try {
      await what();
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
      setBump((b) => b + 1);
    }
  };
  const add = (): Promise<void> =>
    act(async () => {
      if (problem) throw new Error(problem);
      const r = await props.live.addFault(text.trim());
      if ('error' in r) throw new Error(r.error);
      setText('');
    });
  const list = rules.data ?? [];
  return (
    <div class="faults">
      <p>
        A rule is <code>ACTION [when CONDITION] [LIMIT…]</code>: actions <code>error SQLSTATE ["message"]</code>, <code>fatal</code>, <code>delay 300ms</code>, <code>reset</code>, <code>close</code>,{' '}
        <code>stall</code>, <code>chunk N</code>, <code>bandwidth 64KB/s</code>, <code>notice "text"</code>, <code>refuse</code>; the condition in the <code>--filter</code> language; limits{' '}
        <code>once</code>, <code>times N</code>, <code>after N</code>, <code>every N</code>, <code>probability P</code>. The first enabled rule that matches a message acts on it, on every connection.
      </p>
      <div class="toolbar">
        <input
          data-testid="fault-input"
          class={`filter ${error || problem ? 'bad' : ''}`}
          spellcheck={false}
          placeholder='error 40001 when sql ~* "^\s*update" once'
          value={text}
          onInput={(e) => {
            setText((e.target as HTMLInputElement).value);
            setError(null);
          }}
          onKeyDown={(e) => e.key === 'Enter' && text.trim() !== '' && void add()}
        />
        <button data-testid="fault-add" disabled={busy || text.trim() === ''} onClick={() => void add()}>
          add rule
        </button>
        <button data-testid="fault-clear" disabled={busy || list.length === 0} onClick={() => void act(() => props.live.clearFaults())}>
          remove all
        </button>
      </div>
      {(error ?? problem) && (
        <div class="filter-error" data-testid="fault-error">
          {error ?? problem}
        </div>
      )}
      <div class="examples muted">
        examples:{' '}
        {EXAMPLES.map((x) => (
          <button key={x} class="example" onClick={() => setText(x)}>
            {x}
          </button>
        ))}
      </div>
      {rules.error && <div class="err">{rules.error}</div>}
      <table class="fps">
        <thead>
          <tr>
            <th class="num">#</th>
            <th>on</th>
            <th class="num">matched</th>
            <th class="num">acted</th>
            <th>rule</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((r) => (
            <tr key={r.id} data-testid="fault-row" data-id={r.id} class={r.enabled ? '' : 'off'}>
              <td class="num">{r.id}</td>
              <td>
                <label class="switch">
                  <input type="checkbox" data-testid="fault-toggle" checked={r.enabled} disabled={busy} onChange={(e) => void act(() => props.live.setFault(r.id, (e.target as HTMLInputElement).checked))} />{' '}
                  {r.enabled ? 'on' : 'off'}
                </label>
              </td>
              <td class="num" data-testid="fault-matched">
                {fmtCount(r.matched)}
              </td>
              <td class="num" data-testid="fault-acted">
                {fmtCount(r.acted)}
              </td>
              <td>
                <code data-testid="fault-rule">{r.rule}</code>
              </td>
              <td>
                <button data-testid="fault-remove" disabled={busy} onClick={() => void act(() => props.live.removeFault(r.id))}>
                  remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rules.data && list.length === 0 && <p class="empty">No rule: the traffic passes unchanged.</p>}
    </div>
  );
}
