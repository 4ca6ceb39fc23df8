import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Why a request is refused, with the status it gets. */
export interface Refusal {
  status: 401 | 403;
  reason: string;
}

/** The Host header split into name and port ("[::1]:8080" → "::1", 8080). */
function parseHost(host: string): { name: string; port: number | null } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return null;
  return { name: (m[1] ?? m[2]!).toLowerCase(), port: m[3] === undefined ? null : Number(m[3]) };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The inspector listens only where this machine alone can reach it. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase());
}

/** What to say when the inspector listens beyond loopback (--ui-host). */
export function beyondLoopbackWarning(host: string, redacted: boolean): string {
  return `--ui-host ${host}: the inspector is reachable beyond this machine; whoever has its address sees the decrypted traffic${redacted ? '' : ' and passwords (add --redact-passwords)'}`;
}
const WILDCARD = new Set(['0.0.0.0', '::']);

/**
 * Which Host headers the inspector answers: the address it listens on (and `localhost`
 * for a loopback address), at its port. A page from another site that made a browser send
 * requests here under its own name (DNS rebinding) names that site: refused. Listening on
 * every address (0.0.0.0, ::), any IP literal is accepted — a rebinding attack needs a name.
 */
export function hostAllowed(hostHeader: string | undefined, listenHost: string, port: number): boolean {
  if (!hostHeader) return false;
  const h = parseHost(hostHeader);
  if (!h || (h.port ?? 80) !== port) return false;
  const listen = listenHost.toLowerCase();
  if (WILDCARD.has(listen)) return h.name === 'localhost' || isIP(h.name) !== 0;
  if (LOOPBACK.has(listen) && (h.name === 'localhost' || h.name === listen)) return true;
  return h.name === listen;
}

/** The token a request carries: the X-Pgscope-Token header, else `?token=` (the page's address, EventSource). */
function tokenOf(req: IncomingMessage, url: URL): string | null {
  const header = req.headers['x-pgscope-token'];
  if (typeof header === 'string') return header;
  return url.searchParams.get('token');
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Everything a request must pass before it is answered: the Host check, no cross-site
 * browser request (Sec-Fetch-Site, Origin), and the token. null: it may be answered.
 */
export function refusal(req: IncomingMessage, url: URL, token: string, listenHost: string, port: number): Refusal | null {
  if (!hostAllowed(req.headers.host, listenHost, port)) return { status: 403, reason: `Host ${JSON.stringify(req.headers.host ?? '')} is not the address this inspector listens on` };
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return { status: 403, reason: 'requests from other sites are refused' };
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let ok = false;
    try {
      const o = new URL(origin);
      ok = hostAllowed(o.host, listenHost, port) && o.protocol === 'http:';
    } catch {
      ok = false;
    }
    if (!ok) return { status: 403, reason: `requests from ${JSON.stringify(origin)} are refused` };
  }
  const given = tokenOf(req, url);
  if (given === null || given === '') return { status: 401, reason: 'the token is missing: open the address pgscope printed, with its ?token=…' };
  if (!sameToken(given, token)) return { status: 403, reason: 'the token is wrong: open the address pgscope printed' };
  return null;
}
