import type { FaultRow, FingerprintGroup, InspectorSource, MessageDetail, MessagePage, MessageQuery, Overview, Series, StatementPage, StatementQuery } from '../../src/inspector/types.js';

/** The state of the update stream: open, or lost and being retried by the browser. */
export type StreamState = 'connecting' | 'open' | 'retrying';

/** The live page's questions (pgscope --ui, pgscope view), asked over HTTP with the token from the page's address. */
export interface LiveSource extends InspectorSource {
  faults(): Promise<FaultRow[]>;
  /** A new rule: its id, or why it was refused (the rule language's own message). */
  addFault(rule: string): Promise<{ id: number } | { error: string }>;
  setFault(id: number, enabled: boolean): Promise<void>;
  removeFault(id: number): Promise<void>;
  clearFaults(): Promise<void>;
  /** Calls `onVersion` whenever pgscope has something new; returns a function that stops it. */
  updates(onVersion: (version: number) => void, onState: (s: StreamState) => void): () => void;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

type Params = Record<string, string | number | boolean | undefined>;

/** A query string of the members that say something (no empty text, no false, no undefined). */
function query(params: Params): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '' || v === false) continue;
    p.set(k, v === true ? '1' : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The error an answer carries: `{"error": "…"}`, or its text. */
async function reason(r: Response): Promise<string> {
  const text = await r.text();
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof e === 'string') return e;
  } catch {
    // not JSON: the text itself
  }
  return text.trim() || `HTTP ${r.status}`;
}

/**
 * Same-origin, relative addresses (the page is served at the inspector's root), the token
 * in the X-Pgscope-Token header; nothing cached.
 */
export function httpSource(token: string): LiveSource {
  const headers = { 'X-Pgscope-Token': token };
  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(path, {
      method,
      cache: 'no-store',
      credentials: 'omit',
      headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }
  async function get<T>(path: string): Promise<T> {
    const r = await call('GET', path);
    if (!r.ok) throw new HttpError(r.status, `${path.split('?')[0]}: ${await reason(r)}`);
    return (await r.json()) as T;
  }
  async function must(r: Response): Promise<void> {
    if (!r.ok) throw new HttpError(r.status, await reason(r));
  }
  return {
    overview: () => get<Overview>('api/overview'),
    messages: (q: MessageQuery) => get<MessagePage>(`api/messages${query({ filter: q.filter, search: q.search, conn: q.conn, offset: q.offset, limit: q.limit })}`),
    message: async (id: number) => {
      const r = await call('GET', `api/message/${id}`);
      if (r.status === 404) return null;
      if (!r.ok) throw new HttpError(r.status, await reason(r));
      return (await r.json()) as MessageDetail;
    },
    statements: (q: StatementQuery) => get<StatementPage>(`api/statements${query({ conn: q.conn, errors: q.errors, slowest: q.slowest, search: q.search, offset: q.offset, limit: q.limit })}`),
    fingerprints: (conn?: number) => get<FingerprintGroup[]>(`api/fingerprints${query({ conn })}`),
    series: (conn?: number) => get<Series>(`api/series${query({ conn })}`),
    faults: () => get<FaultRow[]>('api/faults'),
    addFault: async (rule) => {
      const r = await call('POST', 'api/faults', { rule });
      if (r.status === 400) return { error: await reason(r) };
      if (!r.ok) throw new HttpError(r.status, await reason(r));
      return (await r.json()) as { id: number };
    },
    setFault: async (id, enabled) => must(await call('PATCH', `api/faults/${id}`, { enabled })),
    removeFault: async (id) => must(await call('DELETE', `api/faults/${id}`)),
    clearFaults: async () => must(await call('DELETE', 'api/faults')),
    updates: (onVersion, onState) => {
      let es: EventSource | null = null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let stopped = false;
      const open = (): void => {
        // EventSource cannot send headers: the token goes in the address (as the page's own).
        const source = new EventSource(`api/updates${query({ token })}`);
        es = source;
        source.onopen = () => onState('open');
        source.onerror = () => {
          onState('retrying');
          // CONNECTING: the browser retries by itself. CLOSED (an error status): it gave up; try again later.
          if (source.readyState === EventSource.CLOSED && !stopped) timer = setTimeout(open, 3000);
        };
        source.addEventListener('version', (e) => {
          try {
            const v = (JSON.parse((e as MessageEvent<string>).data) as { version?: unknown }).version;
            if (typeof v === 'number') onVersion(v);
          } catch {
            // a malformed event: the next one will do
          }
        });
      };
      onState('connecting');
      open();
      return () => {
        stopped = true;
        clearTimeout(timer);
        es?.close();
      };
    },
  };
}
