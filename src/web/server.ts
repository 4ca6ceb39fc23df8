import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Inspector } from '../inspector/inspector.js';
import { answer, MAX_BODY } from './api.js';
import type { FaultControl } from './fault-control.js';
import { refusal } from './guard.js';
import { contentSecurityPolicy, newNonce, pageHtml } from './page.js';

export interface InspectorServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  inspector: Inspector;
  /** The proxy's fault rules, listed and switched over the API; null for a capture. */
  faults: FaultControl | null;
  title: string;
}

export interface InspectorServer {
  /** The address to open, with its token. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** How often page updates are offered (Server-Sent Events), and a keep-alive for idle ones. */
const UPDATE_MS = 250;
const KEEPALIVE_MS = 15_000;
/** An update stream whose reader is this far behind gets nothing more until it catches up. */
const MAX_BEHIND = 64 * 1024;

/** Headers of every answer: nothing cached, no referrer (the address holds the token), no framing. */
const COMMON: Record<string, string> = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (status === 204) {
    res.writeHead(204, COMMON);
    res.end();
    return;
  }
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function fmtUrlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The body of a POST/PATCH as JSON (at most MAX_BODY bytes); undefined when there is none. */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new RangeError(`the request body is over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new SyntaxError('the request body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

/**
 * The inspector's HTTP server: the page, its JSON API and its update stream, behind a
 * Host check and a random token (src/web/guard.ts). No CORS headers are ever sent, so no
 * other site's script can read an answer even if it got one.
 */
export async function startInspectorServer(opts: InspectorServerOptions): Promise<InspectorServer> {
  const token = randomBytes(24).toString('base64url');
  const streams = new Set<{ res: ServerResponse; version: number }>();
  let port = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, e instanceof RangeError || e instanceof SyntaxError ? 400 : 500, { error: e instanceof Error ? e.message : String(e) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    const refused = refusal(req, url, token, opts.host, port);
    if (refused) return send(res, refused.status, 'text/plain; charset=utf-8', `${refused.reason}\n`);
    const method = req.method ?? 'GET';
    if (url.pathname === '/' && (method === 'GET' || method === 'HEAD')) {
      const nonce = newNonce();
      const body = pageHtml({ title: opts.title, nonce, report: null });
      return send(res, 200, 'text/html; charset=utf-8', method === 'HEAD' ? '' : body, { 'Content-Security-Policy': contentSecurityPolicy(nonce, true) });
    }
    if (url.pathname === '/api/updates' && method === 'GET') {
      res.writeHead(200, { ...COMMON, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
      res.write(': pgscope inspector updates\n\n');
      const s = { res, version: -1 };
      streams.add(s);
      req.on('close', () => streams.delete(s));
      return;
    }
    const body = method === 'POST' || method === 'PATCH' ? await readJson(req) : undefined;
    const a = await answer(method, url, body, opts.inspector, opts.faults);
    sendJson(res, a.status, a.body);
  }

  const tick = setInterval(() => {
    const v = opts.inspector.version;
    for (const s of streams) {
      if (s.version === v || s.res.writableLength > MAX_BEHIND) continue;
      s.version = v;
      s.res.write(`event: version\ndata: {"version":${v}}\n\n`);
    }
  }, UPDATE_MS);
  const keepAlive = setInterval(() => {
    for (const s of streams) if (s.res.writableLength <= MAX_BEHIND) s.res.write(': keep-alive\n\n');
  }, KEEPALIVE_MS);
  tick.unref();
  keepAlive.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const shown = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${fmtUrlHost(shown)}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(tick);
        clearInterval(keepAlive);
        for (const s of streams) s.res.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
