/**
 * The inspector's server through the real CLI (`pgscope --ui`, the compiled build) in front
 * of a real PostgreSQL 15, asked over HTTP as a browser or curl would: the token and Host
 * checks, the headers (CSP, no CORS), the JSON API over real traffic, live updates (Server-
 * Sent Events), and the fault rules switched at run time, acting on the next statement.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { endQuietly, pgClient, rejection } from '../helpers/faults-util.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { startPgscope, type Pgscope } from '../helpers/pgscope.js';
import { run } from '../helpers/proc.js';
import { PGSCOPE_BIN } from '../helpers/pgscope.js';

const T = { timeout: 90_000 };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request to the inspector, with the headers given (Host included, as an attacker could set it; '' for none). */
function ask(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, ...opts.headers };
  const noHost = headers['Host'] === '';
  if (noHost) delete headers['Host'];
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, setHost: !noHost }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

let server: PgServer;
let proxy: Pgscope;
let uiPort: number;
let token: string;
let client: pg.Client;

const api = async <T>(path: string, opts: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: T }> => {
  const a = await ask(uiPort, path, {
    method: opts.method ?? 'GET',
    headers: { 'X-Pgscope-Token': token, ...(opts.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  return { status: a.status, json: (a.body === '' ? null : JSON.parse(a.body)) as T };
};

/** Poll until `check` holds (the inspector takes events as they happen, the page asks after). */
async function eventually<T>(what: string, get: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (check(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  server = await startPgServer({ auth: 'trust' });
  proxy = await startPgscope(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'disable', '--log-forwarded', 'none', '--ui']);
  const line = await proxy.waitFor(/inspector: open http:/);
  const m = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)/.exec(line);
  assert.ok(m, line);
  uiPort = Number(m[1]);
  token = m[2]!;
  client = await pgClient(proxy.port, { application_name: 'inspector-e2e' });
  await client.query('select 1 as one');
  await client.query('select $1::int + 1 as two, $2::text as word', [1, 'teapot']);
  await assert.rejects(client.query('select 1/0'));
  await client.query('select pg_sleep(0.2)');
}, { timeout: 120_000 });

after(async () => {
  await endQuietly(client);
  await proxy?.stop();
  await server?.stop();
});

describe('pgscope --ui: who may ask', () => {
  it('prints one line with a loopback address and a long random token', () => {
    assert.equal(proxy.output().split('\n').filter((l) => l.includes('inspector: open')).length, 1);
    assert.ok(token.length >= 32, token);
  });

  it('refuses a request without the token (401) and with a wrong one (403)', async () => {
    assert.equal((await ask(uiPort, '/')).status, 401);
    assert.equal((await ask(uiPort, '/api/overview')).status, 401);
    // One character changed (never to the one it was).
    assert.equal((await ask(uiPort, `/?token=${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`)).status, 403);
    assert.equal((await ask(uiPort, '/api/overview', { headers: { 'X-Pgscope-Token': 'nope' } })).status, 403);
  });

  it('refuses a Host that is not the address it listens on (DNS rebinding), even with the token', async () => {
    for (const host of [`evil.example:${uiPort}`, `127.0.0.1.nip.io:${uiPort}`, `127.0.0.1:${uiPort + 1}`, '127.0.0.1', '']) {
      const a = await ask(uiPort, `/api/overview?token=${token}`, { headers: { Host: host } });
      // (No Host at all: Node's HTTP server answers 400 itself, as HTTP/1.1 requires.)
      assert.equal(a.status, host === '' ? 400 : 403, `Host ${JSON.stringify(host)}: ${a.body}`);
    }
    assert.equal((await ask(uiPort, `/api/overview?token=${token}`, { headers: { Host: `localhost:${uiPort}` } })).status, 200);
  });

  it('refuses requests another site makes the browser send, and never answers with CORS headers', async () => {
    const cross = await ask(uiPort, `/api/overview?token=${token}`, { headers: { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' } });
    assert.equal(cross.status, 403);
    const nullOrigin = await ask(uiPort, '/api/faults', { method: 'POST', headers: { 'X-Pgscope-Token': token, Origin: 'null' }, body: '{"rule":"close when Query"}' });
    assert.equal(nullOrigin.status, 403);
    const pre = await ask(uiPort, '/api/overview', { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' } });
    assert.notEqual(pre.status, 204);
    for (const a of [cross, pre, await ask(uiPort, `/?token=${token}`)]) {
      assert.deepEqual(Object.keys(a.headers).filter((h) => h.startsWith('access-control-')), []);
    }
  });

  it('serves the page with a strict Content-Security-Policy: its own nonce, no other origin', async () => {
    const a = await ask(uiPort, `/?token=${token}`);
    assert.equal(a.status, 200);
    const csp = String(a.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.equal(a.headers['referrer-policy'], 'no-referrer');
    assert.equal(a.headers['cache-control'], 'no-store');
    // Every script and style element carries the nonce; nothing is loaded from elsewhere.
    const scripts = [...a.body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]).filter((t) => !t.includes('application/json'));
    assert.ok(scripts.length >= 1);
    for (const t of [...scripts, ...[...a.body.matchAll(/<style\b[^>]*>/g)].map((m) => m[0])]) assert.ok(t.includes(`nonce="${nonce}"`), t);
    assert.doesNotMatch(a.body, /<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org)/);
    // A second page gets another nonce.
    const b = await ask(uiPort, `/?token=${token}`);
    assert.notEqual(/'nonce-([^']+)'/.exec(String(b.headers['content-security-policy']))?.[1], nonce);
  });
});

describe('pgscope --ui: the API over real traffic', () => {
  it('lists the connection with its user, database, application_name, and counts bytes', async () => {
    const o = await eventually(
      'the connection with its statements',
      () => api<{ connections: { conn: number; applicationName: string | null; user: string | null; database: string | null; statements: number; bytesFromClient: number; errors: number; lastError: string | null }[]; mode: string }>('/api/overview'),
      (r) => r.json.connections.some((c) => c.applicationName === 'inspector-e2e' && c.statements >= 4),
    );
    const c = o.json.connections.find((x) => x.applicationName === 'inspector-e2e')!;
    assert.equal(o.json.mode, 'live');
    assert.equal(c.user, 'postgres');
    assert.ok(c.bytesFromClient > 100);
    assert.equal(c.errors, 1);
    assert.match(c.lastError ?? '', /22012 division by zero/);
  });

  it('filters messages with the --filter language and finds the error and the SQL', async () => {
    const errors = await api<{ total: number; rows: { msg: string; summary: string; error: boolean }[] }>('/api/messages?filter=errors&offset=0&limit=10');
    assert.equal(errors.json.total, 1);
    assert.equal(errors.json.rows[0]!.msg, 'ErrorResponse');
    assert.match(errors.json.rows[0]!.summary, /ERROR 22012 division by zero/);
    const bySql = await api<{ rows: { msg: string }[] }>(`/api/messages?filter=${encodeURIComponent('client and sql contains "teapot" or sql ~* "\\+ 1 AS two"')}&offset=0&limit=50`);
    assert.deepEqual(bySql.json.rows.map((r) => r.msg), ['Parse', 'Bind', 'Describe', 'Execute']);
    const bad = await api<{ error?: string; rows: unknown[] }>(`/api/messages?filter=${encodeURIComponent('Query and (')}&offset=0&limit=10`);
    assert.match(bad.json.error ?? '', /at character/);
    const search = await api<{ rows: { msg: string; summary: string }[] }>('/api/messages?search=TEAPOT&offset=0&limit=10');
    assert.ok(search.json.rows.some((r) => r.msg === 'Bind' && r.summary.includes("'teapot'")), JSON.stringify(search.json.rows));
  });

  it('gives a message with its fields (offsets) and its bytes', async () => {
    const page = await api<{ rows: { id: number; msg: string }[] }>('/api/messages?filter=Bind&offset=0&limit=1');
    const id = page.json.rows[0]!.id;
    const d = await api<{ row: { msg: string }; message: { raw: string; size: number; fields: { name: string; offset: number; length: number }[] } }>(`/api/message/${id}`);
    assert.equal(d.status, 200);
    assert.equal(d.json.message.raw.length, d.json.message.size * 2);
    assert.equal(d.json.message.raw.slice(0, 2), '42'); // 'B'
    for (const f of d.json.message.fields) assert.ok(f.offset + f.length <= d.json.message.size, f.name);
    assert.equal((await api(`/api/message/999999999`)).status, 404);
  });

  it('lists statements slowest first, with typed parameters, and groups them by fingerprint', async () => {
    const slow = await api<{ rows: { sql: string; duration: number; error: unknown }[] }>('/api/statements?slowest=1&offset=0&limit=5');
    assert.equal(slow.json.rows[0]!.sql, 'select pg_sleep(0.2)');
    assert.ok(slow.json.rows[0]!.duration >= 190);
    const failed = await api<{ rows: { sql: string; error: { code: string } | null }[] }>('/api/statements?errors=1&offset=0&limit=5');
    assert.deepEqual(failed.json.rows.map((r) => [r.sql, r.error?.code]), [['select 1/0', '22012']]);
    const fps = await api<{ fingerprint: string; count: number }[]>('/api/fingerprints');
    assert.ok(fps.json.some((g) => g.fingerprint === 'select ?/?' && g.count === 1), JSON.stringify(fps.json));
    const series = await api<{ seconds: { count: number }[]; histogram: { count: number }[] }>('/api/series');
    assert.ok(series.json.seconds.reduce((n, s) => n + s.count, 0) >= 4);
    assert.ok(series.json.histogram.reduce((n, s) => n + s.count, 0) >= 4);
  });

  it('tells an open page when something changed (Server-Sent Events)', async () => {
    const events: string[] = [];
    const req = request({ host: '127.0.0.1', port: uiPort, path: `/api/updates?token=${token}`, headers: { Host: `127.0.0.1:${uiPort}` } });
    const got = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
        res.setEncoding('utf8').on('data', (d: string) => {
          events.push(...d.split('\n').filter((l) => l.startsWith('data: ')));
          if (events.length >= 2) resolve();
        });
      });
    });
    req.end();
    await new Promise((r) => setTimeout(r, 400));
    await client.query('select 2');
    await got;
    req.destroy();
    const versions = events.map((e) => (JSON.parse(e.slice(6)) as { version: number }).version);
    assert.ok(versions[1]! > versions[0]!, JSON.stringify(versions));
  });
});

describe('pgscope --ui: fault rules switched at run time', () => {
  it('adds a rule that acts on the next statement, counts it, switches it off and removes it', async () => {
    const added = await api<{ id: number }>('/api/faults', { method: 'POST', body: { rule: 'error 40001 when sql contains "faultme"' } });
    assert.equal(added.status, 201);
    const id = added.json.id;
    const e = await rejection(client.query("select 'faultme'"));
    assert.equal(e.code, '40001');
    let rows = await api<{ id: number; rule: string; enabled: boolean; matched: number; acted: number }[]>('/api/faults');
    assert.deepEqual(rows.json.map((r) => [r.id, r.enabled, r.acted]), [[id, true, 1]]);
    assert.match(rows.json[0]!.rule, /faultme/);
    // Shown where it happened, among the connection's messages, as pgscope's own action.
    const acted = await eventually(
      'the fault among the messages',
      () => api<{ rows: { kind: string; from: string; summary: string }[] }>(`/api/messages?search=${encodeURIComponent(`fault rule ${id}`)}&offset=0&limit=10`),
      (r) => r.json.rows.length > 0,
    );
    assert.deepEqual([acted.json.rows[0]!.kind, acted.json.rows[0]!.from], ['action', 'script']);
    assert.match(acted.json.rows[0]!.summary, /40001/);

    const off = await api<{ enabled: boolean }>(`/api/faults/${id}`, { method: 'PATCH', body: { enabled: false } });
    assert.equal(off.status, 200);
    assert.equal(off.json.enabled, false);
    assert.deepEqual((await client.query("select 'faultme' as v")).rows, [{ v: 'faultme' }]);

    assert.equal((await api(`/api/faults/${id}`, { method: 'DELETE' })).status, 204);
    rows = await api('/api/faults');
    assert.deepEqual(rows.json, []);
    assert.equal((await api(`/api/faults/${id}`, { method: 'DELETE' })).status, 404);
  });

  it('says where a rule that is not one goes wrong (400), and refuses other methods', async () => {
    const bad = await api<{ error: string }>('/api/faults', { method: 'POST', body: { rule: 'explode when Query' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /character 1/);
    assert.equal((await api('/api/faults', { method: 'POST', body: { nope: 1 } })).status, 400);
    const notJson = await ask(uiPort, '/api/faults', { method: 'POST', headers: { 'X-Pgscope-Token': token }, body: '{' });
    assert.equal(notJson.status, 400);
    assert.equal((await api('/api/overview', { method: 'DELETE' })).status, 405);
  });
});

describe('pgscope --ui: options', () => {
  it('--ui-port, --ui-host and --ui-keep need --ui; a taken port is a one-line error', async () => {
    for (const args of [['--ui-port', '0'], ['--ui-host', '127.0.0.1'], ['--ui-keep', '10']]) {
      const r = await run(process.execPath, [PGSCOPE_BIN, '-p', '0', ...args], { timeoutMs: 20_000, allowFailure: true });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /needs --ui/);
    }
    const r = await run(process.execPath, [PGSCOPE_BIN, '-p', '0', '--server-sslmode', 'disable', '--ui', '--ui-port', String(uiPort)], { timeoutMs: 30_000, allowFailure: true });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^pgscope: --ui: cannot serve the inspector on 127\.0\.0\.1:\d+: the port is taken\n$/);
  });
});

describe('pgscope --ui --redact-passwords', () => {
  it('shows no password: not in a row, not in a message, not in a statement', async () => {
    const redacting = await startPgscope(['--server-host', '127.0.0.1', '--server-connect-port', String(server.port), '--server-sslmode', 'disable', '--log-forwarded', 'none', '--ui', '--redact-passwords']);
    const c = await pgClient(redacting.port);
    try {
      const m = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)/.exec(await redacting.waitFor(/inspector: open http:/))!;
      const port = Number(m[1]);
      const get = async <T>(path: string): Promise<T> => JSON.parse((await ask(port, path, { headers: { 'X-Pgscope-Token': m[2]! } })).body) as T;
      await c.query("create role inspector_redact login password 'hunter2-secret-pw'");
      await c.query('drop role inspector_redact');
      const rows = await eventually(
        'the CREATE ROLE statement',
        () => get<{ rows: { id: number; msg: string; summary: string }[] }>('/api/messages?filter=Query&offset=0&limit=50'),
        (r) => r.rows.length >= 2,
      );
      assert.equal((await get<{ redacted: boolean }>('/api/overview')).redacted, true);
      const everything = JSON.stringify(rows) + JSON.stringify(await Promise.all(rows.rows.map((r) => get(`/api/message/${r.id}`)))) + JSON.stringify(await get('/api/statements?offset=0&limit=50'));
      assert.doesNotMatch(everything, /hunter2/);
      assert.match(rows.rows[0]!.summary, /redacted/);
    } finally {
      await endQuietly(c);
      await redacting.stop();
    }
  });
});
