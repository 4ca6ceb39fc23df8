import { useEffect, useState } from 'preact/hooks';
import type { FaultRow } from '../../src/inspector/types.js';
import type { LiveSource } from './http-source.js';

/** The proxy's fault rules: counts, switches, and new ones (the --fault language). */
export function Faults(props: { live: LiveSource; version: number }) {
  const [rules, setRules] = useState<FaultRow[]>([]);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [bump, setBump] = useState(0);
  useEffect(() => {
    let gone = false;
    void props.live.faults().then((r) => !gone && setRules(r));
    return () => {
      gone = true;
    };
  }, [props.live, props.version, bump]);
  const add = async (): Promise<void> => {
    const r = await props.live.addFault(text);
    if ('error' in r) setError(r.error);
    else {
      setError(null);
      setText('');
    }
    setBump(bump + 1);
  };
  return (
    <div class="faults">
      <p>
        Rules act on the next matching message, on every connection. Examples: <code>error 40001 when sql ~* "^update" once</code>, <code>delay 200ms when sql contains "orders"</code>,{' '}
        <code>reset when server and DataRow after 1000</code>.
      </p>
      <div class="toolbar">
        <input data-testid="fault-input" class="filter" placeholder='error 40001 when sql ~* "^update" once' value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} onKeyDown={(e) => e.key === 'Enter' && void add()} />
        <button data-testid="fault-add" onClick={() => void add()}>
          add rule
        </button>
      </div>
      {error && (
        <div class="filter-error" data-testid="fault-error">
          {error}
        </div>
      )}
      <table class="fps">
        <thead>
          <tr>
            <th>id</th>
            <th>on</th>
            <th>matched</th>
            <th>acted</th>
            <th>rule</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr key={r.id} data-testid="fault-row" class={r.enabled ? '' : 'off'}>
              <td>{r.id}</td>
              <td>
                <input
                  type="checkbox"
                  data-testid="fault-toggle"
                  checked={r.enabled}
                  onChange={async (e) => {
                    await props.live.setFault(r.id, (e.target as HTMLInputElement).checked);
                    setBump(bump + 1);
                  }}
                />
              </td>
              <td>{r.matched}</td>
              <td data-testid="fault-acted">{r.acted}</td>
              <td>
                <code>{r.rule}</code>
              </td>
              <td>
                <button
                  data-testid="fault-remove"
                  onClick={async () => {
                    await props.live.removeFault(r.id);
                    setBump(bump + 1);
                  }}
                >
                  remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rules.length === 0 && <p class="empty">No rule: the traffic passes unchanged.</p>}
    </div>
  );
}
