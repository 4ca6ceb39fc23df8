import { FaultRuleError } from '../faults/rule.js';
import type { Inspector } from '../inspector/inspector.js';
import type { MessageQuery, StatementQuery } from '../inspector/types.js';
import type { FaultControl } from './fault-control.js';

/** An answer: status and a JSON body (none for 204). */
export interface ApiAnswer {
  status: number;
  body?: unknown;
}

/** Largest request body read (a fault rule is a line). */
export const MAX_BODY = 16 * 1024;

function int(v: string | null, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === null || !/^\d{1,15}$/.test(v)) return dflt;
  return Math.min(Number(v), max);
}

function connOf(p: URLSearchParams): number | undefined {
  const v = p.get('conn');
  return v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

const notFound = (what: string): ApiAnswer => ({ status: 404, body: { error: `${what}: not found` } });

/**
 * The inspector's JSON API (the contract is src/inspector/types.ts): read-only questions to
 * the Inspector, and, when the proxy runs with fault rules, their list and switches.
 * `body` is the parsed JSON body of POST/PATCH, or undefined.
 */
export async function answer(method: string, url: URL, body: unknown, inspector: Inspector, faults: FaultControl | null): Promise<ApiAnswer> {
  const p = url.searchParams;
  const path = url.pathname;
  if (method === 'GET') {
    switch (path) {
      case '/api/overview':
        return { status: 200, body: inspector.overview() };
      case '/api/messages': {
        const q: MessageQuery = { offset: int(p.get('offset'), 0), limit: int(p.get('limit'), 200, 5000) };
        const filter = p.get('filter');
        const search = p.get('search');
        const conn = connOf(p);
        if (filter) q.filter = filter;
        if (search) q.search = search;
        if (conn !== undefined) q.conn = conn;
        return { status: 200, body: inspector.queryMessages(q) };
      }
      case '/api/statements': {
        const q: StatementQuery = { offset: int(p.get('offset'), 0), limit: int(p.get('limit'), 200, 5000) };
        const conn = connOf(p);
        const search = p.get('search');
        if (conn !== undefined) q.conn = conn;
        if (p.get('errors') === '1') q.errors = true;
        if (p.get('slowest') === '1') q.slowest = true;
        if (search) q.search = search;
        return { status: 200, body: inspector.queryStatements(q) };
      }
      case '/api/fingerprints':
        return { status: 200, body: inspector.fingerprints(connOf(p)) };
      case '/api/series':
        return { status: 200, body: inspector.series(connOf(p)) };
      case '/api/faults':
        return faults ? { status: 200, body: await faults.rows() } : notFound('fault rules (this inspector has no proxy)');
    }
    const m = /^\/api\/message\/(\d{1,15})$/.exec(path);
    if (m) {
      const d = inspector.message(Number(m[1]));
      return d ? { status: 200, body: d } : notFound(`message ${m[1]} (not kept, or never seen)`);
    }
    return notFound(path);
  }
  if (!path.startsWith('/api/faults')) return { status: 405, body: { error: `${method} ${path}: not allowed` } };
  if (!faults) return notFound('fault rules (this inspector has no proxy)');
  const id = /^\/api\/faults\/(\d{1,15})$/.exec(path)?.[1];
  if (method === 'POST' && path === '/api/faults') {
    const rule = (body as { rule?: unknown } | undefined)?.rule;
    if (typeof rule !== 'string') return { status: 400, body: { error: 'expected {"rule": "…"}' } };
    try {
      return { status: 201, body: { id: await faults.add(rule) } };
    } catch (e) {
      if (e instanceof FaultRuleError) return { status: 400, body: { error: e.message } };
      throw e;
    }
  }
  if (method === 'DELETE' && path === '/api/faults') {
    await faults.clear();
    return { status: 204 };
  }
  if (id !== undefined && method === 'DELETE') return (await faults.remove(Number(id))) ? { status: 204 } : notFound(`fault rule ${id}`);
  if (id !== undefined && method === 'PATCH') {
    const enabled = (body as { enabled?: unknown } | undefined)?.enabled;
    if (typeof enabled !== 'boolean') return { status: 400, body: { error: 'expected {"enabled": true|false}' } };
    if (!(await faults.setEnabled(Number(id), enabled))) return notFound(`fault rule ${id}`);
    return { status: 200, body: (await faults.rows()).find((f) => f.id === Number(id)) };
  }
  return { status: 405, body: { error: `${method} ${path}: not allowed` } };
}
