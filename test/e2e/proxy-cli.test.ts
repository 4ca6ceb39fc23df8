/**
 * The pgscope process as a command-line program, end to end (real psql, the real pgscope
 * process, a real PostgreSQL 15 server with TLS and MD5): --log-forwarded annotated / raw /
 * none, colour and monochrome (flags and NO_COLOR / FORCE_COLOR), -l/--logfile with -c,
 * output reaching a pipe while pgscope runs, usage mistakes (status 2, one line), a port in
 * use, --quit-on-hangup, SIGINT/SIGTERM (status 0, log flushed, open connections ended), and
 * an unreachable server (ErrorResponse 08001, pgscope keeps serving).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { freePort, portAnswers, waitForPort } from '../helpers/ports.js';
import { PGSCOPE_BIN } from '../helpers/pgscope.js';
import { run } from '../helpers/proc.js';
import { PgError, RawClient } from '../helpers/raw-client.js';
import { assertInOrder, assertNone, connectionEnded, connHeads, connLines, eventually, plainEnv, psqlOk, psqlVia, runPgscope, Scopes, spawnPgscope, WAIT_MS, type BarePgscope } from '../helpers/tls-e2e.js';

const T = { timeout: 120_000 };
const TLS = { sslmode: 'require' } as const; // MD5 server: no channel binding involved

let server: PgServer;
let dir: string;
const scopes = new Scopes();
const bare: BarePgscope[] = [];

const backend = (): string => `127.0.0.1:${server.port}`;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const strip = (s: string): string => s.replace(ANSI, '');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgscope-proxy-cli-'));
  server = await startPgServer({ version: 15, ssl: true, auth: 'md5' });
});

afterEach(async () => {
  await scopes.stopAll();
  await Promise.all(bare.splice(0).map((b) => b.stop('SIGKILL')));
});

after(async () => {
  await scopes.stopAll();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('--log-forwarded', () => {
  it('annotated (default): each message part by part with its meaning', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend()]);
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { params: TLS }), '1');
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assert.ok(heads.includes('#1  server -> client: "Z" = ReadyForQuery "\\x00\\x00\\x00\\x05" = 5 bytes "I" = idle'), heads.join('\n'));
    assert.ok(heads.includes('#1  client -> server: "Q" = Query "\\x00\\x00\\x00\\r" = 13 bytes "SELECT 1\\x00" = query'));
    assert.ok(connLines(p.output(), 1).some((l) => /^#1 {3,}/.test(l)), 'multi-part messages continue on indented lines');
  });

  it('raw: one escaped string per forwarded message, ^^ lines kept', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--log-forwarded', 'raw', backend()]);
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { params: TLS }), '1');
    const lines = connLines(await connectionEnded(p, 1), 1);
    const forwarded = lines.filter((l) => /^#1  (client -> server|server -> client): /.test(l));
    assert.ok(forwarded.length >= 10, lines.join('\n'));
    for (const l of forwarded) assert.match(l, /^#1  (client -> server|server -> client): "(?:[^"\\]|\\.)*"$/, 'one escaped string, no annotation');
    assert.ok(forwarded.includes('#1  server -> client: "Z\\x00\\x00\\x00\\x05I"'), forwarded.join('\n'));
    assert.ok(forwarded.includes('#1  client -> server: "Q\\x00\\x00\\x00\\rSELECT 1\\x00"'));
    assert.ok(forwarded.some((l) => l.startsWith('#1  client -> server: "\\x00\\x00\\x00') && l.includes('user\\x00postgres\\x00')), 'the StartupMessage, raw');
    assert.ok(lines.some((l) => /^#1  \^\^ \d+ bytes forwarded at \+\d+\.\d\ds$/.test(l)));
    // pgscope's own exchanges (SSLRequest) are still explained; no forwarded message spans lines.
    assert.ok(lines.some((l) => /^#1  client -> script: .* = .*SSL request code/.test(l)));
    const continuation = lines.filter((l) => /^#1 {3,}/.test(l));
    assert.deepEqual(continuation, [], 'no continuation lines in raw mode');
  });

  it('none: no forwarded messages and no ^^ lines; status lines remain', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--log-forwarded', 'none', backend()]);
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { params: TLS }), '1');
    const lines = connLines(await connectionEnded(p, 1), 1);
    assertNone(lines, /client -> server:|server -> client:|\^\^/);
    assertInOrder(lines, [/connected from 127\.0\.0\.1:/, /connection established with client/, /connecting to server/, /connected to server/, /connection established with server/, /client hung up/, /connection end/]);
  });
});

describe('colour', () => {
  const cases: { name: string; args: string[]; env: Record<string, string>; colour: boolean }[] = [
    { name: '--no-bw', args: ['--no-bw'], env: {}, colour: true },
    { name: 'FORCE_COLOR=1', args: [], env: { FORCE_COLOR: '1' }, colour: true },
    { name: '--bw (even with FORCE_COLOR=1)', args: ['--bw'], env: { FORCE_COLOR: '1' }, colour: false },
    { name: 'NO_COLOR=1', args: [], env: { NO_COLOR: '1' }, colour: false },
    { name: '--no-bw (even with NO_COLOR=1)', args: ['--no-bw'], env: { NO_COLOR: '1' }, colour: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.colour ? 'ANSI colour codes' : 'no escape codes'} (stdout is a pipe)`, T, async () => {
      const b = spawnPgscope(['-p', '0', '--client-cert-sig', 'ecdsa', ...c.args, backend()], plainEnv(c.env));
      bare.push(b);
      await b.waitFor(/listening on .*:\d+/);
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(strip(b.output()))![1]);
      assert.equal(await psqlOk(server, port, 'SELECT 1', { params: TLS }), '1');
      await b.waitFor(/#1 .*connection end/);
      const out = b.output();
      if (c.colour) {
        assert.match(out, ANSI);
        // Labels and annotations are coloured, and the text underneath is the monochrome log.
        assert.ok(out.split('\n').some((l) => l.startsWith('#1  ') && l.includes('\x1b[') && strip(l).startsWith('#1  server -> client: "Z" = ReadyForQuery')));
      } else {
        assert.equal(out.includes('\x1b'), false, 'no escape character at all');
      }
      assert.match(strip(out), /^#1  server -> client: "Z" = ReadyForQuery "\\x00\\x00\\x00\\x05" = 5 bytes "I" = idle$/m);
    });
  }
});

describe('-l/--logfile and -c/--clear', () => {
  /** Run pgscope -p PORT with `args` writing to `file`, make one connection, stop it; returns the port. */
  async function oneRun(file: string, args: string[]): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const p = await scopes.start(['--client-cert-sig', 'ecdsa', '-p', String(port), '-l', file, ...args, backend()], { waitListening: false });
      const up = await Promise.race([waitForPort(port, '127.0.0.1', WAIT_MS).then(() => true), p.exited.then(() => false)]);
      if (!up) {
        if (attempt < 3 && /already in use/.test(p.stderr())) continue;
        assert.fail(`pgscope exited: ${p.stderr()}`);
      }
      // The readiness probe above was connection #1 (it connected and hung up).
      assert.equal(await psqlOk(server, port, 'SELECT 1', { params: TLS }), '1');
      // The log goes to the file, promptly, while pgscope runs.
      // (Only this run's part of the file counts: from its own "listening on" line.)
      const thisRun = (): string => {
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
        const at = text.lastIndexOf(`listening on 127.0.0.1:${port},`);
        return at < 0 ? '' : text.slice(at);
      };
      await eventually(() => /^#1  connection end$/m.test(thisRun()) && /^#2  connection end$/m.test(thisRun()), `the end of #1 and #2 in ${file}`);
      assert.equal(p.output(), '', 'nothing on stdout with -l');
      assert.equal(await p.stop(), 0);
      return port;
    }
  }

  it('-l appends across runs; -c empties the file first', T, async () => {
    const file = join(dir, 'pgscope.log');
    const port1 = await oneRun(file, []);
    const port2 = await oneRun(file, []);
    const both = readFileSync(file, 'utf8');
    const listening = both.split('\n').filter((l) => l.startsWith('listening on '));
    assert.deepEqual(
      listening.map((l) => Number(/:(\d+),/.exec(l)![1])),
      [port1, port2],
      'both runs, in order',
    );
    assert.match(both, /^received SIGTERM\nstopping: closing the listener\n[\s\S]*listening on/m, 'the first run ended before the second began');
    assert.ok(both.endsWith('stopping: closing the listener\n'), `the last status line was flushed: ${JSON.stringify(both.slice(-300))}`);

    const port3 = await oneRun(file, ['-c']);
    const cleared = readFileSync(file, 'utf8');
    assert.deepEqual(cleared.split('\n').filter((l) => l.startsWith('listening on ')), [cleared.split('\n').find((l) => l.startsWith('listening on '))!]);
    assert.match(cleared, new RegExp(`^listening on 127\\.0\\.0\\.1:${port3},`, 'm'));
    assert.doesNotMatch(cleared, new RegExp(`127\\.0\\.0\\.1:${port1},`));
  });
});

describe('the process', () => {
  it('output written to a pipe shows up while pgscope is still running', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend()]);
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { params: TLS }), '1');
    await connectionEnded(p, 1);
    assert.equal(p.child.exitCode, null, 'still running: the log was not held back until exit');
    assert.match(p.output(), /^#1  server -> client: "Z" = ReadyForQuery/m);
  });

  const mistakes: { args: string[]; names: RegExp }[] = [
    { args: ['--bogus'], names: /--bogus/ },
    { args: ['--server-sslmode', 'maybe'], names: /--server-sslmode.*maybe/ },
    { args: ['-p', '70000'], names: /--client-listen-port.*70000/ },
    { args: ['--log-forwarded', 'verbose'], names: /--log-forwarded.*verbose/ },
    { args: ['--client-listen-ip', 'not-an-ip'], names: /--client-listen-ip.*not-an-ip/ },
    { args: ['--client-cert-sig', 'dsa'], names: /--client-cert-sig.*dsa/ },
    { args: ['db.example:notaport'], names: /BACKEND.*notaport/ },
    { args: ['--client-ssl-cert', '/nonexistent/c.pem'], names: /--client-ssl-cert needs --client-ssl-key/ },
    { args: ['-c'], names: /--clear needs -l\/--logfile/ },
    { args: ['--server-channel-binding', 'always'], names: /--server-channel-binding.*always/ },
    { args: ['--client-ca', '--client-deny-ssl'], names: /--client-ca has nothing to sign/ },
    { args: ['--filter', 'DataRoww'], names: /--filter: .*DataRoww/ },
    { args: ['--pcap', '-'], names: /--pcap: expected a file path/ },
    { args: ['--jsonl', '/nonexistent/dir/out.jsonl'], names: /--jsonl: cannot open "\/nonexistent\/dir\/out\.jsonl"/ },
    { args: ['--server-sslmode', 'verify-ca'], names: /--server-sslmode verify-ca needs trusted root certificates/ },
    { args: ['--server-sslmode', 'verify-full', '--server-sslrootcert', '/nonexistent/root.crt'], names: /\/nonexistent\/root\.crt/ },
    { args: ['--client-ssl-cert', '/nonexistent/c.pem', '--client-ssl-key', '/nonexistent/k.pem'], names: /--client-ssl-cert.*\/nonexistent\/c\.pem/ },
    { args: ['--client-sslkeylogfile', '/nonexistent/dir/keys'], names: /\/nonexistent\/dir\/keys/ },
    { args: ['-l', '/nonexistent/dir/pgscope.log'], names: /--logfile.*\/nonexistent\/dir\/pgscope\.log/ },
  ];
  it('a bad flag or value: status 2 and exactly one line on stderr naming it, nothing on stdout', T, async () => {
    const results = await Promise.all(mistakes.map((m) => runPgscope(['-p', '0', '--bw', '--client-cert-sig', 'ecdsa', ...m.args]).then((r) => ({ m, r }))));
    for (const { m, r } of results) {
      const what = `pgscope ${m.args.join(' ')}`;
      assert.equal(r.code, 2, `${what}: status (stderr: ${r.stderr})`);
      assert.equal(r.stdout, '', `${what}: stdout`);
      const lines = r.stderr.split('\n');
      assert.equal(lines.length, 2, `${what}: one line: ${JSON.stringify(r.stderr)}`);
      assert.equal(lines[1], '');
      assert.match(lines[0]!, /^pgscope: /, what);
      assert.match(lines[0]!, m.names, what);
    }
  });

  it('a listening port in use: status 1, one line saying so', T, async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (blocker.address() as { port: number }).port;
      const r = await runPgscope(['-p', String(port), '--bw', '--client-cert-sig', 'ecdsa', backend()]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `pgscope: cannot listen on 127.0.0.1:${port}: the address is already in use (try -p with another port)\n`);
    } finally {
      blocker.close();
    }
  });

  it('--help and --version: status 0 on stdout', T, async () => {
    const v = await runPgscope(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^pgscope \d+\.\d+\.\d+\n$/);
    const h = await runPgscope(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: pgscope \[options\] \[BACKEND\]/);
    for (const flag of ['server-sslmode', 'server-sslnegotiation', 'client-deny-ssl', 'log-forwarded', 'quit-on-hangup', 'allow-self-loop', 'client-sslkeylogfile']) assert.match(h.stdout, new RegExp(`--(\\[no-\\])?${flag}\\b`), flag);
    assert.equal(h.stderr, '');
  });

  it('--help piped into a reader that stops early (| head -1): no crash, status 0', T, async () => {
    // The reader exits after one line, often before pgscope has written everything: EPIPE.
    for (let i = 0; i < 3; i++) {
      const r = await run('bash', ['-c', `set -o pipefail; "${process.execPath}" "${PGSCOPE_BIN}" --help | head -1`], { allowFailure: true, timeoutMs: WAIT_MS });
      assert.equal(r.stdout, 'Usage: pgscope [options] [BACKEND]\n');
      assert.equal(r.stderr, '', 'no stack trace');
      assert.equal(r.code, 0);
    }
  });

  it('--quit-on-hangup: exits 0 once the first connection has ended', T, async () => {
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', '--quit-on-hangup', backend()]);
    assert.equal(await psqlOk(server, p.port, 'SELECT 1', { params: TLS }), '1');
    assert.equal(await p.exited, 0);
    const lines = p.output().trimEnd().split('\n');
    assertInOrder(lines, [/^#1  connection end$/, /^the first connection ended \(--quit-on-hangup\): exiting$/, /^stopping: closing the listener$/]);
    assert.equal(lines.at(-1), 'stopping: closing the listener');
    assert.equal(p.stderr(), '');
    assert.equal(await portAnswers(p.port), false);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: exit 0, open connections ended, the log flushed to its last line`, T, async () => {
      const p = await scopes.start(['--client-cert-sig', 'ecdsa', backend()]);
      assert.equal(await psqlOk(server, p.port, 'SELECT 1', { params: TLS }), '1');
      await connectionEnded(p, 1);
      // A second client stays connected (authenticated, idle) while the signal arrives.
      const c = await RawClient.connect(p.port);
      try {
        await c.startup({ user: 'postgres', database: 'postgres', password: server.password });
        await p.waitFor(/^#2  server -> client: "Z" = ReadyForQuery/, WAIT_MS);
        p.child.kill(signal);
        assert.equal(await p.exited, 0);
        await c.waitClosed(WAIT_MS);
      } finally {
        c.destroy();
      }
      const lines = p.output().trimEnd().split('\n');
      assertInOrder(lines, [/^#1  connection end$/, new RegExp(`^received ${signal}$`), /^stopping: closing the listener$/, /^#2  connection end$/]);
      assert.equal(lines.at(-1), '#2  connection end', 'the log was flushed to its last line');
      assert.equal(p.stderr(), '');
    });
  }

  it('an unreachable server (closed port): the client gets ErrorResponse 08001 naming host and port; pgscope keeps serving', T, async () => {
    const closed = await freePort();
    const p = await scopes.start(['--client-cert-sig', 'ecdsa', `127.0.0.1:${closed}`]);
    const c = await RawClient.connect(p.port);
    try {
      await assert.rejects(c.startup({ user: 'postgres', database: 'postgres' }), (e: unknown) => {
        assert.ok(e instanceof PgError);
        assert.equal(e.fields['S'], 'FATAL');
        assert.equal(e.fields['C'], '08001');
        assert.match(e.fields['M'] ?? '', new RegExp(`^pgscope: could not connect to server 127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`));
        return true;
      });
      await c.waitClosed(WAIT_MS);
    } finally {
      c.destroy();
    }
    const heads = connHeads(await connectionEnded(p, 1), 1);
    assertInOrder(heads, [new RegExp(`connecting to server 127\\.0\\.0\\.1:${closed}`), /could not connect to server/, /script -> client: "E" = ErrorResponse/, /connection end/]);
    // The next connection (psql over TLS this time) is served the same way.
    const r = await psqlVia(server, p.port, 'SELECT 1', { params: TLS });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`FATAL: {1,2}pgscope: could not connect to server 127\\.0\\.0\\.1:${closed}`));
    await connectionEnded(p, 2);
    assert.equal(p.child.exitCode, null);
  });
});
