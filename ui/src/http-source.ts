import type { FaultRow, FingerprintGroup, InspectorSource, MessageDetail, MessagePage, MessageQuery, Overview, Series, StatementPage, StatementQuery } from '../../src/inspector/types.js';

/** The live page's questions, asked of pgscope over HTTP with the token from the page's address. */
export interface LiveSource extends InspectorSource {
  faults(): Promise<FaultRow[]>;
  addFault(rule: string): Promise<{ id: number } | { error: string }>;
  setFault(id: number, enabled: boolean): Promise<void>;
  removeFault(id: number): Promise<void>;
  /** Calls `onVersion` whenever pgscope has something new; returns a stop function. */
  updates(onVersion: (version: number) => void): () => void;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '' || v === false) continue;
    p.set(k, v === true ? '1' : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function httpSource(token: string): LiveSource {
  const headers = { 'X-Pgscope-Token': token };
  async function get<T>(path: string): Promise<T> {
    const r = await fetch(path, { headers, cache: 'no-store' });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }
  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(path, { method, headers: { ...headers, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }
  return {
    overview: () => get<Overview>('/api/overview'),
    messages: (q: MessageQuery) => get<MessagePage>(`/api/messages${query({ filter: q.filter, search: q.search, conn: q.conn, offset: q.offset, limit: q.limit })}`),
    message: async (id: number) => {
      const r = await fetch(`/api/message/${id}`, { headers, cache: 'no-store' });
      return r.status === 404 ? null : ((await r.json()) as MessageDetail);
    },
    statements: (q: StatementQuery) => get<StatementPage>(`/api/statements${query({ conn: q.conn, errors: q.errors, slowest: q.slowest, search: q.search, offset: q.offset, limit: q.limit })}`),
    fingerprints: (conn?: number) => get<FingerprintGroup[]>(`/api/fingerprints${query({ conn })}`),
    series: (conn?: number) => get<Series>(`/api/series${query({ conn })}`),
    faults: () => get<FaultRow[]>('/api/faults'),
    addFault: async (rule) => {
      const r = await send('POST', '/api/faults', { rule });
      return (await r.json()) as { id: number } | { error: string };
    },
    setFault: async (id, enabled) => void (await send('PATCH', `/api/faults/${id}`, { enabled })),
    removeFault: async (id) => void (await send('DELETE', `/api/faults/${id}`)),
    updates: (onVersion) => {
      const es = new EventSource(`/api/updates?token=${encodeURIComponent(token)}`);
      es.addEventListener('version', (e) => onVersion((JSON.parse((e as MessageEvent<string>).data) as { version: number }).version));
      return () => es.close();
    },
  };
}
